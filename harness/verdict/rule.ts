/** Compiled allowlist rules: each has a kind, a predicate and a describe() that reports print. */
import { basename } from 'node:path';
import type { EndpointGeo } from '../flows/flow.js';
import { type IpPrefix, parseCidr, prefixContains, sameIp } from '../packets/ip-prefix.js';
import { parseIp } from '../packets/ip-text.js';
import type { MatcherSpec, Severity } from './allowlist-schema.js';
import { type HostPattern, hostMatches, parseHostPattern } from './host-pattern.js';

/** Which list of the allowlist a rule came from. */
export type RuleKind = 'allow' | 'forbid' | 'expect' | 'budget' | 'allow identifier' | 'forbid identifier';

/** A rule as plain data, for verdicts and saved reports. */
export interface RuleInfo {
  /** The list it came from. */
  kind: RuleKind;
  /** What it matches, as text: "*.xiaomi.net", "10.0.0.0/8 udp/53"; budgets join their matchers with ", ". */
  match: string;
  /** The reason written in the file. */
  reason: string;
  /** forbid rules only: how bad a match is (default normal). */
  severity?: Severity;
  /** budget rules only: the byte limit. */
  maxBytes?: number;
  /** budget rules only: the connection limit. */
  maxConnections?: number;
  /** expect rules only: the fewest connections that meet it (absent: 1). */
  minConnections?: number;
  /** The allowlist file the rule is written in, as the user (or an extends entry) named it. */
  file: string;
  /** 1-based line of the rule in that file. */
  line: number;
  /** 1-based column of the rule in that file. */
  column: number;
}

/** What a rule is asked about: one name or one address of a flow's responder, with the flow's port and transport. */
export interface RuleTarget {
  /** A host name (from SNI, Host header, DNS…); host rules look only at this. */
  name?: string;
  /** The responder address; ip and cidr rules look only at this. */
  addr?: string;
  /** The same address as parseIp() bytes, when the caller has parsed it once for many rules. */
  addrBytes?: Uint8Array;
  /** Responder port; undefined means "do not check ports" (used for names asked of a resolver). */
  port?: number;
  /** Flow transport ("tcp", "udp", …); undefined means "do not check". */
  proto?: string;
  /** Where the flow's responder is (harness/geo); place rules (country, asn, org, party) need it. */
  geo?: EndpointGeo;
}

/** One compiled matcher: a host pattern, an address or a prefix, plus optional port and transport limits. */
export interface Matcher {
  /** Human text of the matcher, e.g. "*.xiaomi.net tcp/443". */
  text: string;
  /** Whether it looks at names (host) or at addresses (ip, cidr, or only where the responder is). */
  on: 'name' | 'address';
  /** True when it asks where the responder is (country, asn, org, party). */
  place: boolean;
  /** True when the target satisfies host/ip/cidr and any port/proto limits. */
  test(target: RuleTarget): boolean;
}

/** A compiled rule. */
export interface Rule {
  /** The list it came from. */
  kind: RuleKind;
  /** Plain-data description, kept in verdicts. */
  info: RuleInfo;
  /** The matchers (one, except for budgets). */
  matchers: Matcher[];
  /** True when any matcher accepts the target. */
  matches(target: RuleTarget): boolean;
  /** One line for reports: "allow *.xiaomi.net (Mi Push and cloud) from idle.yaml:7". */
  describe(): string;
}

/** Where a rule was written. */
export interface RuleSource {
  file: string;
  line: number;
  column: number;
}

/**
 * How a country rule reads a responder the country sources disagree about: `any` (forbid, expect,
 * budget: one source saying CN is enough to count it) or `all` (allow: every source must say an
 * allowed country, so a disagreement never allows by accident).
 */
export type CountryReading = 'any' | 'all';

/** Compiles a validated matcher (the schema has already checked every field). */
export function compileMatcher(spec: MatcherSpec, reading: CountryReading = 'any'): Matcher {
  const ports = spec.port === undefined ? undefined : Array.isArray(spec.port) ? spec.port : [spec.port];
  const proto = spec.proto;
  let text: string;
  let on: Matcher['on'];
  let core: (t: RuleTarget) => boolean;
  if (spec.host === undefined && spec.ip === undefined && spec.cidr === undefined) {
    text = '';
    on = 'address';
    core = () => true;
  } else if (spec.host !== undefined) {
    const r = parseHostPattern(spec.host);
    if (!r.ok) throw new Error(`unchecked host pattern ${spec.host}`);
    const pattern: HostPattern = r.pattern;
    text = pattern.text;
    on = 'name';
    core = (t) => t.name !== undefined && hostMatches(pattern, t.name);
  } else if (spec.ip !== undefined) {
    const bytes = parseIp(spec.ip);
    if (!bytes) throw new Error(`unchecked address ${spec.ip}`);
    text = spec.ip;
    on = 'address';
    core = (t) => {
      const addr = t.addrBytes ?? t.addr;
      return addr !== undefined && sameIp(bytes, addr);
    };
  } else if (spec.cidr !== undefined) {
    const r = parseCidr(spec.cidr);
    if (!r.ok) throw new Error(`unchecked prefix ${spec.cidr}`);
    const prefix: IpPrefix = r.prefix;
    text = spec.cidr;
    on = 'address';
    core = (t) => {
      const addr = t.addrBytes ?? t.addr;
      return addr !== undefined && prefixContains(prefix, addr);
    };
  } else {
    throw new Error('matcher without host, ip or cidr');
  }
  const where = placeTest(spec, reading);
  if (where) text = text ? `${text} ${where.text}` : where.text;
  if (proto !== undefined && ports !== undefined) text += ` ${proto}/${ports.join(',')}`;
  else if (proto !== undefined) text += ` ${proto}`;
  else if (ports !== undefined) text += ` port ${ports.join(',')}`;
  const place = where?.test;
  return {
    text,
    on,
    place: place !== undefined,
    test: (t) =>
      core(t) &&
      (place === undefined || (t.geo !== undefined && place(t.geo))) &&
      (ports === undefined || t.port === undefined || ports.includes(t.port)) &&
      (proto === undefined || t.proto === undefined || t.proto === proto),
  };
}

/** The country, asn, org and party conditions of a matcher, all of which must hold; undefined when it has none. */
function placeTest(
  spec: MatcherSpec,
  reading: CountryReading,
): { text: string; test: (g: EndpointGeo) => boolean } | undefined {
  const tests: ((g: EndpointGeo) => boolean)[] = [];
  const words: string[] = [];
  if (spec.country !== undefined) {
    const set = new Set(spec.country);
    words.push(`in ${spec.country.join('|')}`);
    tests.push((g) => {
      if (g.override) return g.country !== undefined && set.has(g.country);
      const said = (g.countries ?? []).map((c) => c.country).filter((c): c is string => c !== null);
      if (said.length === 0) return g.country !== undefined && set.has(g.country);
      return reading === 'all' ? said.every((c) => set.has(c)) : said.some((c) => set.has(c));
    });
  }
  if (spec.asn !== undefined) {
    const set = new Set(spec.asn);
    words.push(`AS${spec.asn.join('|AS')}`);
    tests.push((g) => g.asn !== undefined && set.has(g.asn));
  }
  if (spec.org !== undefined) {
    const want = spec.org.toLowerCase();
    words.push(`org ~"${spec.org}"`);
    tests.push(
      (g) => (g.org ?? '').toLowerCase().includes(want) || (g.asOrg ?? '').toLowerCase().includes(want),
    );
  }
  if (spec.party !== undefined) {
    const set = new Set<string>(spec.party);
    words.push(`party ${spec.party.join('|')}`);
    tests.push((g) => set.has(g.party));
  }
  if (tests.length === 0) return undefined;
  return { text: words.join(' '), test: (g) => tests.every((t) => t(g)) };
}

/** Builds a rule from its matchers, reason and source. */
export function makeRule(
  kind: RuleKind,
  matchers: Matcher[],
  reason: string,
  source: RuleSource,
  extra: Pick<RuleInfo, 'severity' | 'maxBytes' | 'maxConnections' | 'minConnections'> = {},
): Rule {
  const info: RuleInfo = {
    kind,
    match: matchers.map((m) => m.text).join(', '),
    reason,
    ...extra,
    file: source.file,
    line: source.line,
    column: source.column,
  };
  return {
    kind,
    info,
    matchers,
    matches: (t) => matchers.some((m) => m.test(t)),
    describe: () => describeRule(info),
  };
}

function formatLimit(info: RuleInfo): string {
  const parts: string[] = [];
  if (info.maxBytes !== undefined) parts.push(`at most ${info.maxBytes} bytes`);
  if (info.maxConnections !== undefined) parts.push(`at most ${info.maxConnections} connections`);
  return parts.join(' and ');
}

/** The describe() text of a rule given as plain data (so saved verdicts can be described again). */
export function describeRule(info: RuleInfo): string {
  const limit =
    info.kind === 'budget'
      ? ` ${formatLimit(info)} to`
      : info.minConnections !== undefined
        ? ` at least ${info.minConnections} connections to`
        : '';
  return `${info.kind}${limit} ${info.match} (${info.reason}) from ${basename(info.file)}:${info.line}`;
}

/** A compiled `identifiers` rule: an identifier kind, and the host it is about (any host when none). */
export interface IdentifierRule {
  kind: 'allow identifier' | 'forbid identifier';
  /** The identifier kind it is about. */
  id: string;
  info: RuleInfo;
  /** True when the rule covers a leak of `id` to a flow with these names. */
  matches(id: string, names: string[]): boolean;
  describe(): string;
}

/** Builds an identifiers rule from its validated entry. */
export function makeIdentifierRule(
  kind: IdentifierRule['kind'],
  spec: { id: string; host?: string | undefined; reason: string; severity?: Severity | undefined },
  source: RuleSource,
): IdentifierRule {
  const host = spec.host === undefined ? undefined : compileMatcher({ host: spec.host });
  const info: RuleInfo = {
    kind,
    match: host ? `${spec.id} to ${host.text}` : `${spec.id} to any host`,
    reason: spec.reason,
    ...(spec.severity ? { severity: spec.severity } : {}),
    file: source.file,
    line: source.line,
    column: source.column,
  };
  return {
    kind,
    id: spec.id,
    info,
    matches: (id, names) => id === spec.id && (!host || names.some((name) => host.test({ name }))),
    describe: () => describeRule(info),
  };
}
