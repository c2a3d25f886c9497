/**
 * The lab's own answers for addresses no database can know (its networks, a VPN egress, the
 * simulated internet): CIDR → country, organisation and a note. An override wins over every database
 * and says so. Written inline in the config (`geo.overrides`) or in YAML files (`geo.overrideFiles`);
 * the longest prefix that holds an address decides, and among equal prefixes the one written first.
 */
import { z } from 'zod';
import type { SourcePosition } from '../config/yaml-config.js';
import { parseYamlConfig } from '../config/yaml-config.js';
import { ConfigError } from '../errors.js';
import { type IpPrefix, parseCidr, prefixContains } from '../packets/ip-prefix.js';

const cidrField = z.string().superRefine((v, ctx) => {
  const r = parseCidr(v);
  if (!r.ok) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} ${r.problem}` });
});

/** One override as written. */
export const overrideSchema = z.strictObject({
  /** The addresses it is about: an IPv4 or IPv6 prefix, no host bits set. */
  cidr: cidrField,
  /** ISO 3166-1 alpha-2 code (CN is mainland China; HK, MO and TW are their own codes). */
  country: z
    .string()
    .regex(/^[A-Z]{2}$/, 'a two-letter ISO 3166-1 country code in capitals, such as SG or CN')
    .optional(),
  /** Who runs these addresses. */
  org: z.string().trim().min(1, 'an organisation name').optional(),
  /** Their AS number, when known. */
  asn: z
    .number()
    .int()
    .min(1, 'an AS number from 1')
    .max(4294967295, 'an AS number up to 4294967295')
    .optional(),
  /** Why the lab says so: shown wherever the override is used. */
  note: z
    .string({ error: 'every override needs a note saying where its answer comes from' })
    .trim()
    .min(1, 'every override needs a note saying where its answer comes from'),
});

/** An override file. */
export const overrideFileSchema = z.strictObject(
  {
    description: z.string().optional(),
    overrides: z.array(overrideSchema, { error: 'expected a list of overrides' }),
  },
  { error: 'expected a mapping with overrides: a list of {cidr, country, org, note}' },
);

export type OverrideSpec = z.infer<typeof overrideSchema>;

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

  /** Reads an override file; throws ConfigError naming the file, line and field. */
  addFile(text: string, file: string): void {
    const doc = parseYamlConfig(
      text,
      file,
      overrideFileSchema,
      'expected overrides: a list of {cidr, country, org, note}',
    );
    this.add(doc.data.overrides, (i) => doc.where(['overrides', i]));
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

/** Reads override files into one table; a file that cannot be read is a ConfigError naming it. */
export function loadOverrideFiles(
  files: readonly string[],
  readText: (path: string) => string,
): OverrideTable {
  const table = new OverrideTable();
  for (const file of files) {
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      throw new ConfigError(file, 0, 0, '', `cannot read the override file: ${(err as Error).message}`, {
        cause: err,
      });
    }
    table.addFile(text, file);
  }
  return table;
}
