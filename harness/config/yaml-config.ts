/**
 * Reading a YAML config file against its zod schema, with errors that point: every problem becomes a
 * ConfigError at file:line:column naming the field, e.g.
 * `devices/xiaomi/allowlists/idle.yaml:12:5: allow[3].cidr: "10.0.0.0/33" is not a CIDR`.
 * Pure: the caller reads the file.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

type PathKey = string | number;

/** "allow[3].cidr" from ["allow", 3, "cidr"]. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out;
}

/** Where a value sits in its file. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A validated config value and a way to find where any of its parts was written. */
export interface YamlConfig<T> {
  data: T;
  /** The position of the node at path (or its nearest existing ancestor). */
  where(path: readonly PathKey[]): SourcePosition;
}

/** The node at path, or the deepest ancestor that exists; `key` selects a map key's node instead of its value. */
function locate(
  doc: ReturnType<typeof parseDocument>,
  path: readonly PathKey[],
  key = false,
): Node | undefined {
  let node: unknown = doc.contents;
  let found: Node | undefined = (doc.contents as Node | null) ?? undefined;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) return found;
      if (last && key && isScalar(pair.key)) return pair.key;
      node = pair.value;
      // `key:` with no value has a null value node: point at the key then.
      if (!node && isScalar(pair.key)) return pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else {
      return found;
    }
    if (node && typeof node === 'object' && 'range' in node) found = node as Node;
    else return found;
  }
  return found;
}

function describeInput(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return JSON.stringify(v);
}

/** One sentence for a zod issue, in the file's words. */
function issueText(issue: z.core.$ZodIssue): { path: PropertyKey[]; text: string; atKey: boolean } {
  if (issue.code === 'unrecognized_keys') {
    const k = issue.keys[0]!;
    return { path: [...issue.path, k], text: `unknown key ${JSON.stringify(k)}`, atKey: true };
  }
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) {
    const expected =
      issue.expected === 'object'
        ? 'a mapping'
        : issue.expected === 'array'
          ? 'a list'
          : `a ${issue.expected}`;
    return {
      path: issue.path,
      text: `expected ${expected}, got ${describeInput(issue.input)}`,
      atKey: false,
    };
  }
  if (issue.code === 'invalid_value' && issue.message.startsWith('Invalid option')) {
    const options = issue.values.map((v) => JSON.stringify(v)).join(', ');
    return { path: issue.path, text: `${describeInput(issue.input)} is not one of ${options}`, atKey: false };
  }
  return { path: issue.path, text: issue.message, atKey: false };
}

/** The largest config, profile or allowlist file read: hand-written files are a few kilobytes. */
export const MAX_YAML_BYTES = 1024 * 1024;
/** The most aliases (`*name`) a file may hold: hand-written files use a handful. */
export const MAX_YAML_ALIASES = 1000;

/**
 * Refuses a file too large, or holding too many aliases, before the parser builds it: a small file of
 * aliases can make a parser build (and toJS expand) a huge tree.
 */
function checkBounds(text: string, file: string): void {
  if (text.length > MAX_YAML_BYTES) {
    throw new ConfigError(
      file,
      0,
      0,
      '',
      `is ${text.length} bytes, more than the ${MAX_YAML_BYTES} a file may have`,
    );
  }
  // An alias is "*" starting a node: after a line start, a blank or a flow indicator, not inside quotes.
  let aliases = 0;
  const alias = /(?:^|[\s[{,:-])\*[^\s,\]}]/gm;
  while (alias.exec(text) !== null) {
    if (++aliases > MAX_YAML_ALIASES) {
      const line = text.slice(0, alias.lastIndex).split('\n').length;
      throw new ConfigError(file, line, 0, '', `holds more than ${MAX_YAML_ALIASES} YAML aliases (*name)`);
    }
  }
}

/**
 * Parses YAML text and validates it with the schema. Throws ConfigError pointing at the first problem
 * in file order. `emptyHint` completes the message for an empty file ("expected …").
 */
/**
 * A YAML text's data and where each path of it is, unchecked: for files whose shape is checked by
 * hand (an identifier file needs no schema library at start-up). Bounds, YAML errors and an empty
 * file are ConfigErrors as for parseYamlConfig.
 */
export function parseYamlData(
  text: string,
  file: string,
  emptyHint = 'expected a mapping',
): {
  data: unknown;
  where(path: readonly PathKey[], atKey?: boolean): SourcePosition;
} {
  checkBounds(text, file);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  const where = (path: readonly PathKey[], atKey = false): SourcePosition => {
    const offset = locate(doc, path, atKey)?.range?.[0];
    if (offset === undefined) return { file, line: 1, column: 1 };
    const p = lc.linePos(offset);
    return { file, line: p.line, column: p.col };
  };
  const yamlError = doc.errors[0];
  if (yamlError) {
    const pos = yamlError.linePos?.[0] ?? { line: 0, col: 0 };
    const message = yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(file, pos.line, pos.col, '', `not valid YAML: ${message}`);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new ConfigError(file, 0, 0, '', `YAML cannot be read: ${(e as Error).message}`, { cause: e });
  }
  if (data == null) throw new ConfigError(file, 1, 1, '', `the file is empty; ${emptyHint}`);
  return { data, where };
}

/** What a value is, in words, for "expected X, got Y". */
export function describeValue(v: unknown): string {
  return describeInput(v);
}

export function parseYamlConfig<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  emptyHint = 'expected a mapping',
): YamlConfig<z.infer<S>> {
  const { data, where: position } = parseYamlData(text, file, emptyHint);
  const parsed = schema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // zod reports in schema order; the user reads the file top down, so name the first problem in it.
    const problems = parsed.error.issues.map((issue) => {
      const { path, text: expected, atKey } = issueText(issue);
      const keys = path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number');
      return { path, expected, ...position(keys, atKey) };
    });
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    const first = problems[0]!;
    throw new ConfigError(file, first.line, first.column, formatPath(first.path), first.expected);
  }
  return { data: parsed.data, where: (path) => position(path) };
}
