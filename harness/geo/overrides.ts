/**
 * The lab's own answers for addresses no database can know (its networks, a VPN egress, the
 * simulated internet): CIDR → country, organisation and a note. An override wins over every database
 * and says so. Written inline in the config (`geo.overrides`) or in YAML files (`geo.overrideFiles`);
 * the longest prefix that holds an address decides, and among equal prefixes the one written first.
 */
import type { OverrideSpec } from '../config/config-schema.js';
import type { SourcePosition } from '../config/yaml-config.js';
import { type IpPrefix, parseCidr, prefixContains } from '../packets/ip-prefix.js';

export type { OverrideSpec } from '../config/config-schema.js';

/** An override as outputs record it. */
export interface Override {
  cidr: string;
  country?: string;
  org?: string;
  asn?: number;
  note: string;
  /** Where it is written ("phonehome.config.ts" with line 0 when inline). */
  file: string;
  line: number;
}

interface Compiled {
  prefix: IpPrefix;
  override: Override;
}

/** A set of overrides, searched longest prefix first. */
export class OverrideTable {
  private readonly entries: Compiled[] = [];

  /** Adds entries already validated by overrideSchema; `where(i)` says where entry i is written. */
  add(specs: readonly OverrideSpec[], where: (i: number) => Pick<SourcePosition, 'file' | 'line'>): void {
    specs.forEach((s, i) => {
      const r = parseCidr(s.cidr);
      if (!r.ok) throw new Error(`unchecked prefix ${s.cidr}`);
      const at = where(i);
      this.entries.push({
        prefix: r.prefix,
        override: {
          cidr: s.cidr,
          ...(s.country ? { country: s.country } : {}),
          ...(s.org ? { org: s.org } : {}),
          ...(s.asn !== undefined ? { asn: s.asn } : {}),
          note: s.note,
          file: at.file,
          line: at.line,
        },
      });
    });
    // Stable: equal prefixes keep the order they were written in.
    this.entries.sort((a, b) => b.prefix.bits - a.prefix.bits);
  }

  get size(): number {
    return this.entries.length;
  }

  /** The override for an address (4 or 16 bytes), if any. */
  find(ip: Uint8Array): Override | undefined {
    for (const e of this.entries) if (prefixContains(e.prefix, ip)) return e.override;
    return undefined;
  }

  /** Every override, longest prefix first. */
  all(): Override[] {
    return this.entries.map((e) => e.override);
  }
}
