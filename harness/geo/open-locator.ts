/**
 * Everything the geo stage needs, read from disk once: the installed databases and the lab's
 * overrides (inline in the config and from files). Override files are read (with the YAML and schema
 * modules) only when there are some, so that a plain `phonehome analyze` pays for neither.
 */
import { readFileSync } from 'node:fs';
import { GeoDatabases } from './databases.js';
import { Locator } from './locate.js';
import { type OverrideSpec, OverrideTable } from './overrides.js';
import { type Owner, PartyLabeller } from './parties.js';

export interface LocatorOptions {
  /** False: no database is opened (countries and networks unknown); overrides still apply. */
  databases?: boolean;
  /** Override files (YAML), read in order. */
  overrideFiles?: readonly string[];
  /** Overrides written in the config, and the config file they come from. */
  overrides?: { specs: readonly OverrideSpec[]; file: string };
}

/** The geo stage's sources, open once for many phones: a Locator per phone's maker. */
export interface OpenGeo {
  /** A Locator labelling `maker`'s domains and networks first party (nothing when undefined). */
  locatorFor(maker: Owner | undefined): Locator;
  close(): void;
}

/** Reads the overrides (ConfigError naming file, line and field) and opens the databases. */
export async function openGeo(opts: LocatorOptions = {}): Promise<OpenGeo> {
  const files = opts.overrideFiles ?? [];
  const overrides =
    files.length > 0
      ? (await import('./override-file.js')).loadOverrideFiles(files, (p) => readFileSync(p, 'utf8'))
      : new OverrideTable();
  if (opts.overrides) {
    const file = opts.overrides.file;
    overrides.add(opts.overrides.specs, () => ({ file, line: 0 }));
  }
  const dbs = opts.databases === false ? undefined : GeoDatabases.openInstalled();
  return {
    locatorFor: (maker) => new Locator(dbs, overrides, new PartyLabeller(maker)),
    close: () => dbs?.close(),
  };
}
