/**
 * Addresses no location database may answer for: private, loopback, link-local, shared (CGNAT),
 * documentation, benchmarking, multicast and the other special-purpose blocks of the IANA IPv4 and
 * IPv6 registries (RFC 6890 and the RFCs each entry names). Such an address is named for what it is,
 * never given a country. An IPv4 address inside IPv6 (IPv4-mapped `::ffff:0:0/96`, NAT64
 * `64:ff9b::/96`) is judged as the IPv4 address it carries. Pure: text in, answer out.
 */
import { type IpPrefix, parseCidr, prefixContains } from '../packets/ip-prefix.js';
import { parseIp } from '../packets/ip-text.js';

/** What kind of special address: the word a report shows instead of a country. */
export type SpecialKind =
  | 'unspecified'
  | 'this-network'
  | 'private'
  | 'shared'
  | 'loopback'
  | 'link-local'
  | 'protocol'
  | 'documentation'
  | 'benchmarking'
  | 'multicast'
  | 'reserved'
  | 'broadcast'
  | 'anycast'
  | 'unique-local'
  | 'discard'
  | 'translation'
  | 'tunnel';

export interface SpecialRange {
  /** The block, as the registry writes it. */
  cidr: string;
  kind: SpecialKind;
  /** Its name in the registry, e.g. "Shared Address Space". */
  name: string;
  /** Where it is defined. */
  rfc: string;
}

const TABLE: SpecialRange[] = [
  { cidr: '0.0.0.0/8', kind: 'this-network', name: '"This network"', rfc: 'RFC 791' },
  { cidr: '10.0.0.0/8', kind: 'private', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '100.64.0.0/10', kind: 'shared', name: 'Shared Address Space (CGNAT)', rfc: 'RFC 6598' },
  { cidr: '127.0.0.0/8', kind: 'loopback', name: 'Loopback', rfc: 'RFC 1122' },
  { cidr: '169.254.0.0/16', kind: 'link-local', name: 'Link Local', rfc: 'RFC 3927' },
  { cidr: '172.16.0.0/12', kind: 'private', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '192.0.0.0/24', kind: 'protocol', name: 'IETF Protocol Assignments', rfc: 'RFC 6890' },
  { cidr: '192.0.2.0/24', kind: 'documentation', name: 'Documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { cidr: '192.31.196.0/24', kind: 'anycast', name: 'AS112-v4', rfc: 'RFC 7535' },
  { cidr: '192.52.193.0/24', kind: 'anycast', name: 'AMT', rfc: 'RFC 7450' },
  { cidr: '192.88.99.0/24', kind: 'reserved', name: 'Deprecated (6to4 Relay Anycast)', rfc: 'RFC 7526' },
  { cidr: '192.168.0.0/16', kind: 'private', name: 'Private-Use', rfc: 'RFC 1918' },
  { cidr: '192.175.48.0/24', kind: 'anycast', name: 'Direct Delegation AS112 Service', rfc: 'RFC 7534' },
  { cidr: '198.18.0.0/15', kind: 'benchmarking', name: 'Benchmarking', rfc: 'RFC 2544' },
  { cidr: '198.51.100.0/24', kind: 'documentation', name: 'Documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { cidr: '203.0.113.0/24', kind: 'documentation', name: 'Documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { cidr: '224.0.0.0/4', kind: 'multicast', name: 'Multicast', rfc: 'RFC 5771' },
  { cidr: '240.0.0.0/4', kind: 'reserved', name: 'Reserved', rfc: 'RFC 1112' },
  { cidr: '255.255.255.255/32', kind: 'broadcast', name: 'Limited Broadcast', rfc: 'RFC 919' },
  { cidr: '::/128', kind: 'unspecified', name: 'Unspecified Address', rfc: 'RFC 4291' },
  { cidr: '::1/128', kind: 'loopback', name: 'Loopback Address', rfc: 'RFC 4291' },
  { cidr: '64:ff9b:1::/48', kind: 'translation', name: 'IPv4-IPv6 Translat. (local use)', rfc: 'RFC 8215' },
  { cidr: '100::/64', kind: 'discard', name: 'Discard-Only Address Block', rfc: 'RFC 6666' },
  { cidr: '2001::/32', kind: 'tunnel', name: 'TEREDO', rfc: 'RFC 4380' },
  { cidr: '2001::/23', kind: 'protocol', name: 'IETF Protocol Assignments', rfc: 'RFC 2928' },
  { cidr: '2001:db8::/32', kind: 'documentation', name: 'Documentation', rfc: 'RFC 3849' },
  { cidr: '2002::/16', kind: 'tunnel', name: '6to4', rfc: 'RFC 3056' },
  { cidr: '3fff::/20', kind: 'documentation', name: 'Documentation', rfc: 'RFC 9637' },
  { cidr: '5f00::/16', kind: 'reserved', name: 'Segment Routing (SRv6) SIDs', rfc: 'RFC 9602' },
  { cidr: 'fc00::/7', kind: 'unique-local', name: 'Unique-Local', rfc: 'RFC 4193' },
  { cidr: 'fe80::/10', kind: 'link-local', name: 'Link-Local Unicast', rfc: 'RFC 4291' },
  { cidr: 'ff00::/8', kind: 'multicast', name: 'Multicast', rfc: 'RFC 4291' },
];

interface Block {
  prefix: IpPrefix;
  range: SpecialRange;
}

/** The table parsed once, longest prefix first (TEREDO before the IETF block that holds it). */
const BLOCKS: Block[] = TABLE.map((range) => {
  const parsed = parseCidr(range.cidr);
  if (!parsed.ok) throw new Error(`special-ranges: ${range.cidr} ${parsed.problem}`);
  return { prefix: parsed.prefix, range };
}).sort((a, b) => b.prefix.bits - a.prefix.bits);

/** The IPv4 address an IPv6 one carries (IPv4-mapped, NAT64 well-known prefix), if any. */
export function carriedIpv4(ip: Uint8Array): Uint8Array | undefined {
  if (ip.length !== 16) return undefined;
  const mapped = ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  const nat64 =
    ip[0] === 0x00 &&
    ip[1] === 0x64 &&
    ip[2] === 0xff &&
    ip[3] === 0x9b &&
    ip.subarray(4, 12).every((b) => b === 0);
  return mapped || nat64 ? ip.slice(12, 16) : undefined;
}

/**
 * The special-purpose block an address is in, or undefined for an ordinary (global unicast) one.
 * Throws on text that is no IP address: a caller never guesses about what it could not read.
 */
export function specialRange(address: string): SpecialRange | undefined {
  const parsed = parseIp(address);
  if (!parsed) throw new Error(`not an IP address: ${JSON.stringify(address)}`);
  const ip = carriedIpv4(parsed) ?? parsed;
  for (const b of BLOCKS) if (prefixContains(b.prefix, ip)) return b.range;
  // IANA's IPv6 address space: only 2000::/3 is global unicast; the rest not listed above is
  // reserved by the IETF and no network announces it.
  if (ip.length === 16 && (ip[0]! & 0xe0) !== 0x20) return IPV6_RESERVED;
  return undefined;
}

const IPV6_RESERVED: SpecialRange = {
  cidr: '::/0 outside 2000::/3',
  kind: 'reserved',
  name: 'Reserved by IETF (outside global unicast 2000::/3)',
  rfc: 'RFC 4291',
};
