/**
 * Who is on the other end of a flow, in the words a privacy review uses: the phone's maker (first
 * party: its device profile's `maker` domains and networks), the platform (Google's services on an
 * Android phone), support (CDN and cloud networks that host others' services) or a third party, plus
 * `local` for the lab's own network. Each label comes with its reason. The first rule that fits
 * decides, names before networks: a maker's name on a cloud network is still the maker.
 *
 * The platform and support lists are data kept here, next to the special ranges, rather than in a
 * file read at start-up: `phonehome analyze` labels every flow, and reading YAML costs it more time
 * than every lookup together (BENCHMARKS.md). AS numbers and names as @ip-location-db/asn lists them.
 */
import type { Party } from '../flows/flow.js';

export type { Party } from '../flows/flow.js';
export const PARTIES: readonly Party[] = ['first', 'platform', 'support', 'third', 'local'];

/** Who runs some domains and networks. */
export interface Owner {
  /** How reports name it. */
  name: string;
  /** Domains it runs: the domain itself and every name under it (lower case). */
  domains: readonly string[];
  /** Networks it runs. */
  asns: readonly number[];
}

/** Google's services on an Android phone: Play services' check-in, Firebase, clearcut logging, connectivity checks, location (ENDPOINTS.md). */
export const PLATFORM: Owner = {
  name: 'Google services on Android',
  domains: [
    'google.com',
    'googleapis.com',
    'gstatic.com',
    'android.com',
    'gvt1.com',
    'gvt2.com',
    'ggpht.com',
    'googleusercontent.com',
    'app-measurement.com',
    'firebaseio.com',
    'crashlytics.com',
    'doubleclick.net',
    'googlesyndication.com',
    'googleadservices.com',
    'youtube.com',
    'ytimg.com',
    '1e100.net',
  ],
  // Google LLC (15169), Google's edge and YouTube (36040, 36384, 43515). Google Cloud (396982) hosts
  // others' services: it is support.
  asns: [15169, 36040, 36384, 43515],
};

/** CDN and cloud networks: what runs there is someone else's service, hosted. */
export const SUPPORT: ReadonlyMap<number, string> = new Map([
  [13335, 'Cloudflare'],
  [209242, 'Cloudflare'],
  [20940, 'Akamai'],
  [16625, 'Akamai'],
  [54113, 'Fastly'],
  [16509, 'Amazon AWS'],
  [14618, 'Amazon AWS'],
  [8075, 'Microsoft Azure'],
  [8068, 'Microsoft'],
  [396982, 'Google Cloud'],
  [45102, 'Alibaba Cloud'],
  [37963, 'Alibaba Cloud (Hangzhou)'],
  [134963, 'Alibaba Cloud'],
  [45090, 'Tencent Cloud'],
  [132203, 'Tencent Cloud'],
  [136907, 'Huawei Cloud'],
  [55990, 'Huawei Cloud'],
  [59019, 'Kingsoft Cloud'],
  [137280, 'Kingsoft Cloud'],
  [15133, 'Edgio (Edgecast)'],
  [22822, 'Edgio (Limelight)'],
  [60068, 'CDN77'],
  [21859, 'Zenlayer'],
  [31898, 'Oracle Cloud'],
  [14061, 'DigitalOcean'],
  [24940, 'Hetzner'],
  [16276, 'OVHcloud'],
]);

/** What labelling needs about one flow's responder. */
export interface PartySubject {
  /** The responder's names (SNI, Host, DNS), valid host names only. */
  names: readonly string[];
  asn?: number;
  /** The special-purpose block's name when the address is one (private, link-local …). */
  special?: string;
  /** An override's organisation and note, when one applies. */
  override?: { org?: string; note: string };
}

/** A label and why. */
export interface PartyLabel {
  party: Party;
  why: string;
}

/** Labels flows for one phone (its maker may be unknown: then nothing is first party). */
export class PartyLabeller {
  constructor(private readonly maker?: Owner) {}

  label(s: PartySubject): PartyLabel {
    if (s.special !== undefined && !s.override) return { party: 'local', why: `${s.special}, not routed` };
    const maker = this.maker;
    if (maker) {
      const d = ownedName(maker, s.names);
      if (d) return { party: 'first', why: `${d.name} is under ${d.domain}, ${maker.name}'s domain` };
    }
    const p = ownedName(PLATFORM, s.names);
    if (p) return { party: 'platform', why: `${p.name} is under ${p.domain}, ${PLATFORM.name}` };
    if (maker && s.asn !== undefined && maker.asns.includes(s.asn))
      return { party: 'first', why: `AS${s.asn} is ${maker.name}'s network` };
    if (s.asn !== undefined && PLATFORM.asns.includes(s.asn))
      return { party: 'platform', why: `AS${s.asn} is ${PLATFORM.name}'s network` };
    if (s.asn !== undefined) {
      const cdn = SUPPORT.get(s.asn);
      if (cdn) return { party: 'support', why: `AS${s.asn} is ${cdn}, a CDN or cloud network` };
    }
    if (s.override?.org)
      return {
        party: 'third',
        why: `${s.override.org} (lab override): no maker, platform or support rule fits`,
      };
    return { party: 'third', why: 'no maker, platform or support rule fits' };
  }
}

function ownedName(owner: Owner, names: readonly string[]): { name: string; domain: string } | undefined {
  for (const name of names) {
    const n = name.toLowerCase().replace(/\.$/, '');
    for (const d of owner.domains) if (n === d || n.endsWith(`.${d}`)) return { name: n, domain: d };
  }
  return undefined;
}
