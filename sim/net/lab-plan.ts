/**
 * The lab's addressing plan: names of namespaces and links, IPv4 addresses and MACs. Pure: the same
 * lab id and subnet index always give the same plan, so `sim down` can recompute nothing and simply
 * read what `sim up` recorded.
 *
 * Layout, per lab (one `sim up`):
 * - a Linux bridge in the host namespace, the "lab access point", holding 10.213.N.1/24;
 * - one namespace per phone, joined to the bridge by a veth (phone side named wlan0), 10.213.N.10+i;
 * - one "simulated internet" namespace on the bridge at 10.213.N.2, which also owns every address of
 *   10.213.128.0/17 (an AnyIP local route), the range the lab DNS answers with. Phones route only that
 *   range to it: there is no default route and no NAT anywhere, so nothing can leave the lab.
 */
import { createHash } from 'node:crypto';

/** The range the lab DNS hands out for every name; owned by the internet namespace. */
export const INTERNET_CIDR = '10.213.128.0/17';

/** One simulated phone's place in the lab. */
export interface PhonePlan {
  /** 0-based phone index in this lab. */
  index: number;
  /** Network namespace the phone's processes run in. */
  ns: string;
  /** Host-side end of the phone's veth (a bridge port): the interface to capture this phone alone on. */
  hostIf: string;
  /** Interface name inside the phone's namespace. */
  phoneIf: string;
  /** The phone's IPv4 address. */
  ip: string;
  /** The phone's MAC address (locally administered, as Android's randomised Wi-Fi MACs are). */
  mac: string;
}

/** The whole lab of one `sim up`. */
export interface LabPlan {
  /** Short id that prefixes every name this lab creates (namespaces, links). */
  id: string;
  /** Third octet N of the lab LAN 10.213.N.0/24. */
  subnetIndex: number;
  /** Name of the lab access point bridge in the host namespace. */
  bridge: string;
  /** Host address on the bridge (the lab host), with prefix length. */
  hostCidr: string;
  /** Host address on the bridge. */
  hostIp: string;
  /** The simulated internet's namespace. */
  internetNs: string;
  /** Host-side end of the internet namespace's veth. */
  internetHostIf: string;
  /** The internet namespace's LAN address: the phones' DNS server and their gateway to INTERNET_CIDR. */
  internetIp: string;
  /** The phones, in order. */
  phones: PhonePlan[];
}

/** A lab id from anything unique (e.g. the state directory): "phl" and 4 hex digits. */
export function labIdFor(seed: string): string {
  return `phl${createHash('sha256').update(seed).digest('hex').slice(0, 4)}`;
}

/** Lays out a lab with `phoneCount` phones on subnet 10.213.`subnetIndex`.0/24. */
export function planLab(id: string, subnetIndex: number, phoneCount: number): LabPlan {
  if (!/^[a-z][a-z0-9]{1,8}$/.test(id))
    throw new RangeError(`lab id "${id}" must be 2-9 lower-case letters/digits`);
  if (!Number.isInteger(subnetIndex) || subnetIndex < 1 || subnetIndex > 127)
    throw new RangeError(`subnet index ${subnetIndex} is outside 1..127`);
  if (phoneCount > 200) throw new RangeError('at most 200 phones per lab');
  const net = `10.213.${subnetIndex}`;
  const macBase = createHash('sha256').update(id).digest();
  const phones: PhonePlan[] = [];
  for (let i = 0; i < phoneCount; i++) {
    const mac = [0x02, 0x50, macBase[0]!, macBase[1]!, subnetIndex, 10 + i]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join(':');
    phones.push({
      index: i,
      ns: `${id}-phone${i}`,
      hostIf: `${id}p${i}`,
      phoneIf: 'wlan0',
      ip: `${net}.${10 + i}`,
      mac,
    });
  }
  return {
    id,
    subnetIndex,
    bridge: `${id}ap`,
    hostCidr: `${net}.1/24`,
    hostIp: `${net}.1`,
    internetNs: `${id}-inet`,
    internetHostIf: `${id}in`,
    internetIp: `${net}.2`,
    phones,
  };
}

/**
 * Where the simulated internet places the real hosts it stands in for: one /20 of INTERNET_CIDR per
 * place, so that the lab's override file (devices/sim/geo-overrides.yaml, one entry per region) can
 * give their addresses the countries and networks the real hosts have (../shared/reference/ENDPOINTS.md):
 * Xiaomi's international services in Singapore, Google in the US, the misbehaving profiles' unlisted
 * collector in mainland China. Names no region lists go to the first /20.
 */
export const INTERNET_REGIONS: readonly { name: string; cidr: string; domains: readonly string[] }[] = [
  { name: 'elsewhere', cidr: '10.213.128.0/20', domains: [] },
  {
    name: 'xiaomi-singapore',
    cidr: '10.213.144.0/20',
    domains: ['xiaomi.com', 'xiaomi.net', 'miui.com', 'mi-img.com'],
  },
  {
    name: 'google-us',
    cidr: '10.213.160.0/20',
    domains: ['google.com', 'googleapis.com', 'gstatic.com', 'app-measurement.com'],
  },
  { name: 'collector-cn', cidr: '10.213.176.0/20', domains: ['unlisted-collector.net'] },
];

/**
 * The address the lab DNS gives a name: stable per name, inside its region's /20 of INTERNET_CIDR
 * (never .0 or .255 of a /24, so no tool mistakes it for a network or broadcast address).
 */
export function internetAddressFor(name: string): string {
  const n = name.toLowerCase().replace(/\.$/, '');
  const region =
    INTERNET_REGIONS.find((r) => r.domains.some((d) => n === d || n.endsWith(`.${d}`))) ??
    INTERNET_REGIONS[0]!;
  const base = Number(region.cidr.split('.')[2]);
  const h = createHash('sha256').update(n).digest();
  const b = base + (h[0]! & 0x0f);
  const c = 1 + (h[1]! % 254);
  return `10.213.${b}.${c}`;
}

/** True when an IPv4 address belongs to a lab: a lab LAN or the simulated internet. */
export function isLabAddress(ip: string): boolean {
  return /^10\.213\.\d{1,3}\.\d{1,3}$/.test(ip);
}
