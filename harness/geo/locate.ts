/**
 * The stage between names and verdict that says where each flow's responder is: special-purpose
 * blocks named as such, the lab's overrides first, then the offline databases (two country sources,
 * a city, the AS and its organisation), and the party label from the flow's names and network.
 * Pure given its sources: the databases are read through the GeoSource interface, once per address.
 */
import type { EndpointGeo, Flow } from '../flows/flow.js';
import { parseIp } from '../packets/ip-text.js';
import type { DatabaseAnswers, DatabaseInfo, DatabaseProblem } from './databases.js';
import type { OverrideTable } from './overrides.js';
import type { PartyLabeller } from './parties.js';
import { carriedIpv4, specialRange } from './special-ranges.js';

/** Where answers come from (GeoDatabases, or a fixed table in tests of callers). */
export interface GeoSource {
  readonly databases: DatabaseInfo[];
  readonly problems: DatabaseProblem[];
  lookup(ip: Uint8Array): DatabaseAnswers;
}

/** What a run or an analysis records about the lookups themselves. */
export interface GeoSummary {
  /** The databases that answered, with version, build date, licence and attribution. */
  databases: DatabaseInfo[];
  /** Databases that could not be used, and why. */
  problems: DatabaseProblem[];
  /** How many lab overrides were in force. */
  overrides: number;
  /** Things the reader should know (disagreements, addresses no source knows). */
  warnings: string[];
}

type Place = Omit<EndpointGeo, 'party' | 'partyWhy'> & {
  /** The special block's name and RFC, for the party's reason (not saved: partyWhy carries it). */
  block?: string;
};

export class Locator {
  private readonly cache = new Map<string, Place>();

  constructor(
    private readonly source: GeoSource | undefined,
    private readonly overrides: OverrideTable,
    private readonly labeller: PartyLabeller,
  ) {}

  /** Where an address is (canonical text), without the party (which depends on the flow's names). */
  place(addr: string): Place {
    let p = this.cache.get(addr);
    if (!p) {
      p = this.lookup(addr);
      this.cache.set(addr, p);
    }
    return p;
  }

  /**
   * Sets resp.geo on every flow and returns what the outputs record about the lookups. Flows to the
   * same address under the same names share one (frozen) object: a capture of a hundred thousand
   * connections to a few hosts holds a few of them.
   */
  locate(flows: Flow[]): GeoSummary {
    const disagreeing = new Set<string>();
    const unknown = new Set<string>();
    // Keyed by address, then by the names (most flows have one: its string is the key, nothing built).
    const made = new Map<string, Map<string, EndpointGeo>>();
    for (const f of flows) {
      const dns = f.service === 'dns' || f.names.some((n) => n.source === 'dns-query');
      let key = '';
      let count = 0;
      if (!dns)
        for (const n of f.names) {
          if (n.invalid || n.source === 'dns-query') continue;
          key = count === 0 ? n.name : `${key}\u0000${n.name}`;
          count++;
        }
      let byNames = made.get(f.resp.addr);
      if (!byNames) {
        byNames = new Map();
        made.set(f.resp.addr, byNames);
      }
      let geo = byNames.get(key);
      if (!geo) {
        const names = count === 0 ? [] : key.split('\u0000');
        const { block, ...place } = this.place(f.resp.addr);
        const label = this.labeller.label({
          names,
          ...(place.asn !== undefined ? { asn: place.asn } : {}),
          ...(block ? { special: block } : {}),
          ...(place.override
            ? { override: { ...(place.org ? { org: place.org } : {}), note: place.override.note } }
            : {}),
        });
        geo = Object.freeze({ ...place, party: label.party, partyWhy: label.why });
        byNames.set(key, geo);
        if (place.disagree) disagreeing.add(f.resp.addr);
        if (!place.special && !place.override && place.country === undefined && this.source)
          unknown.add(f.resp.addr);
      }
      f.resp.geo = geo;
    }
    const warnings: string[] = [];
    for (const addr of disagreeing) {
      const p = this.place(addr);
      warnings.push(
        `the country sources disagree about ${addr}: ${(p.countries ?? []).map((c) => `${c.db} says ${c.country ?? 'nothing'}`).join(', ')}`,
      );
    }
    if (unknown.size > 0)
      warnings.push(
        `no database knows the country of ${[...unknown].slice(0, 5).join(', ')}${unknown.size > 5 ? ` and ${unknown.size - 5} more` : ''}: country rules cannot match them`,
      );
    if (!this.source || this.source.databases.length === 0)
      warnings.push('no location database is installed: countries and networks are unknown (run make setup)');
    return {
      databases: this.source ? [...this.source.databases] : [],
      problems: this.source ? [...this.source.problems] : [],
      overrides: this.overrides.size,
      warnings,
    };
  }

  private lookup(addr: string): Place {
    const bytes = parseIp(addr);
    if (!bytes) return {};
    const ip = carriedIpv4(bytes) ?? bytes;
    const special = specialRange(addr);
    const over = this.overrides.find(ip) ?? (ip !== bytes ? this.overrides.find(bytes) : undefined);
    const out: Place = {};
    if (special) {
      out.special = special.kind;
      out.block = `${special.name} (${special.rfc})`;
    }
    if (over) {
      out.override = { cidr: over.cidr, note: over.note, file: over.file, line: over.line };
      if (over.country) out.country = over.country;
      if (over.asn !== undefined) out.asn = over.asn;
      if (over.org) out.org = over.org;
    }
    // A special address is named for what it is; no database is asked about it.
    if (special || !this.source) return out;
    const a = this.source.lookup(ip);
    out.countries = a.countries;
    const said = [...new Set(a.countries.map((c) => c.country).filter((c): c is string => c !== null))];
    if (said.length > 1) out.disagree = true;
    if (!over?.country && said.length > 0) out.country = said[0]!;
    if (a.city) out.city = a.city;
    if (a.asn) {
      if (out.asn === undefined) out.asn = a.asn.number;
      if (out.asn === a.asn.number) out.asOrg = a.asn.org;
      if (out.org === undefined && out.asn === a.asn.number) out.org = a.asn.org;
    }
    return out;
  }
}
