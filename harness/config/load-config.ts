/**
 * Finding and reading the lab's phonehome.config: `--config FILE`, else the first of
 * phonehome.config.js, .mjs, .json and .ts in the working folder, else none (every default).
 *
 * JSON (and YAML) files are validated with their line and column; a JavaScript module's default
 * export is validated with the field's path. Node 20 imports a .ts config only with a TypeScript
 * loader (`node --import tsx dist/harness/cli/main.js …`); without one the error says to compile it
 * to .js or write .mjs. Every problem is a ConfigError naming the file and the field.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { ConfigError, errorMessage } from '../errors.js';
import { phonehomeConfigSchema } from './config-schema.js';
import { formatPath, parseYamlConfig } from './yaml-config.js';

/** A validated config, with every field optional as in the file. */
export type LoadedConfig = z.output<typeof phonehomeConfigSchema>;

/** Names looked for in the working folder, in order. */
export const DEFAULT_CONFIG_NAMES = [
  'phonehome.config.js',
  'phonehome.config.mjs',
  'phonehome.config.json',
  'phonehome.config.ts',
];

/** The config file to read: the one given, else the first default name present in cwd, else undefined. */
export function findConfigFile(given: string | undefined, cwd = process.cwd()): string | undefined {
  if (given !== undefined) return given;
  for (const name of DEFAULT_CONFIG_NAMES) if (existsSync(join(cwd, name))) return name;
  return undefined;
}

/** Validates a config value (what a JavaScript module exported); `file` names it in errors. */
export function validateConfig(value: unknown, file: string): LoadedConfig {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      file,
      0,
      0,
      '',
      'the default export must be an object (export default defineConfig({…}))',
    );
  }
  const parsed = phonehomeConfigSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw new ConfigError(file, 0, 0, formatPath([...issue.path, key]), `unknown key ${JSON.stringify(key)}`);
  }
  throw new ConfigError(file, 0, 0, formatPath(issue.path), issueText(issue));
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'invalid_value') {
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  if (issue.code === 'invalid_union') return 'expected { url: "http://…" } or { local: { port } }';
  return issue.message;
}

/** What a failed read says to a person: the system's own word for it (EACCES, EISDIR…) with its meaning. */
function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const meaning: Record<string, string> = {
    ENOENT: 'no such file',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EISDIR: 'is a directory',
  };
  return code && meaning[code] ? `${meaning[code]} (${code})` : errorMessage(err);
}

/** Throws ConfigError at the line and column where JSON.parse gave up. */
function strictJson(text: string, file: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    const message = errorMessage(err);
    const at = /position (\d+)/.exec(message);
    const offset = at ? Number(at[1]) : -1;
    const before = offset >= 0 ? text.slice(0, offset) : '';
    const line = offset >= 0 ? before.split('\n').length : 0;
    const column = offset >= 0 ? offset - before.lastIndexOf('\n') : 0;
    const why = message
      .replace(/^JSON\.parse: /, '')
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/ \(line \d+ column \d+\)$/, '');
    throw new ConfigError(file, line, column, '', `not valid JSON: ${why}`, { cause: err });
  }
}

/** Reads and validates a config file (relative to cwd). */
export async function readConfigFile(file: string, cwd = process.cwd()): Promise<LoadedConfig> {
  const path = resolve(cwd, file);
  const ext = extname(file).toLowerCase();
  if (ext === '.json' || ext === '.yaml' || ext === '.yml') {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(file, 0, 0, '', `cannot read: ${errnoText(err)}`, { cause: err });
    }
    // YAML reads JSON too, and forgives what JSON does not (a trailing comma): a .json file is JSON.
    if (ext === '.json') strictJson(text, file);
    return parseYamlConfig(text, file, phonehomeConfigSchema, 'expected a mapping of settings').data;
  }
  if (['.js', '.mjs', '.cjs', '.ts', '.mts'].includes(ext)) {
    if (!existsSync(path)) throw new ConfigError(file, 0, 0, '', 'no such file');
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(path).href)) as { default?: unknown };
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_UNKNOWN_FILE_EXTENSION') {
        throw new ConfigError(
          file,
          0,
          0,
          '',
          'Node cannot import a .ts config by itself: compile it to .js (tsc), write .mjs or .json, or run phonehome with node --import tsx',
          { cause: err },
        );
      }
      throw new ConfigError(file, 0, 0, '', `cannot load: ${(err as Error).message.split('\n')[0]}`, {
        cause: err,
      });
    }
    return validateConfig(mod.default, file);
  }
  throw new ConfigError(file, 0, 0, '', 'a config is a .js, .mjs, .json or .ts file');
}

/** The config to use: `--config FILE` or the default file in cwd; {} when there is none. */
export async function loadConfig(
  given: string | undefined,
  cwd = process.cwd(),
): Promise<{ file?: string; config: LoadedConfig }> {
  const file = findConfigFile(given, cwd);
  if (file === undefined) return { config: {} };
  return { file, config: await readConfigFile(file, cwd) };
}
