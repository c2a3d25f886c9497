/**
 * A lab's identifier file (`phonehome analyze --identifiers FILE`, and the values a phone will not
 * tell, per serial): YAML, identifier kind → a value or a list of values, e.g.
 *
 *     imei: ["868523061234565", "868523061234573"]
 *     android-id: 3f6a1c92b07e45d8
 *     wifi-mac: aa:bb:cc:0d:1e:2f
 *
 * Values are written as text (quote numbers: YAML would read 015… as a number and lose the zero).
 * Every problem is a ConfigError naming file, line and field.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseYamlConfig } from '../config/yaml-config.js';
import { ConfigError } from '../errors.js';
import type { SoughtIdentifier } from './find-leaks.js';
import { luhnValid } from './parcel.js';
import { ID_KINDS, type IdKind } from './read-identifiers.js';

const MAC = /^[0-9a-f]{2}([:-]?[0-9a-f]{2}){5}$/i;

/** Why a value is not one of this kind, or undefined when it is. */
function problem(kind: IdKind, v: unknown): string | undefined {
  if (typeof v !== 'string') return 'expected the value as text (quote it)';
  if (v.length === 0) return 'empty value';
  if (kind === 'imei' && !luhnValid(v)) return 'not an IMEI: expected 15 digits ending in their check digit';
  if ((kind === 'wifi-mac' || kind === 'bluetooth-mac' || kind === 'wifi-bssid') && !MAC.test(v))
    return 'not a MAC address (six hex pairs)';
  if (kind === 'android-id' && !/^[0-9a-f]{1,16}$/i.test(v)) return 'expected up to 16 hex digits';
  return undefined;
}

/** A value or a non-empty list of values of the kind, each checked where it is written. */
function valuesOf(kind: IdKind) {
  return z.unknown().superRefine((v, ctx) => {
    if (Array.isArray(v)) {
      if (v.length === 0) ctx.addIssue({ code: 'custom', message: 'an empty list' });
      v.forEach((x, i) => {
        const why = problem(kind, x);
        if (why) ctx.addIssue({ code: 'custom', message: why, path: [i] });
      });
      return;
    }
    const why = problem(kind, v);
    if (why) ctx.addIssue({ code: 'custom', message: why });
  });
}

/** A map of identifier kinds to a value or values (an identifier file, one phone of an inventory). */
export const identifierMap = z.strictObject(
  Object.fromEntries(ID_KINDS.map((k) => [k, valuesOf(k).optional()])) as unknown as Record<
    IdKind,
    z.ZodOptional<z.ZodType<string | string[]>>
  >,
);

/** The identifiers of a YAML text; `file` names it in errors. */
export function parseIdentifierFile(text: string, file: string): SoughtIdentifier[] {
  const { data } = parseYamlConfig(
    text,
    file,
    identifierMap,
    `expected identifier kinds (${ID_KINDS.join(', ')})`,
  );
  const out = soughtFrom(data);
  if (out.length === 0) throw new ConfigError(file, 1, 1, '', 'no identifier given');
  return out;
}

/** The values of a checked identifier map, normalised (MACs and Android IDs in lower case); IMEIs get their slot. */
export function soughtFrom(data: z.infer<typeof identifierMap>): SoughtIdentifier[] {
  const out: SoughtIdentifier[] = [];
  for (const kind of ID_KINDS) {
    const v = (data as Record<IdKind, string | string[] | undefined>)[kind];
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    values.forEach((value, i) => {
      const normal =
        kind.endsWith('mac') || kind === 'wifi-bssid' || kind === 'android-id' ? value.toLowerCase() : value;
      out.push({
        kind,
        value: kind === 'android-id' ? normal.padStart(16, '0') : normal,
        ...(kind === 'imei' ? { slot: i } : {}),
      });
    });
  }
  return out;
}

/** Why a file could not be read, in a person's words. */
export function unreadableWhy(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied (EACCES)'
      : code === 'EISDIR'
        ? 'is a directory (EISDIR)'
        : String((e as Error).message);
}

/** Reads and parses an identifier file. */
export async function readIdentifierFile(file: string): Promise<SoughtIdentifier[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(file, 0, 0, '', `cannot read: ${unreadableWhy(e)}`, { cause: e });
  }
  return parseIdentifierFile(text, file);
}
