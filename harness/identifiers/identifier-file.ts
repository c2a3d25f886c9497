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
import { describeValue, formatPath, parseYamlData } from '../config/yaml-config.js';
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

/** An identifier map as written: kind → a value or values. */
export type IdentifierMap = Partial<Record<IdKind, string | string[]>>;

type Where = (path: readonly (string | number)[], atKey?: boolean) => { line: number; column: number };

/**
 * Checks an identifier map found at `path` of a file, top down, and returns it; the first problem is
 * a ConfigError naming its line and field. By hand, not with a schema library: the analyzer reads
 * these files at start-up, where loading one would cost more than the search.
 */
export function checkIdentifierMap(
  v: unknown,
  path: (string | number)[],
  file: string,
  where: Where,
): IdentifierMap {
  const fail = (at: (string | number)[], message: string, atKey = false): never => {
    const pos = where(at, atKey);
    throw new ConfigError(file, pos.line, pos.column, formatPath(at), message);
  };
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    fail(path, `expected a mapping, got ${describeValue(v)}`);
  const kinds: readonly string[] = ID_KINDS;
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    if (!kinds.includes(key)) fail([...path, key], `unknown key ${JSON.stringify(key)}`, true);
    const kind = key as IdKind;
    if (Array.isArray(value)) {
      if (value.length === 0) fail([...path, key], 'an empty list');
      value.forEach((x, i) => {
        const why = problem(kind, x);
        if (why) fail([...path, key, i], why);
      });
    } else {
      const why = problem(kind, value);
      if (why) fail([...path, key], why);
    }
  }
  return v as IdentifierMap;
}

/** The identifiers of a YAML text; `file` names it in errors. */
export function parseIdentifierFile(text: string, file: string): SoughtIdentifier[] {
  const { data, where } = parseYamlData(text, file, `expected identifier kinds (${ID_KINDS.join(', ')})`);
  const out = soughtFrom(checkIdentifierMap(data, [], file, where));
  if (out.length === 0) throw new ConfigError(file, 1, 1, '', 'no identifier given');
  return out;
}

/** The values of a checked identifier map, normalised (MACs and Android IDs in lower case); IMEIs get their slot. */
export function soughtFrom(data: IdentifierMap): SoughtIdentifier[] {
  const out: SoughtIdentifier[] = [];
  for (const kind of ID_KINDS) {
    const v = data[kind];
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
