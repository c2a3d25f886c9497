/**
 * Allowlist files: YAML read with its node positions, validated by the zod schema, compiled into rules,
 * and layered through `extends` (base first, then the file itself). Every error is a ConfigError that
 * points at file:line:column. Pure: the caller passes the function that reads a file.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseYamlConfig } from '../config/yaml-config.js';
import { ConfigError } from '../errors.js';
import { type AllowlistFileSpec, allowlistFileSchema, type UnattributedPolicy } from './allowlist-schema.js';
import {
  compileMatcher,
  type IdentifierRule,
  makeIdentifierRule,
  makeRule,
  type Rule,
  type RuleSource,
} from './rule.js';

/** A compiled allowlist, all its files layered. */
export interface Allowlist {
  /** The files it was built from, base first, the file named by the user last. */
  files: string[];
  /** Free text from the files' description fields, base first. */
  descriptions: string[];
  /** What to do with flows that have no name and match no IP rule (the last file that says wins; default fail). */
  unattributed: UnattributedPolicy;
  /** What to do with unnamed connections open before the capture began (the last file that says wins; default warn). */
  openBeforeCapture: UnattributedPolicy;
  /** Rules that allow contacts. */
  allow: Rule[];
  /** Rules that forbid contacts; they win over allow rules. */
  forbid: Rule[];
  /** Contacts that must be seen at least once. */
  expect: Rule[];
  /** Byte and connection limits over groups of hosts. */
  budgets: Rule[];
  /** Which identifiers may go where; forbid wins over allow. */
  identifierAllow: IdentifierRule[];
  identifierForbid: IdentifierRule[];
  /** What a leak no identifiers rule mentions is (the last file that says wins; default fail). */
  identifierLeaks: 'fail' | 'warn';
  /** What drift against the run's baseline does (the last file that says wins; default warn). */
  drift: DriftPolicy;
}

/** Drift findings fail the run, are shown as warnings, or are not looked for. */
export type DriftPolicy = 'fail' | 'warn' | 'off';

/** One file's content, compiled but not yet layered. */
export interface AllowlistFile {
  /** The file as named. */
  file: string;
  /** The extends entries, each with where it is written. */
  extends: { path: string; source: RuleSource }[];
  description?: string;
  unattributed?: UnattributedPolicy;
  openBeforeCapture?: UnattributedPolicy;
  allow: Rule[];
  forbid: Rule[];
  expect: Rule[];
  budgets: Rule[];
  identifierAllow: IdentifierRule[];
  identifierForbid: IdentifierRule[];
  identifierLeaks?: 'fail' | 'warn';
  drift?: DriftPolicy;
}

type PathKey = string | number;

/** Parses and compiles one allowlist file's text. Throws ConfigError pointing at the first problem. */
export function parseAllowlist(text: string, file: string): AllowlistFile {
  const { data, where } = parseYamlConfig(
    text,
    file,
    allowlistFileSchema,
    'expected a mapping with keys such as allow, forbid',
  );
  return compileFile(data, file, where);
}

function compileFile(
  spec: AllowlistFileSpec,
  file: string,
  where: (path: PathKey[]) => RuleSource,
): AllowlistFile {
  // An allow rule's country must hold for every country source; elsewhere one source is enough.
  const simple = (kind: 'allow', list: AllowlistFileSpec['allow']) =>
    (list ?? []).map((r, i) => makeRule(kind, [compileMatcher(r, 'all')], r.reason, where([kind, i])));
  return {
    file,
    extends: (spec.extends ?? []).map((path, i) => ({ path, source: where(['extends', i]) })),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.unattributed !== undefined ? { unattributed: spec.unattributed } : {}),
    ...(spec.openBeforeCapture !== undefined ? { openBeforeCapture: spec.openBeforeCapture } : {}),
    allow: simple('allow', spec.allow),
    expect: (spec.expect ?? []).map((r, i) =>
      makeRule(
        'expect',
        [compileMatcher(r, 'any')],
        r.reason,
        where(['expect', i]),
        r.minConnections !== undefined ? { minConnections: r.minConnections } : {},
      ),
    ),
    forbid: (spec.forbid ?? []).map((r, i) =>
      makeRule('forbid', [compileMatcher(r)], r.reason, where(['forbid', i]), {
        severity: r.severity ?? 'normal',
      }),
    ),
    identifierAllow: (spec.identifiers?.allow ?? []).map((r, i) =>
      makeIdentifierRule('allow identifier', r, where(['identifiers', 'allow', i])),
    ),
    identifierForbid: (spec.identifiers?.forbid ?? []).map((r, i) =>
      makeIdentifierRule('forbid identifier', r, where(['identifiers', 'forbid', i])),
    ),
    ...(spec.identifierLeaks !== undefined ? { identifierLeaks: spec.identifierLeaks } : {}),
    ...(spec.drift !== undefined ? { drift: spec.drift } : {}),
    budgets: (spec.budget ?? []).map((b, i) =>
      makeRule(
        'budget',
        b.hosts.map((m) => compileMatcher(m)),
        b.reason,
        where(['budget', i]),
        {
          ...(b.maxBytes !== undefined ? { maxBytes: b.maxBytes } : {}),
          ...(b.maxConnections !== undefined ? { maxConnections: b.maxConnections } : {}),
        },
      ),
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
    openBeforeCapture: 'warn',
    allow: [],
    forbid: [],
    expect: [],
    budgets: [],
    identifierAllow: [],
    identifierForbid: [],
    identifierLeaks: 'fail',
    drift: 'warn',
  };
  const done = new Set<string>();
  const stack: { key: string; shown: string }[] = [];
  let unattributed: UnattributedPolicy | undefined;
  let openBeforeCapture: UnattributedPolicy | undefined;

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
    if (parsed.openBeforeCapture !== undefined) openBeforeCapture = parsed.openBeforeCapture;
    out.allow.push(...parsed.allow);
    out.forbid.push(...parsed.forbid);
    out.expect.push(...parsed.expect);
    out.budgets.push(...parsed.budgets);
    out.identifierAllow.push(...parsed.identifierAllow);
    out.identifierForbid.push(...parsed.identifierForbid);
    if (parsed.identifierLeaks !== undefined) out.identifierLeaks = parsed.identifierLeaks;
    if (parsed.drift !== undefined) out.drift = parsed.drift;
  };
  visit(file);
  if (unattributed !== undefined) out.unattributed = unattributed;
  if (openBeforeCapture !== undefined) out.openBeforeCapture = openBeforeCapture;
  return out;
}
