/**
 * Allowlist files: YAML read with its node positions, validated by the zod schema, compiled into rules,
 * and layered through `extends` (base first, then the file itself). Every error is a ConfigError that
 * points at file:line:column. Pure: the caller passes the function that reads a file.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type AllowlistFileSpec, allowlistFileSchema, type UnattributedPolicy } from './allowlist-schema.js';
import { compileMatcher, makeRule, type Rule, type RuleSource } from './rule.js';

/** A compiled allowlist, all its files layered. */
export interface Allowlist {
  /** The files it was built from, base first, the file named by the user last. */
  files: string[];
  /** Free text from the files' description fields, base first. */
  descriptions: string[];
  /** What to do with flows that have no name and match no IP rule (the last file that says wins; default fail). */
  unattributed: UnattributedPolicy;
  /** Rules that allow contacts. */
  allow: Rule[];
  /** Rules that forbid contacts; they win over allow rules. */
  forbid: Rule[];
  /** Contacts that must be seen at least once. */
  expect: Rule[];
  /** Byte and connection limits over groups of hosts. */
  budgets: Rule[];
}

/** One file's content, compiled but not yet layered. */
export interface AllowlistFile {
  /** The file as named. */
  file: string;
  /** The extends entries, each with where it is written. */
  extends: { path: string; source: RuleSource }[];
  description?: string;
  unattributed?: UnattributedPolicy;
  allow: Rule[];
  forbid: Rule[];
  expect: Rule[];
  budgets: Rule[];
}

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

function position(
  doc: ReturnType<typeof parseDocument>,
  lc: LineCounter,
  path: readonly PathKey[],
  atKey = false,
): { line: number; column: number } {
  const node = locate(doc, path, atKey);
  const offset = node?.range?.[0];
  if (offset === undefined) return { line: 1, column: 1 };
  const p = lc.linePos(offset);
  return { line: p.line, column: p.col };
}

/** Parses and compiles one allowlist file's text. Throws ConfigError pointing at the first problem. */
export function parseAllowlist(text: string, file: string): AllowlistFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
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
  if (data == null) {
    throw new ConfigError(
      file,
      1,
      1,
      '',
      'the file is empty; expected a mapping with keys such as allow, forbid',
    );
  }
  const parsed = allowlistFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // zod reports in schema order; the user reads the file top down, so name the first problem in it.
    const problems = parsed.error.issues.map((issue) => {
      const { path, text: expected, atKey } = issueText(issue);
      const keys = path.filter((k): k is PathKey => typeof k === 'string' || typeof k === 'number');
      return { path, expected, ...position(doc, lc, keys, atKey) };
    });
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    const first = problems[0]!;
    throw new ConfigError(file, first.line, first.column, formatPath(first.path), first.expected);
  }
  return compileFile(parsed.data, file, (path) => ({ file, ...position(doc, lc, path) }));
}

function compileFile(
  spec: AllowlistFileSpec,
  file: string,
  where: (path: PathKey[]) => RuleSource,
): AllowlistFile {
  const simple = (kind: 'allow' | 'expect', list: AllowlistFileSpec['allow']) =>
    (list ?? []).map((r, i) => makeRule(kind, [compileMatcher(r)], r.reason, where([kind, i])));
  return {
    file,
    extends: (spec.extends ?? []).map((path, i) => ({ path, source: where(['extends', i]) })),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.unattributed !== undefined ? { unattributed: spec.unattributed } : {}),
    allow: simple('allow', spec.allow),
    expect: simple('expect', spec.expect),
    forbid: (spec.forbid ?? []).map((r, i) =>
      makeRule('forbid', [compileMatcher(r)], r.reason, where(['forbid', i]), {
        severity: r.severity ?? 'normal',
      }),
    ),
    budgets: (spec.budget ?? []).map((b, i) =>
      makeRule('budget', b.hosts.map(compileMatcher), b.reason, where(['budget', i]), {
        ...(b.maxBytes !== undefined ? { maxBytes: b.maxBytes } : {}),
        ...(b.maxConnections !== undefined ? { maxConnections: b.maxConnections } : {}),
      }),
    ),
  };
}

function readProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EISDIR') return 'is a directory';
  if (code === 'EACCES') return 'permission denied';
  return (e as Error | undefined)?.message ?? String(e);
}

/**
 * Loads an allowlist and everything it extends, layered base first. `readText` reads a file by the
 * path given (relative paths are relative to the process's working directory, as the user typed them).
 */
export function loadAllowlist(file: string, readText: (path: string) => string): Allowlist {
  const out: Allowlist = {
    files: [],
    descriptions: [],
    unattributed: 'fail',
    allow: [],
    forbid: [],
    expect: [],
    budgets: [],
  };
  const done = new Set<string>();
  const stack: { key: string; shown: string }[] = [];
  let unattributed: UnattributedPolicy | undefined;

  const visit = (
    path: string,
    from?: { file: string; source: RuleSource; index: number; written: string },
  ): void => {
    const key = resolve(path);
    const cycleAt = stack.findIndex((s) => s.key === key);
    if (from && cycleAt >= 0) {
      const chain = [...stack.slice(cycleAt).map((s) => s.shown), path];
      throw new ConfigError(
        from.file,
        from.source.line,
        from.source.column,
        `extends[${from.index}]`,
        `${JSON.stringify(from.written)} makes a cycle: ${chain.join(' → ')}`,
      );
    }
    // A diamond (two files extending one base) takes the base once, at its first place.
    if (done.has(key)) return;
    let text: string;
    try {
      text = readText(path);
    } catch (e) {
      if (!from)
        throw new ConfigError(path, 0, 0, '', `cannot read the allowlist: ${readProblem(e)}`, { cause: e });
      throw new ConfigError(
        from.file,
        from.source.line,
        from.source.column,
        `extends[${from.index}]`,
        `${JSON.stringify(from.written)} cannot be read: ${readProblem(e)} (looked for ${path})`,
        { cause: e },
      );
    }
    const parsed = parseAllowlist(text, path);
    stack.push({ key, shown: path });
    parsed.extends.forEach((ext, index) => {
      visit(isAbsolute(ext.path) ? ext.path : join(dirname(path), ext.path), {
        file: path,
        source: ext.source,
        index,
        written: ext.path,
      });
    });
    stack.pop();
    done.add(key);
    out.files.push(path);
    if (parsed.description !== undefined) out.descriptions.push(parsed.description);
    if (parsed.unattributed !== undefined) unattributed = parsed.unattributed;
    out.allow.push(...parsed.allow);
    out.forbid.push(...parsed.forbid);
    out.expect.push(...parsed.expect);
    out.budgets.push(...parsed.budgets);
  };
  visit(file);
  if (unattributed !== undefined) out.unattributed = unattributed;
  return out;
}
