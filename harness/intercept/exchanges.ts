/**
 * What mitmproxy saw of a run (the JSON lines harness/mitm/addon/phonehome_exchanges.py
 * writes): read and checked line by line, then joined to the capture's flows by the phone's address
 * and source port and the time, so a flow carries the requests seen inside its TLS, or why none
 * were (the phone refused mitmproxy's certificate, the handshake failed, the host passed through).
 * Pure: text in, records out; flows in, flows marked and a summary out.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { Flow, InterceptedFlow } from '../flows/flow.js';

const addr = z.tuple([z.string().min(1), z.number().int().min(0).max(65535)]);
const headers = z.array(z.tuple([z.string(), z.string()]));

const exchange = z.object({
  type: z.literal('exchange'),
  ts: z.number(),
  client: addr,
  server: addr.nullable(),
  sni: z.string().nullable(),
  tls: z.string().nullable(),
  method: z.string().min(1),
  url: z.string().min(1),
  httpVersion: z.string(),
  requestHeaders: headers,
  requestBody: z.string().nullable(),
  requestBodySize: z.number().int().min(0),
  requestEncoding: z.string().nullable(),
  status: z.number().int().nullable(),
  responseHeaders: headers,
  responseBody: z.string().nullable(),
  responseBodySize: z.number().int().min(0),
  responseEncoding: z.string().nullable(),
  error: z.string().nullable(),
});

const tlsFailed = z.object({
  type: z.literal('tls_failed'),
  ts: z.number(),
  side: z.enum(['client', 'server']),
  why: z.enum(['refused-certificate', 'left-during-handshake', 'tls-version', 'upstream', 'other']),
  client: addr.nullable(),
  server: addr.nullable(),
  sni: z.string().nullable(),
  error: z.string(),
});

const connection = z.object({
  type: z.literal('connection'),
  ts: z.number(),
  client: addr.nullable(),
  server: addr.nullable(),
  sni: z.string().nullable(),
  tlsEstablished: z.boolean(),
  requests: z.number().int().min(0),
  start: z.number(),
  tlsSetup: z.number().nullable(),
  error: z.string().nullable(),
});

const marker = z.object({ type: z.enum(['start', 'done']), ts: z.number() }).passthrough();

const record = z.discriminatedUnion('type', [exchange, tlsFailed, connection, marker]);

export type ExchangeRecord = z.infer<typeof exchange>;
export type TlsFailedRecord = z.infer<typeof tlsFailed>;
export type ConnectionRecord = z.infer<typeof connection>;

/** A run's exchanges file, read. */
export interface ExchangeLog {
  file: string;
  exchanges: ExchangeRecord[];
  failures: TlsFailedRecord[];
  connections: ConnectionRecord[];
  /** Whether mitmdump wrote its closing line (it was stopped, not killed). */
  complete: boolean;
  /** A last line cut short (the proxy killed mid-write): left out, said here. */
  warnings: string[];
}

/** Reads an exchanges file's text; a line that is not a record throws ConfigError naming file, line and field. */
export function parseExchanges(text: string, file: string): ExchangeLog {
  const log: ExchangeLog = {
    file,
    exchanges: [],
    failures: [],
    connections: [],
    complete: false,
    warnings: [],
  };
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const last = i === lines.length - 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      // Every line is written whole and flushed; only a proxy killed mid-write leaves a cut one.
      if (last) {
        log.warnings.push(
          `${file}:${i + 1}: the last line is cut short (the proxy stopped mid-write): left out`,
        );
        return;
      }
      throw new ConfigError(file, i + 1, 1, '', `not a JSON line (${(err as Error).message})`);
    }
    const r = record.safeParse(value);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      throw new ConfigError(file, i + 1, 1, issue.path.join('.'), issue.message);
    }
    const v = r.data;
    if (v.type === 'exchange') log.exchanges.push(v);
    else if (v.type === 'tls_failed') log.failures.push(v);
    else if (v.type === 'connection') log.connections.push(v);
    else if (v.type === 'done') log.complete = true;
  });
  return log;
}

/** How far a record's time may lie outside its flow's span, seconds (the proxy and capture clocks). */
const SLACK_S = 2;

/** The host a flow is known by: its first name, else its responder's address. */
export function flowHost(f: Flow): string {
  return f.names[0]?.name ?? f.resp.addr;
}

/** True for a flow mitmproxy is asked to see: the phone's TCP to port 80 or 443. */
function redirected(f: Flow): boolean {
  return f.proto === 'tcp' && (f.resp.port === 443 || f.resp.port === 80);
}

/** True when a host name or address matches one of the ignore patterns (mitmproxy's re.search, case-insensitive). */
export function ignoredHost(patterns: readonly RegExp[], f: Flow): boolean {
  const subjects = [f.resp.addr, ...f.names.map((n) => n.name)];
  return patterns.some((p) => subjects.some((s) => p.test(s)));
}

/** One line of the interception summary: a host and what interception saw of it. */
export interface InterceptHost {
  host: string;
  /** inside: requests read; the rest: why not. */
  status: InterceptedFlow['status'];
  flows: number;
  bytes: number;
  /** Requests read inside its TLS. */
  requests: number;
  /** The apps (packages) that made these connections, when the capture tells (PCAPdroid). */
  apps?: string[];
}

/** What interception covered in a run: for the verdict and the report. */
export interface InterceptSummary {
  mode: 'mitmproxy';
  file: string;
  exchanges: number;
  /** The phone's TLS connections (TCP 443) and how many were read inside. */
  tlsFlows: number;
  decryptedFlows: number;
  /** Per host and status, most bytes first. */
  hosts: InterceptHost[];
  /** Why interception did not work, when it did not (no TLS connection read while some existed). */
  problem?: string;
  warnings: string[];
}

/**
 * Marks each of the phone's TCP 80/443 flows with what mitmproxy saw of it (flow.intercepted) and
 * returns the summary. A record joins the flow whose phone address and port it names and whose span
 * holds its time; records that join no flow are counted in a warning.
 */
export function joinExchanges(
  flows: Flow[],
  log: ExchangeLog,
  ignore: readonly RegExp[] = [],
): InterceptSummary {
  const byPort = new Map<string, Flow[]>();
  for (const f of flows) {
    if (!redirected(f)) continue;
    const k = `${f.orig.addr}|${f.orig.port}`;
    byPort.set(k, [...(byPort.get(k) ?? []), f]);
  }
  const find = (client: [string, number] | null, ts: number): Flow | undefined => {
    if (!client) return undefined;
    const candidates = byPort.get(`${client[0]}|${client[1]}`) ?? [];
    return candidates.find((f) => ts >= f.tsStart - SLACK_S && ts <= f.tsEnd + SLACK_S);
  };
  const mark = (f: Flow): InterceptedFlow => {
    f.intercepted ??= { status: 'not-seen', requests: [] };
    return f.intercepted;
  };
  let unjoined = 0;
  for (const x of log.exchanges) {
    const f = find(x.client, x.ts);
    if (!f) {
      unjoined += 1;
      continue;
    }
    const m = mark(f);
    m.status = 'inside';
    m.requests.push({
      ts: x.ts,
      method: x.method,
      url: x.url,
      httpVersion: x.httpVersion,
      ...(x.status !== null ? { status: x.status } : {}),
      up: x.requestBodySize,
      down: x.responseBodySize,
      ...(x.error ? { error: x.error } : {}),
    });
  }
  for (const t of log.failures) {
    const f = find(t.client, t.ts);
    if (!f) {
      unjoined += 1;
      continue;
    }
    const m = mark(f);
    if (m.status === 'inside') continue;
    m.status =
      t.side === 'client' && (t.why === 'refused-certificate' || t.why === 'left-during-handshake')
        ? 'pinned'
        : 'failed';
    m.why = t.error;
  }
  for (const c of log.connections) {
    const f = find(c.client, c.ts);
    if (!f) continue;
    const m = mark(f);
    // A client that set up TLS with mitmproxy and closed without a request: a pin checked after the handshake.
    if (m.status === 'not-seen' && c.tlsEstablished && c.requests === 0) {
      m.status = 'no-request';
      m.why = 'TLS was set up with mitmproxy, then closed without a request';
    } else if (m.status === 'not-seen' && !c.tlsEstablished && f.resp.port === 443 && !c.error) {
      m.status = ignoredHost(ignore, f) ? 'passed-through' : 'failed';
      if (m.status === 'failed') m.why = 'mitmproxy saw the connection but no TLS handshake';
    } else if (m.status === 'not-seen' && f.resp.port === 80 && c.requests === 0) m.status = 'no-request';
  }
  for (const f of flows) {
    if (!redirected(f)) continue;
    const m = mark(f);
    if (m.status === 'not-seen' && ignoredHost(ignore, f)) m.status = 'passed-through';
  }

  const hosts = new Map<string, InterceptHost>();
  let tlsFlows = 0;
  let decryptedFlows = 0;
  for (const f of flows) {
    if (!f.intercepted) continue;
    const m = f.intercepted;
    if (f.resp.port === 443) {
      tlsFlows += 1;
      if (m.status === 'inside') decryptedFlows += 1;
    }
    const host = flowHost(f);
    const k = `${host}\0${m.status}`;
    const h = hosts.get(k) ?? { host, status: m.status, flows: 0, bytes: 0, requests: 0 };
    h.flows += 1;
    h.bytes += f.origBytes + f.respBytes;
    h.requests += m.requests.length;
    const app = f.app?.package ?? f.app?.name;
    if (app && !h.apps?.includes(app)) h.apps = [...(h.apps ?? []), app];
    hosts.set(k, h);
  }
  const warnings = [...log.warnings];
  if (unjoined > 0)
    warnings.push(
      `${unjoined} of mitmproxy's records match no connection in the capture (a clock or address mismatch)`,
    );
  if (!log.complete)
    warnings.push(
      `${log.file} has no closing line: mitmproxy did not stop cleanly, its last records may be missing`,
    );
  const summary: InterceptSummary = {
    mode: 'mitmproxy',
    file: log.file,
    exchanges: log.exchanges.length,
    tlsFlows,
    decryptedFlows,
    hosts: [...hosts.values()].sort((a, b) => b.bytes - a.bytes || a.host.localeCompare(b.host)),
    warnings,
  };
  const tlsNotPassed = flows.filter(
    (f) => f.resp.port === 443 && f.intercepted && f.intercepted.status !== 'passed-through',
  ).length;
  if (tlsNotPassed > 0 && decryptedFlows === 0) {
    const pinned = flows.filter((f) => f.intercepted?.status === 'pinned').length;
    summary.problem =
      `interception did not work: none of the phone's ${tlsNotPassed} TLS connections was read inside` +
      (pinned ? ` (${pinned} refused mitmproxy's certificate: is its CA installed on the phone?)` : '');
  }
  return summary;
}

/**
 * One decrypted request as HTTP/1.1 bytes (request line, headers, body as sent), so the identifier
 * search reads its URL, headers, cookies and body with the same places as plain HTTP.
 */
export function requestBytes(x: ExchangeRecord): Buffer {
  let target = '/';
  try {
    const u = new URL(x.url);
    target = `${u.pathname}${u.search}`;
  } catch {
    target = x.url;
  }
  const body = x.requestBody ? Buffer.from(x.requestBody, 'base64') : Buffer.alloc(0);
  const safe = (s: string) => s.replace(/[\r\n]/g, ' ');
  const head = [`${safe(x.method)} ${safe(target)} HTTP/1.1`];
  for (const [k, v] of x.requestHeaders) {
    const name = k.toLowerCase();
    if (name === 'content-length' || name === 'transfer-encoding') continue;
    head.push(`${safe(k)}: ${safe(v)}`);
  }
  if (!x.requestHeaders.some(([k]) => k.toLowerCase() === 'host')) {
    try {
      head.push(`Host: ${new URL(x.url).host}`);
    } catch {}
  }
  if (body.length > 0) head.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** The exchanges that belong to TLS connections of the phone, each with its flow: for the identifier search. */
export function decryptedExchanges(
  flows: Flow[],
  log: ExchangeLog,
): { flow: Flow; exchange: ExchangeRecord }[] {
  const out: { flow: Flow; exchange: ExchangeRecord }[] = [];
  const byPort = new Map<string, Flow[]>();
  for (const f of flows) {
    if (f.proto !== 'tcp' || f.resp.port !== 443) continue;
    const k = `${f.orig.addr}|${f.orig.port}`;
    byPort.set(k, [...(byPort.get(k) ?? []), f]);
  }
  for (const x of log.exchanges) {
    const f = (byPort.get(`${x.client[0]}|${x.client[1]}`) ?? []).find(
      (fl) => x.ts >= fl.tsStart - SLACK_S && x.ts <= fl.tsEnd + SLACK_S,
    );
    if (f) out.push({ flow: f, exchange: x });
  }
  return out;
}

/**
 * The exchanges as phonehome shows them (exchanges.masked.jsonl, attached to the report): every
 * record as read, bodies left out (their sizes kept: a body can hold an identifier in any encoding),
 * every string through `fix` (the identifier redactor).
 */
export function maskedExchangeLines(log: ExchangeLog, fix: (text: string) => string): string[] {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fix(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  const records = [
    ...log.exchanges.map((x) => ({ ...x, requestBody: null, responseBody: null })),
    ...log.failures,
    ...log.connections,
  ].sort((a, b) => a.ts - b.ts);
  return records.map((r) => `${JSON.stringify(walk(r))}\n`);
}
