/** Override files (YAML: `overrides: [{cidr, country, org, asn, note}]`), checked with the config's schema. */
import { overrideFileSchema } from '../config/config-schema.js';
import { parseYamlConfig } from '../config/yaml-config.js';
import { ConfigError } from '../errors.js';
import { OverrideTable } from './overrides.js';

/** Adds one file's overrides to the table; throws ConfigError naming the file, line and field (and adds nothing). */
export function addOverrideFile(table: OverrideTable, text: string, file: string): void {
  const doc = parseYamlConfig(
    text,
    file,
    overrideFileSchema,
    'expected overrides: a list of {cidr, country, org, note}',
  );
  table.add(doc.data.overrides, (i) => doc.where(['overrides', i]));
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
    addOverrideFile(table, text, file);
  }
  return table;
}
