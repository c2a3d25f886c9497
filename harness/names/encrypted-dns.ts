/**
 * Whether a flow carries encrypted DNS, which hides the names a phone looks up from the capture:
 * DNS over TLS (RFC 7858) and DNS over QUIC (RFC 9250) by their ports, DNS over HTTPS (RFC 8484)
 * by the resolver it goes to, since on port 443 it looks like any other HTTPS.
 */

/** A public DNS-over-HTTPS service, as it appears on the wire. */
export interface KnownResolver {
  /** Who runs it. */
  operator: string;
  /** Server names its DoH endpoints use in SNI (lower case). */
  names: string[];
  /** Suffixes of per-user or per-profile names (e.g. "abc123.dns.nextdns.io"), matched after a dot. */
  suffixes: string[];
  /** Its anycast addresses, canonical text form (what a phone dials when configured by IP). */
  addrs: string[];
}

/**
 * Well-known public resolvers, from each operator's own setup pages. A flow on 443 to one of
 * these names or addresses is taken for DoH; their plain web sites share some of the names
 * (one.one.one.one), which is acceptable: a phone has no business there either way.
 */
export const KNOWN_RESOLVERS: readonly KnownResolver[] = [
  {
    operator: 'Google Public DNS',
    names: ['dns.google', 'dns.google.com', '8888.google', 'dns64.dns.google'],
    suffixes: [],
    addrs: ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888', '2001:4860:4860::8844', '2001:4860:4860::64'],
  },
  {
    operator: 'Cloudflare 1.1.1.1',
    names: [
      'cloudflare-dns.com',
      'one.one.one.one',
      '1dot1dot1dot1.cloudflare-dns.com',
      'security.cloudflare-dns.com',
      'family.cloudflare-dns.com',
      'mozilla.cloudflare-dns.com',
      'chrome.cloudflare-dns.com',
    ],
    suffixes: ['cloudflare-gateway.com'],
    addrs: [
      '1.1.1.1',
      '1.0.0.1',
      '1.1.1.2',
      '1.0.0.2',
      '1.1.1.3',
      '1.0.0.3',
      '2606:4700:4700::1111',
      '2606:4700:4700::1001',
      '2606:4700:4700::1112',
      '2606:4700:4700::1002',
      '2606:4700:4700::1113',
      '2606:4700:4700::1003',
    ],
  },
  {
    operator: 'Quad9',
    names: ['dns.quad9.net', 'dns9.quad9.net', 'dns10.quad9.net', 'dns11.quad9.net', 'dns12.quad9.net'],
    suffixes: [],
    addrs: [
      '9.9.9.9',
      '149.112.112.112',
      '9.9.9.10',
      '149.112.112.10',
      '9.9.9.11',
      '149.112.112.11',
      '2620:fe::fe',
      '2620:fe::9',
      '2620:fe::10',
      '2620:fe::fe:10',
      '2620:fe::11',
      '2620:fe::fe:11',
    ],
  },
  {
    operator: 'Cisco OpenDNS',
    names: ['doh.opendns.com', 'doh.familyshield.opendns.com', 'doh.sandbox.opendns.com'],
    suffixes: [],
    addrs: [
      '208.67.222.222',
      '208.67.220.220',
      '208.67.222.123',
      '208.67.220.123',
      '2620:119:35::35',
      '2620:119:53::53',
    ],
  },
  {
    operator: 'NextDNS',
    names: ['dns.nextdns.io'],
    suffixes: ['dns.nextdns.io'],
    addrs: ['45.90.28.0', '45.90.30.0', '2a07:a8c0::', '2a07:a8c1::'],
  },
  {
    operator: 'AdGuard DNS',
    names: ['dns.adguard-dns.com', 'unfiltered.adguard-dns.com', 'family.adguard-dns.com', 'dns.adguard.com'],
    suffixes: ['d.adguard-dns.com'],
    addrs: [
      '94.140.14.14',
      '94.140.15.15',
      '94.140.14.140',
      '94.140.14.141',
      '94.140.14.15',
      '94.140.15.16',
      '2a10:50c0::ad1:ff',
      '2a10:50c0::ad2:ff',
      '2a10:50c0::1:ff',
      '2a10:50c0::2:ff',
      '2a10:50c0::bad1:ff',
      '2a10:50c0::bad2:ff',
    ],
  },
  {
    operator: 'CleanBrowsing',
    names: ['doh.cleanbrowsing.org'],
    suffixes: ['doh.cleanbrowsing.org'],
    addrs: [
      '185.228.168.9',
      '185.228.169.9',
      '185.228.168.10',
      '185.228.169.11',
      '185.228.168.168',
      '185.228.169.168',
    ],
  },
  {
    operator: 'Mullvad DNS',
    names: [
      'dns.mullvad.net',
      'adblock.dns.mullvad.net',
      'base.dns.mullvad.net',
      'extended.dns.mullvad.net',
      'family.dns.mullvad.net',
      'all.dns.mullvad.net',
    ],
    suffixes: [],
    addrs: [
      '194.242.2.2',
      '194.242.2.3',
      '194.242.2.4',
      '194.242.2.5',
      '194.242.2.6',
      '194.242.2.9',
      '2a07:e340::2',
    ],
  },
  {
    operator: 'Control D',
    names: ['freedns.controld.com', 'dns.controld.com'],
    suffixes: ['dns.controld.com'],
    addrs: ['76.76.2.0', '76.76.10.0', '2606:1a40::', '2606:1a40:1::'],
  },
  {
    operator: 'Alibaba AliDNS',
    names: ['dns.alidns.com'],
    suffixes: [],
    addrs: ['223.5.5.5', '223.6.6.6', '2400:3200::1', '2400:3200:baba::1'],
  },
  {
    operator: 'Tencent DNSPod',
    names: ['doh.pub', 'dns.pub', 'sm2.doh.pub'],
    suffixes: [],
    addrs: ['1.12.12.12', '120.53.53.53'],
  },
  {
    operator: 'Qihoo 360',
    names: ['doh.360.cn'],
    suffixes: [],
    addrs: [],
  },
  {
    operator: 'Comcast Xfinity',
    names: ['doh.xfinity.com'],
    suffixes: [],
    addrs: [],
  },
];

/** Dedicated ports: DoT TCP 853 (RFC 7858); DoQ UDP 853 (RFC 9250), and 784 and 8853 used by early DoQ drafts. */
const DOT_TCP_PORTS = new Set([853]);
const DOQ_UDP_PORTS = new Set([853, 784, 8853]);
const HTTPS_PORT = 443;

const byName = new Set(KNOWN_RESOLVERS.flatMap((r) => r.names));
const bySuffix = KNOWN_RESOLVERS.flatMap((r) => r.suffixes.map((s) => `.${s}`));
const byAddr = new Set(KNOWN_RESOLVERS.flatMap((r) => r.addrs));

/** The known resolver a server name or address belongs to, if any. */
export function knownResolver(nameOrAddr: string): KnownResolver | undefined {
  const key = nameOrAddr.toLowerCase();
  return KNOWN_RESOLVERS.find(
    (r) => r.names.includes(key) || r.addrs.includes(key) || r.suffixes.some((s) => key.endsWith(`.${s}`)),
  );
}

/** Which kind of encrypted DNS a flow carries, by transport, responder port, address and SNI. */
export function encryptedDnsKind(f: {
  proto: string;
  respAddr: string;
  respPort: number;
  sni?: string;
}): 'dot' | 'doh' | 'doq' | undefined {
  if (f.proto === 'tcp' && DOT_TCP_PORTS.has(f.respPort)) return 'dot';
  if (f.proto === 'udp' && DOQ_UDP_PORTS.has(f.respPort)) return 'doq';
  if ((f.proto !== 'tcp' && f.proto !== 'udp') || f.respPort !== HTTPS_PORT) return undefined;
  if (f.sni !== undefined) {
    const sni = f.sni.toLowerCase();
    if (byName.has(sni) || bySuffix.some((s) => sni.endsWith(s))) return 'doh';
    // A name that is not a resolver's wins over the address: 1.1.1.1 also serves plain web sites.
    return undefined;
  }
  return byAddr.has(f.respAddr.toLowerCase()) ? 'doh' : undefined;
}
