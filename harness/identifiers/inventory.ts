/**
 * The lab's inventory: identifiers a phone will not tell over adb (an IMSI or a phone number without
 * carrier privileges, the advertising ID without root), written down by the lab for each phone. YAML,
 * the phone's serial (its adb serial or `ro.serialno`) → identifier kind → a value or values:
 *
 *     R58N12ABCDE:
 *       imsi: "234150123456789"
 *       phone-number: "+447700900123"
 *       advertising-id: 6f1d2c9e-58b4-4e0a-9a7c-2d41f3b8e915
 *
 * The values are the lab's secrets: the file stays on the lab host (by default
 * ~/.config/phonehome/inventory.yaml), never in the repository. A run searches its capture for them as
 * for the values it read, and its output shows them masked, with the source "supplied by FILE".
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { describeValue, parseYamlData } from '../config/yaml-config.js';
import { ConfigError } from '../errors.js';
import type { SoughtIdentifier } from './find-leaks.js';
import { checkIdentifierMap, soughtFrom, unreadableWhy } from './identifier-file.js';
import type { PhoneIdentifiers } from './read-identifiers.js';

export class Inventory {
  constructor(
    /** The file it was read from, as the sources name it. */
    readonly file: string,
    readonly phones: ReadonlyMap<string, SoughtIdentifier[]>,
  ) {}

  /**
   * The values supplied for a phone: by its adb serial, else by a serial it told (`ro.serialno`: a
   * phone on adb over TCP has an address for its adb serial).
   */
  valuesFor(adbSerial: string, told?: PhoneIdentifiers): SoughtIdentifier[] {
    const direct = this.phones.get(adbSerial);
    if (direct) return direct;
    for (const id of told?.found ?? []) {
      if (id.kind !== 'serial') continue;
      const v = this.phones.get(id.value);
      if (v) return v;
    }
    return [];
  }
}

/** The inventory of a YAML text; `file` names it in errors. */
export function parseInventory(text: string, file: string): Inventory {
  const { data, where } = parseYamlData(
    text,
    file,
    'expected phone serials, each with identifier kinds and values',
  );
  if (typeof data !== 'object' || Array.isArray(data)) {
    const pos = where([]);
    throw new ConfigError(
      file,
      pos.line,
      pos.column,
      '',
      `expected a mapping of phone serials, got ${describeValue(data)}`,
    );
  }
  const phones = new Map<string, SoughtIdentifier[]>();
  for (const [serial, ids] of Object.entries(data as Record<string, unknown>))
    phones.set(serial, soughtFrom(checkIdentifierMap(ids, [serial], file, where)));
  return new Inventory(file, phones);
}

/** Where the inventory is when no option names it: $PHONEHOME_INVENTORY, else the user's config folder. */
export function defaultInventoryPath(): { path: string; named: boolean } {
  const env = process.env.PHONEHOME_INVENTORY;
  if (env) return { path: env, named: true };
  return { path: join(homedir(), '.config', 'phonehome', 'inventory.yaml'), named: false };
}

/**
 * Reads an inventory. A file someone named must be there; the default one may be missing (no
 * inventory: undefined), but one that is there and cannot be read or is wrong is an error.
 */
export async function readInventory(file: string, mustExist: boolean): Promise<Inventory | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if (!mustExist && (e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(file, 0, 0, '', `cannot read the inventory: ${unreadableWhy(e)}`, { cause: e });
  }
  return parseInventory(text, file);
}

/**
 * The identifiers a run searches for: those the phone told, and those the inventory supplies that it
 * did not (marked "supplied by FILE"). A kind the inventory supplies is no longer listed as unread.
 */
export function withSupplied(
  told: PhoneIdentifiers,
  supplied: SoughtIdentifier[],
  file: string,
): PhoneIdentifiers {
  if (supplied.length === 0) return told;
  const source = `supplied by ${basename(file)}`;
  const found = [...told.found];
  for (const s of supplied) {
    const same = found.some((f) => f.kind === s.kind && f.value.toLowerCase() === s.value.toLowerCase());
    if (!same)
      found.push({ kind: s.kind, value: s.value, ...(s.slot !== undefined ? { slot: s.slot } : {}), source });
  }
  const unread = told.unread.filter(
    (u) => !supplied.some((s) => s.kind === u.kind && (u.kind !== 'imei' || s.slot === u.slot)),
  );
  return { found, unread, packages: told.packages };
}
