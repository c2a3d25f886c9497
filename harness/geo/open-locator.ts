/**
 * Everything the geo stage needs, read from disk once: the installed databases, the lab's overrides
 * (inline in the config and from files) and the party lists with the phone's maker.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { GeoDatabases } from './databases.js';
import { Locator } from './locate.js';
import { loadOverrideFiles, type OverrideSpec } from './overrides.js';
import { type PartiesFile, PartyLabeller, parseParties } from './parties.js';

export interface LocatorOptions {
  /** False: no database is opened (countries and networks unknown); overrides still apply. */
  databases?: boolean;
  /** Override files (YAML), read in order. */
  overrideFiles?: readonly string[];
  /** Overrides written in the config, and the config file they come from. */
  overrides?: { specs: readonly OverrideSpec[]; file: string };
  /** The party lists (devices/parties.yaml). */
  partiesFile: string;
  /** The phone's maker key in the party lists (a device profile's `maker`). */
  maker?: string;
}

/** A Locator ready to use; close() releases its database files. */
export interface OpenLocator {
  locator: Locator;
  close(): void;
}

/** The geo stage's sources, open once for many phones: a Locator per phone's maker. */
export interface OpenGeo {
  /** A Locator labelling `maker`'s hosts first party (none when undefined). Throws ConfigError for a maker the lists lack. */
  locatorFor(maker: string | undefined): Locator;
  close(): void;
}

/** Reads the overrides and party lists (ConfigError on a bad file) and opens the databases. */
export function openGeo(opts: Omit<LocatorOptions, 'maker'>): OpenGeo {
  const overrides = loadOverrideFiles(opts.overrideFiles ?? [], (p) => readFileSync(p, 'utf8'));
  if (opts.overrides) {
    const file = opts.overrides.file;
    overrides.add(opts.overrides.specs, () => ({ file, line: 0 }));
  }
  const parties = readParties(opts.partiesFile);
  const dbs = opts.databases === false ? undefined : GeoDatabases.openInstalled();
  return {
    locatorFor: (key) => {
      const maker = PartyLabeller.makerOf(parties, key);
      if (key !== undefined && !maker)
        throw new ConfigError(
          opts.partiesFile,
          0,
          0,
          'makers',
          `no maker "${key}" (the file lists ${Object.keys(parties.makers).join(', ') || 'none'})`,
        );
      return new Locator(dbs, overrides, new PartyLabeller(parties, maker));
    },
    close: () => dbs?.close(),
  };
}

/** openGeo for one phone (or a capture): its Locator and the close. */
export function openLocator(opts: LocatorOptions): OpenLocator {
  const geo = openGeo(opts);
  try {
    return { locator: geo.locatorFor(opts.maker), close: () => geo.close() };
  } catch (err) {
    geo.close();
    throw err;
  }
}

function readParties(file: string): PartiesFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, 0, 0, '', `cannot read the party lists: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return parseParties(text, file);
}
