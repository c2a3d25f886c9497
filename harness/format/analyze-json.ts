/**
 * The JSON document `phonehome analyze --format json` writes, version 1. Every field is documented in
 * docs/analyze-json.md; this file maps the analysis and verdict onto that format field by field, so
 * that an internal type can change without the saved format changing by accident.
 */
import type { Analysis } from '../analyze.js';
import type { Flow } from '../flows/flow.js';
import type { RuleInfo } from '../verdict/rule.js';
import type { Verdict } from '../verdict/verdict.js';

/** The version of the document; bumped on any change that is not a pure addition. */
export const ANALYZE_JSON_VERSION = 2;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function flowJson(f: Flow): { [key: string]: Json } {
  const out: { [key: string]: Json } = {
    uid: f.uid,
    proto: f.proto,
    orig: { addr: f.orig.addr, port: f.orig.port },
    // The geo stage's object is plain data already (and shared between flows): written as it is.
    resp: f.resp.geo
      ? { addr: f.resp.addr, port: f.resp.port, geo: f.resp.geo as unknown as Json }
      : { addr: f.resp.addr, port: f.resp.port },
    tsStart: f.tsStart,
    tsEnd: f.tsEnd,
    origBytes: f.origBytes,
    respBytes: f.respBytes,
    origPkts: f.origPkts,
    respPkts: f.respPkts,
    service: f.service ?? null,
    names: f.names.map(
      (n): Json =>
        n.invalid ? { name: n.name, source: n.source, invalid: true } : { name: n.name, source: n.source },
    ),
  };
  if (f.connState !== undefined) out.connState = f.connState;
  if (f.midstream) out.midstream = true;
  if (f.app !== undefined) out.app = { uid: f.app.uid, name: f.app.name };
  if (f.tls !== undefined) {
    const tls: { [key: string]: Json } = { alpn: [...f.tls.alpn], ech: f.tls.ech };
    if (f.tls.sni !== undefined) tls.sni = f.tls.sni;
    if (f.tls.tlsVersion !== undefined) tls.tlsVersion = f.tls.tlsVersion;
    out.tls = tls;
  }
  if (f.http !== undefined) {
    const http: { [key: string]: Json } = {
      method: f.http.method,
      target: f.http.target,
      version: f.http.version,
    };
    if (f.http.host !== undefined) http.host = f.http.host;
    out.http = http;
  }
  if (f.encryptedDns !== undefined) out.encryptedDns = f.encryptedDns;
  if (f.intercepted !== undefined) out.intercepted = JSON.parse(JSON.stringify(f.intercepted)) as Json;
  return out;
}

function dnsJson(d: Analysis['dns'][number]): { [key: string]: Json } {
  return {
    ts: d.ts,
    uid: d.uid,
    client: d.client,
    server: d.server,
    query: d.query,
    type: d.type,
    rcode: d.rcode,
    answers: [...d.answers],
  };
}

function ruleJson(r: RuleInfo | null): Json {
  if (r === null) return null;
  const out: { [key: string]: Json } = { kind: r.kind, match: r.match, reason: r.reason };
  if (r.severity !== undefined) out.severity = r.severity;
  if (r.maxBytes !== undefined) out.maxBytes = r.maxBytes;
  if (r.maxConnections !== undefined) out.maxConnections = r.maxConnections;
  if (r.minConnections !== undefined) out.minConnections = r.minConnections;
  out.file = r.file;
  out.line = r.line;
  out.column = r.column;
  return out;
}

function verdictJson(v: Verdict): { [key: string]: Json } {
  return {
    outcome: v.outcome,
    allowlistFiles: [...v.allowlistFiles],
    violations: v.violations.map((x) => ({
      subject: x.subject,
      provenance: x.provenance,
      rule: ruleJson(x.rule),
      ruleText: x.ruleText,
      severity: x.severity,
      flows: [...x.flows],
      addrs: [...x.addrs],
      firstSeen: x.firstSeen,
      lastSeen: x.lastSeen,
      connections: x.connections,
      bytesUp: x.bytesUp,
      bytesDown: x.bytesDown,
    })),
    unmetExpectations: v.unmetExpectations.map((u) => ({
      rule: ruleJson(u.rule),
      ruleText: u.ruleText,
      ...(u.seen !== undefined ? { seen: u.seen } : {}),
    })),
    budgets: v.budgets.map((b) => ({
      rule: ruleJson(b.rule),
      ruleText: b.ruleText,
      bytes: b.bytes,
      connections: b.connections,
      flows: [...b.flows],
      exceeded: b.exceeded,
    })),
    judgements: v.judgements.map((j) => ({
      uid: j.uid,
      status: j.status,
      subject: j.subject,
      provenance: j.provenance,
      rule: ruleJson(j.rule),
      ruleText: j.ruleText,
    })),
    warnings: [...v.warnings],
    ...(v.cannotJudge ? { cannotJudge: [...v.cannotJudge] } : {}),
    ...(v.identifierLeaks
      ? {
          identifierLeaks: v.identifierLeaks.map((j) => ({
            ...(JSON.parse(JSON.stringify(j.leak)) as { [key: string]: Json }),
            subject: j.subject,
            status: j.status,
            rule: ruleJson(j.rule),
            ruleText: j.ruleText,
            severity: j.severity,
          })),
        }
      : {}),
  };
}

/** The analyze document as plain JSON data. `file` is the capture as the user named it ("-" for stdin). */
export function analyzeJson(file: string, analysis: Analysis, verdict?: Verdict): { [key: string]: Json } {
  const c = analysis.capture;
  const doc: { [key: string]: Json } = {
    formatVersion: ANALYZE_JSON_VERSION,
    capture: {
      file,
      format: c.format,
      frames: c.frames,
      bytes: c.bytes,
      linkTypes: [...c.linkTypes],
      truncated: c.truncated
        ? {
            offset: c.truncated.offset,
            message: c.truncated.message,
            ...(c.truncated.corrupt ? { corrupt: true } : {}),
          }
        : null,
      ...(c.damaged
        ? { damaged: { count: c.damaged.count, offset: c.damaged.offset, message: c.damaged.message } }
        : {}),
    },
    device: { addrs: [...analysis.device.addrs], inferred: analysis.device.inferred },
    flows: analysis.flows.map(flowJson),
    dns: analysis.dns.map(dnsJson),
    skipped: analysis.skipped.map((s) => ({ reason: s.reason, count: s.count, firstFrame: s.firstFrame })),
    warnings: [...analysis.warnings],
  };
  // Masked values and fingerprints only: the search results never hold an identifier itself.
  if (analysis.identifiers) doc.identifiers = JSON.parse(JSON.stringify(analysis.identifiers)) as Json;
  if (analysis.geo) doc.geo = JSON.parse(JSON.stringify(analysis.geo)) as Json;
  if (analysis.intercept) doc.intercept = JSON.parse(JSON.stringify(analysis.intercept)) as Json;
  if (verdict) doc.verdict = verdictJson(verdict);
  return doc;
}

/** The document as text: two-space indented, ending in a newline. */
export function formatAnalyzeJson(file: string, analysis: Analysis, verdict?: Verdict): string {
  return [...analyzeJsonChunks(file, analysis, verdict)].join('');
}

/**
 * The same text in pieces, one flow or DNS record at a time, so that a capture with a hundred
 * thousand flows is written without first building one string of all of them.
 */
export function* analyzeJsonChunks(file: string, analysis: Analysis, verdict?: Verdict): Generator<string> {
  const head = analyzeJson(file, { ...analysis, flows: [], dns: [] }, verdict);
  const lists: Record<string, () => Generator<{ [key: string]: Json }>> = {
    flows: function* () {
      for (const f of analysis.flows) yield flowJson(f);
    },
    dns: function* () {
      for (const d of analysis.dns) yield dnsJson(d);
    },
  };
  const keys = Object.keys(head);
  yield '{\n';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const list = lists[key];
    const count = key === 'flows' ? analysis.flows.length : key === 'dns' ? analysis.dns.length : 0;
    if (list && count > 0) yield* listChunks(key, list());
    else yield `  ${JSON.stringify(key)}: ${JSON.stringify(head[key], null, 2).replace(/\n/g, '\n  ')}`;
    yield i < keys.length - 1 ? ',\n' : '\n';
  }
  yield '}\n';
}

/**
 * Items per JSON.stringify call when a long list is written. Each batch is text made, copied and
 * dropped: 64 flows (about 60 KB) keep that garbage small next to the flows themselves (peak RSS on
 * the 2.2 GB bench capture: 188–193 MB at 64, 208–210 MB at 256, 215–220 MB at 1024).
 */
const LIST_BATCH = 64;

/**
 * `  "key": [ … ]` for a non-empty list, LIST_BATCH items per piece. Each batch is stringified as
 * the one member of an object, {"key": [batch]}, which indents its items exactly as they sit in the
 * document; the object's opening and closing lines are cut off and the batches joined with commas.
 */
function* listChunks(key: string, items: Iterable<{ [key: string]: Json }>): Generator<string> {
  const open = `{\n  ${JSON.stringify(key)}: [\n`;
  const close = '\n  ]\n}';
  let batch: { [key: string]: Json }[] = [];
  let first = true;
  const piece = (): string => {
    const text = JSON.stringify({ [key]: batch }, null, 2);
    const body = text.slice(open.length, text.length - close.length);
    const out = first ? `${open.slice(2)}${body}` : `,\n${body}`;
    first = false;
    batch = [];
    return out;
  };
  for (const item of items) {
    batch.push(item);
    if (batch.length === LIST_BATCH) yield piece();
  }
  if (batch.length > 0) yield piece();
  yield '\n  ]';
}
