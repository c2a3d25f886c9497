/**
 * Who is on the other end of a flow, in the words a privacy review uses: the phone's maker (first
 * party), the platform (Google's services on an Android phone), support (CDN and cloud networks that
 * host others' services) or a third party, plus `local` for the lab's own network. Each label comes
 * with its reason. The lists are data (devices/parties.yaml); the first rule that fits decides, names
 * before networks: a maker's name on a cloud network is still the maker.
 */
import { z } from 'zod';
import { parseYamlConfig } from '../config/yaml-config.js';
import type { Party } from '../flows/flow.js';

export type { Party } from '../flows/flow.js';
export const PARTIES: readonly Party[] = ['first', 'platform', 'support', 'third', 'local'];

const domain = z
  .string()
  .regex(
    /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    'a domain in lower case, such as xiaomi.com',
  );
const asn = z.number().int().min(1, 'an AS number from 1').max(4294967295, 'an AS number up to 4294967295');

const ownerSchema = z.strictObject({
  /** How reports name it. */
  name: z.string().trim().min(1, 'a name'),
  /** Domains it runs: the domain itself and every name under it. */
  domains: z.array(domain).default([]),
  /** Networks it runs. */
  asns: z.array(asn).default([]),
});

export const partiesFileSchema = z.strictObject({
  description: z.string().optional(),
  /** Phone makers by key; a device profile names its maker with `maker: KEY`. */
  makers: z.record(
    z.string().regex(/^[a-z0-9-]+$/, 'a key of lower-case letters, digits and hyphens'),
    ownerSchema,
  ),
  /** The platform's services (Google on Android). */
  platform: ownerSchema,
  /** CDN and cloud networks. */
  support: z.array(z.strictObject({ asn, name: z.string().trim().min(1, 'a name') })),
});

export type PartiesFile = z.infer<typeof partiesFileSchema>;
export type Owner = z.infer<typeof ownerSchema>;

/** Reads devices/parties.yaml; throws ConfigError at the offending line. */
export function parseParties(text: string, file: string): PartiesFile {
  return parseYamlConfig(text, file, partiesFileSchema).data;
}

/** What labelling needs about one flow's responder. */
export interface PartySubject {
  /** The responder's names (SNI, Host, DNS), valid host names only. */
  names: readonly string[];
  asn?: number;
  asOrg?: string;
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
  private readonly support: Map<number, string>;

  constructor(
    private readonly parties: PartiesFile,
    private readonly maker?: Owner,
  ) {
    this.support = new Map(parties.support.map((s) => [s.asn, s.name]));
  }

  /** The maker for a profile's `maker` key, or undefined when the file does not list it. */
  static makerOf(parties: PartiesFile, key: string | undefined): Owner | undefined {
    return key === undefined ? undefined : parties.makers[key];
  }

  label(s: PartySubject): PartyLabel {
    if (s.special !== undefined && !s.override)
      return { party: 'local', why: `${s.special}: not routed on the internet` };
    const maker = this.maker;
    if (maker) {
      const d = ownedName(maker, s.names);
      if (d) return { party: 'first', why: `${d.name} is under ${d.domain}, ${maker.name}'s domain` };
    }
    const platform = this.parties.platform;
    const p = ownedName(platform, s.names);
    if (p) return { party: 'platform', why: `${p.name} is under ${p.domain}, ${platform.name}` };
    if (maker && s.asn !== undefined && maker.asns.includes(s.asn))
      return { party: 'first', why: `AS${s.asn} is ${maker.name}'s network` };
    if (s.asn !== undefined && platform.asns.includes(s.asn))
      return { party: 'platform', why: `AS${s.asn} is ${platform.name}'s network` };
    if (s.asn !== undefined) {
      const cdn = this.support.get(s.asn);
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
