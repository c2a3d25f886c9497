/**
 * Judging flows against an allowlist. Pure: flows and a compiled allowlist in, plain data out.
 *
 * How one flow is judged, in this order:
 * 1. Forbidden when a forbid rule matches its responder address or any of its names. Names a DNS flow
 *    asked its resolver for (source "dns-query") are matched by host only, whatever port or proto
 *    the rule names: asking for a forbidden name is a violation even if no connection follows.
 * 2. Allowed when an allow rule matches its responder address or any of its responder's names (SNI,
 *    Host, DNS answer), port and proto included. Names are aliases of one responder, so one is enough.
 * 3. A DNS flow whose resolver is not allowed is still allowed when every name it asked for is
 *    allowed by some host rule (matched by host only): each query is a separate question, so all of
 *    them must pass. A DNS flow's responder is its resolver: names that come only from DNS answers
 *    for the resolver's address are not used for it (steps 1–2), nor for expectations and budgets.
 * 4. A flow with no names at all is "unattributed": judged by ip/cidr rules only (steps 1–2); when none
 *    matches, the allowlist's `unattributed` policy decides: fail (a violation), warn (tolerated with a
 *    warning) or allow (tolerated). A connection (TCP, QUIC) that was already open when the capture began
 *    (midstream in a capture that lost nothing, see JudgeOptions.captureComplete) has its name before
 *    the capture: the allowlist's `openBeforeCapture` policy decides for it instead (default warn).
 * 5. Anything else is a violation with no rule ("no rule matched").
 */

import type { Flow, FlowName, NameSource } from '../flows/flow.js';
import type { GeoSummary } from '../geo/locate.js';
import type { Leak } from '../identifiers/find-leaks.js';
import type { InterceptSummary } from '../intercept/exchanges.js';
import { parseIp } from '../packets/ip-text.js';
import type { Allowlist } from './allowlist.js';
import type { Severity, UnattributedPolicy } from './allowlist-schema.js';
import type { Rule, RuleInfo, RuleTarget } from './rule.js';

/** What became of one flow. */
export type FlowStatus =
  /** An allow rule matched (or, for DNS, every name asked was allowed). */
  | 'allowed'
  /** A forbid rule matched: a violation. */
  | 'forbidden'
  /** No rule matched: a violation. */
  | 'unlisted'
  /** No name, no IP rule, and the allowlist's unattributed (or openBeforeCapture) policy is warn or allow. */
  | 'tolerated';

/** How a name or address was learnt: a name's source, or "address" for the responder's IP itself. */
export type Provenance = NameSource | 'address';

/** The judgement of one flow. */
export interface FlowJudgement {
  /** The flow's uid. */
  uid: string;
  /** The outcome for this flow. */
  status: FlowStatus;
  /** The name or address the judgement is about (the one a rule matched, else the flow's main name). */
  subject: string;
  /** How that subject was learnt. */
  provenance: Provenance;
  /** The rule that decided, or null when none did. */
  rule: RuleInfo | null;
  /** The rule's describe() text, or why no rule decided ("no rule matched", "unattributed: warn"). */
  ruleText: string;
}

/** Flows that broke the allowlist, grouped per subject and rule (names asked of a resolver apart from names contacted). */
export interface Violation {
  /** The host name or, for a flow without names, the responder address. Untrusted text from the wire. */
  subject: string;
  /** How the subject was learnt. */
  provenance: Provenance;
  /** The forbid rule that matched, or null when no rule allowed the contact. */
  rule: RuleInfo | null;
  /** The rule's describe() text, or "no rule matched". */
  ruleText: string;
  /** The forbid rule's severity; "normal" for contacts no rule matched. */
  severity: Severity;
  /** uids of the flows, in capture order. */
  flows: string[];
  /** Responder addresses of those flows, in first-seen order. */
  addrs: string[];
  /** Start of the first flow, seconds since the epoch. */
  firstSeen: number;
  /** End of the last flow. */
  lastSeen: number;
  /** Number of flows. */
  connections: number;
  /** Bytes the phone sent (originator IP payload), summed. */
  bytesUp: number;
  /** Bytes the responders sent, summed. */
  bytesDown: number;
}

/** An expect rule no flow satisfied, or fewer flows than its minConnections. */
export interface UnmetExpectation {
  /** The rule. */
  rule: RuleInfo;
  /** Its describe() text. */
  ruleText: string;
  /** How many connections matched it (fewer than it asks; 0 when none). */
  seen?: number;
}

/** An unmet expectation in words: "never seen: RULE" or "seen 12 of at least 80: RULE". */
export function unmetText(u: UnmetExpectation): string {
  return u.seen
    ? `seen ${u.seen} of at least ${u.rule.minConnections ?? 1}: ${u.ruleText}`
    : `never seen: ${u.ruleText}`;
}

/** One budget's total. */
export interface BudgetResult {
  /** The budget rule. */
  rule: RuleInfo;
  /** Its describe() text. */
  ruleText: string;
  /** Bytes of all matching flows, both directions. */
  bytes: number;
  /** Number of matching flows. */
  connections: number;
  /** uids of the matching flows. */
  flows: string[];
  /** True when bytes exceed maxBytes or connections exceed maxConnections. */
  exceeded: boolean;
}

/** The judgement of one identifier leak. */
export interface LeakJudgement {
  /** The leak, values masked. */
  leak: Leak;
  /** The flow's main name, else its responder address. Untrusted text from the wire. */
  subject: string;
  /** forbidden (a forbid rule), unlisted (no rule, identifierLeaks: fail), allowed, tolerated (identifierLeaks: warn). */
  status: 'forbidden' | 'unlisted' | 'allowed' | 'tolerated';
  rule: RuleInfo | null;
  /** The rule's describe() text, or "no identifiers rule mentions it" with the policy. */
  ruleText: string;
  severity: Severity;
}

/** The result of judging a capture's flows. */
export interface Verdict {
  /** "violations" when there is a violation, an unmet expectation or an exceeded budget; else "allowed". */
  outcome: 'allowed' | 'violations';
  /**
   * What TLS interception covered, when the run intercepted: which hosts were read inside TLS and
   * which were not (pinned, passed through), with bytes, so the reader knows what the identifier
   * search could see.
   */
  intercept?: InterceptSummary;
  /** The allowlist files used, base first. */
  allowlistFiles: string[];
  /** Violations, ordered by first seen, then subject. */
  violations: Violation[];
  /** Expectations no flow met, in file order. */
  unmetExpectations: UnmetExpectation[];
  /** Every budget with its totals, in file order. */
  budgets: BudgetResult[];
  /** One judgement per flow, in the order the flows were given. */
  judgements: FlowJudgement[];
  /** Things a reader should know that are not violations: encrypted DNS, tolerated unattributed flows. */
  warnings: string[];
  /** Each identifier leak judged, when the capture was searched for identifiers. */
  identifierLeaks?: LeakJudgement[];
  /** The location databases (names, versions, attributions) and overrides the place rules read. */
  geo?: GeoSummary;
  /**
   * Rules that could not be applied, and why (a country rule with no location database): the
   * outcome is then "violations", never "allowed".
   */
  cannotJudge?: string[];
}

/** Options for judge(). */
export interface JudgeOptions {
  /** Identifier leaks found in the flows (harness/identifiers/find-leaks.ts), judged by the identifiers rules. */
  leaks?: Leak[];
  /** Overrides the allowlist's unattributed policy. */
  unattributed?: UnattributedPolicy;
  /**
   * True when the capture is known to hold every packet from its start on (a run's capture backend
   * counted no drops): a connection whose start is not in it (Flow.midstream) was then open before
   * the capture began, not one whose start was lost. Without it every unnamed flow is unattributed.
   */
  captureComplete?: boolean;
  /**
   * What the location lookups had (harness/geo), when the flows carry resp.geo. Without it, or with
   * neither a database nor an override, rules about country, AS, organisation or party cannot be
   * applied and the verdict says so.
   */
  geo?: GeoSummary;
}

const NO_RULE = 'no rule matched';
/** ruleText of a flow carrying a name no host can have. */
const INVALID_NAME = 'not a valid host name: no rule can allow it';
/** ruleText prefix of an unnamed connection judged by the openBeforeCapture policy. */
const OPEN_BEFORE = 'open before the capture began';

interface Subject {
  target: RuleTarget;
  text: string;
  provenance: Provenance;
  /** A name no host can have (FlowName.invalid): no rule allows it. */
  invalid?: true;
}

/** True for a flow of DNS questions (plain DNS to a resolver). */
function isDnsFlow(flow: Flow): boolean {
  return flow.service === 'dns' || flow.names.some((n) => n.source === 'dns-query');
}

function responderSubjects(flow: Flow): Subject[] {
  const proto = flow.proto;
  const port = flow.resp.port;
  // A resolver is judged by its address and the questions asked of it. A name its address happens to
  // answer to (source "dns": a lab resolver that is also the server every name resolves to) says
  // nothing about what this flow was for, so it neither allows nor forbids it.
  const dns = isDnsFlow(flow);
  const geo = flow.resp.geo;
  const names = flow.names
    .filter((n) => n.source !== 'dns-query' && !(dns && n.source === 'dns'))
    .map((n) => subjectOf(n, { name: n.name, port, proto, ...(geo ? { geo } : {}) }));
  // Parsed once here rather than by every ip/cidr rule.
  const addrBytes = parseIp(flow.resp.addr);
  const address: Subject = {
    target: {
      addr: flow.resp.addr,
      ...(addrBytes ? { addrBytes } : {}),
      port,
      proto,
      ...(geo ? { geo } : {}),
    },
    text: flow.resp.addr,
    provenance: 'address',
  };
  return [...names, address];
}

function querySubjects(flow: Flow): Subject[] {
  return flow.names
    .filter((n: FlowName) => n.source === 'dns-query')
    .map((n) => subjectOf(n, { name: n.name }));
}

function subjectOf(n: FlowName, target: RuleTarget): Subject {
  const s: Subject = { target, text: n.name, provenance: n.source };
  if (n.invalid) s.invalid = true;
  return s;
}

function firstMatch(rules: Rule[], subjects: Subject[]): { rule: Rule; subject: Subject } | undefined {
  for (const rule of rules) {
    for (const subject of subjects) if (rule.matches(subject.target)) return { rule, subject };
  }
  return undefined;
}

function judgeFlow(
  flow: Flow,
  responder: Subject[],
  list: Allowlist,
  unattributed: UnattributedPolicy,
  captureComplete: boolean,
): FlowJudgement {
  const queries = querySubjects(flow);
  const decided = (
    status: FlowStatus,
    subject: Subject,
    rule: Rule | null,
    ruleText?: string,
  ): FlowJudgement => ({
    uid: flow.uid,
    status,
    subject: subject.text,
    provenance: subject.provenance,
    rule: rule ? rule.info : null,
    ruleText: ruleText ?? (rule ? rule.describe() : NO_RULE),
  });

  const forbidden = firstMatch(list.forbid, [...responder, ...queries]);
  if (forbidden) return decided('forbidden', forbidden.subject, forbidden.rule);

  // A name no host can have is what the phone sent, escaped: nothing may allow it by accident (a
  // "*.evil.test" rule and "a\x00b.evil.test"), so the flow is a violation of its own kind.
  const invalid = responder.find((x) => x.invalid) ?? queries.find((x) => x.invalid);
  if (invalid) return decided('unlisted', invalid, null, INVALID_NAME);

  const allowed = firstMatch(list.allow, responder);
  if (allowed) return decided('allowed', allowed.subject, allowed.rule);

  if (queries.length > 0) {
    const unallowed = queries.find((q) => !list.allow.some((r) => r.matches(q.target)));
    if (!unallowed) {
      const first = firstMatch(list.allow, queries)!;
      return decided('allowed', first.subject, first.rule);
    }
    return decided('unlisted', unallowed, null);
  }

  const address = responder[responder.length - 1]!;
  if (responder.length === 1) {
    if (flow.midstream && captureComplete) {
      const policy = list.openBeforeCapture;
      return decided(
        policy === 'fail' ? 'unlisted' : 'tolerated',
        address,
        null,
        `${OPEN_BEFORE}: ${policy}`,
      );
    }
    if (unattributed === 'fail') return decided('unlisted', address, null);
    return decided('tolerated', address, null, `unattributed: ${unattributed}`);
  }
  return decided('unlisted', responder[0]!, null);
}

/** Judges flows against an allowlist. */
export function judge(flows: Flow[], allowlist: Allowlist, opts: JudgeOptions = {}): Verdict {
  const unattributed = opts.unattributed ?? allowlist.unattributed;
  // Each flow's responder names and parsed address, built once for every rule that looks at them.
  const responders = flows.map(responderSubjects);
  const judgements = flows.map((f, i) =>
    judgeFlow(f, responders[i]!, allowlist, unattributed, opts.captureComplete === true),
  );
  const warnings: string[] = [];

  const groups = new Map<string, Violation>();
  flows.forEach((flow, i) => {
    const j = judgements[i]!;
    if (j.status !== 'forbidden' && j.status !== 'unlisted') return;
    // Asking a resolver for a name and contacting it are different facts: they group apart.
    const asked = j.provenance === 'dns-query' ? 'asked' : 'contacted';
    const rule = j.rule ? `${j.rule.file}:${j.rule.line}:${j.rule.column}` : '';
    const key = [j.status, asked, j.subject, rule].join('\u0000');
    let v = groups.get(key);
    if (!v) {
      v = {
        subject: j.subject,
        provenance: j.provenance,
        rule: j.rule,
        ruleText: j.ruleText,
        severity: j.rule?.severity ?? 'normal',
        flows: [],
        addrs: [],
        firstSeen: flow.tsStart,
        lastSeen: flow.tsEnd,
        connections: 0,
        bytesUp: 0,
        bytesDown: 0,
      };
      groups.set(key, v);
    }
    v.flows.push(flow.uid);
    if (!v.addrs.includes(flow.resp.addr)) v.addrs.push(flow.resp.addr);
    v.firstSeen = Math.min(v.firstSeen, flow.tsStart);
    v.lastSeen = Math.max(v.lastSeen, flow.tsEnd);
    v.connections += 1;
    v.bytesUp += flow.origBytes;
    v.bytesDown += flow.respBytes;
  });
  const violations = [...groups.values()].sort(
    (a, b) => a.firstSeen - b.firstSeen || (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0),
  );

  const unmetExpectations = allowlist.expect.flatMap((rule): UnmetExpectation[] => {
    const want = rule.info.minConnections ?? 1;
    let seen = 0;
    for (const subjects of responders) if (subjects.some((s) => rule.matches(s.target))) seen += 1;
    return seen >= want ? [] : [{ rule: rule.info, ruleText: rule.describe(), seen }];
  });

  const budgets = allowlist.budgets.map((rule): BudgetResult => {
    const matching = flows.filter((_, i) => responders[i]!.some((s) => rule.matches(s.target)));
    const bytes = matching.reduce((sum, f) => sum + f.origBytes + f.respBytes, 0);
    const connections = matching.length;
    const { maxBytes, maxConnections } = rule.info;
    return {
      rule: rule.info,
      ruleText: rule.describe(),
      bytes,
      connections,
      flows: matching.map((f) => f.uid),
      exceeded:
        (maxBytes !== undefined && bytes > maxBytes) ||
        (maxConnections !== undefined && connections > maxConnections),
    };
  });

  warnings.push(...encryptedDnsWarnings(flows));
  warnings.push(
    ...toleratedWarnings(
      flows,
      judgements,
      `${OPEN_BEFORE}: warn`,
      'was already open when the capture began (no handshake in it), so no name for it was captured; tolerated because openBeforeCapture: warn',
    ),
    ...toleratedWarnings(
      flows,
      judgements,
      'unattributed: warn',
      'has no name and no IP rule; tolerated because unattributed: warn',
    ),
  );

  const identifierLeaks = opts.leaks ? judgeLeaks(opts.leaks, flows, allowlist) : undefined;
  for (const j of identifierLeaks ?? [])
    if (j.status === 'tolerated')
      warnings.push(
        `${j.leak.kind} ${j.leak.masked} sent to ${j.subject} (${j.leak.place}, ${j.leak.encoding}): tolerated because identifierLeaks: warn`,
      );
  const leaked = (identifierLeaks ?? []).some((j) => j.status === 'forbidden' || j.status === 'unlisted');
  const cannotJudge = placeRulesUnjudged(allowlist, opts.geo);
  const failed =
    violations.length > 0 ||
    unmetExpectations.length > 0 ||
    budgets.some((b) => b.exceeded) ||
    leaked ||
    cannotJudge.length > 0;
  return {
    outcome: failed ? 'violations' : 'allowed',
    allowlistFiles: [...allowlist.files],
    violations,
    unmetExpectations,
    budgets,
    judgements,
    warnings,
    ...(identifierLeaks ? { identifierLeaks } : {}),
    ...(opts.geo ? { geo: opts.geo } : {}),
    ...(cannotJudge.length > 0 ? { cannotJudge } : {}),
  };
}

/**
 * Place rules (country, asn, org, party) that nothing could answer: without location data such a
 * forbid rule would match nothing and say nothing, so each one is named and the verdict fails.
 */
function placeRulesUnjudged(allowlist: Allowlist, geo: GeoSummary | undefined): string[] {
  const rules = [...allowlist.forbid, ...allowlist.allow, ...allowlist.expect, ...allowlist.budgets].filter(
    (r) => r.matchers.some((m) => m.place),
  );
  if (rules.length === 0) return [];
  if (geo && (geo.databases.length > 0 || geo.overrides > 0)) return [];
  const why = geo
    ? `no location database is installed and no override is set${geo.problems.length ? ` (${geo.problems.map((p) => `${p.name}: ${p.problem}`).join('; ')})` : ''}`
    : 'the flows were not located (lookups off)';
  return rules.map((r) => `${r.describe()}: cannot be applied: ${why}`);
}

/**
 * Each leak against the identifiers rules: a forbid rule for its kind (anywhere, or toward a name of
 * its flow) makes it forbidden; else an allow rule for its kind toward a name of its flow allows it;
 * else the allowlist's identifierLeaks policy decides (fail: unlisted, warn: tolerated).
 */
function judgeLeaks(leaks: Leak[], flows: Flow[], allowlist: Allowlist): LeakJudgement[] {
  const byUid = new Map(flows.map((f) => [f.uid, f]));
  return leaks.map((leak) => {
    const flow = byUid.get(leak.flow);
    // Names that are valid host names only: an invalid one can be allowed by no rule.
    const names = (flow?.names ?? []).filter((n) => !n.invalid).map((n) => n.name);
    const subject = flow?.names[0]?.name ?? flow?.resp.addr ?? leak.flow;
    const forbid = allowlist.identifierForbid.find((r) => r.matches(leak.kind, names));
    if (forbid)
      return {
        leak,
        subject,
        status: 'forbidden',
        rule: forbid.info,
        ruleText: forbid.describe(),
        severity: forbid.info.severity ?? 'normal',
      };
    const allow = allowlist.identifierAllow.find((r) => r.matches(leak.kind, names));
    if (allow)
      return {
        leak,
        subject,
        status: 'allowed',
        rule: allow.info,
        ruleText: allow.describe(),
        severity: 'normal',
      };
    const policy = allowlist.identifierLeaks;
    return {
      leak,
      subject,
      status: policy === 'warn' ? 'tolerated' : 'unlisted',
      rule: null,
      ruleText: `no identifiers rule mentions it: identifierLeaks: ${policy}`,
      severity: 'normal',
    };
  });
}

function encryptedDnsWarnings(flows: Flow[]): string[] {
  const byResolver = new Map<string, string[]>();
  for (const f of flows) {
    if (!f.encryptedDns) continue;
    const key = `${f.encryptedDns} to ${endpointText(f.resp.addr, f.resp.port)}`;
    byResolver.set(key, [...(byResolver.get(key) ?? []), f.uid]);
  }
  return [...byResolver].map(
    ([what, uids]) =>
      `encrypted DNS (${what}) in ${plural(uids.length, 'flow')} (${uids.join(', ')}): the names it resolved are hidden`,
  );
}

/**
 * One warning per responder address of the flows tolerated for this reason (a judgement's ruleText):
 * the address, its ports and flow count, then `explanation`.
 */
function toleratedWarnings(
  flows: Flow[],
  judgements: FlowJudgement[],
  reason: string,
  explanation: string,
): string[] {
  const byAddr = new Map<string, Flow[]>();
  flows.forEach((f, i) => {
    const j = judgements[i]!;
    if (j.status !== 'tolerated' || j.ruleText !== reason) return;
    byAddr.set(f.resp.addr, [...(byAddr.get(f.resp.addr) ?? []), f]);
  });
  return [...byAddr].map(([addr, fs]) => {
    const ports = [...new Set(fs.map((f) => `${f.proto}/${f.resp.port}`))].join(', ');
    return `${addr} (${ports}, ${plural(fs.length, 'flow')}) ${explanation}`;
  });
}

function endpointText(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
