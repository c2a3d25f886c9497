/**
 * `phonehome analyze` for people: one row per name the phone contacted (largest first), then the
 * violations with their evidence, unmet expectations, budgets and the outcome, then the device line,
 * warnings and what was skipped. Everything that came from the capture goes through terminalSafe() before it is printed.
 */
import type { Analysis } from '../analyze.js';
import type { Flow } from '../flows/flow.js';
import { type FlowJudgement, type FlowStatus, unmetText, type Verdict } from '../verdict/verdict.js';
import { formatBytes } from './bytes.js';
import { terminalSafe, terminalSafeClipped } from './terminal-text.js';

export { formatBytes } from './bytes.js';

/** Longest name shown in the table's first column; longer names are clipped with "…". */
const NAME_WIDTH = 60;
/** Longest organisation text shown in the AS ORG column. */
const ORG_WIDTH = 32;

/** One table row: every flow whose main name (or, without names, responder address) is `subject`. */
export interface NameRow {
  /** The main name, or the responder address for flows without names. */
  subject: string;
  /** How the subject was learnt, over all its flows ("sni", "dns", "address", …). */
  sources: string[];
  /** Transport and port pairs seen, "tcp/443". */
  ports: string[];
  /** App names (PCAPdroid), when the capture tells. */
  apps: string[];
  /** The flows, in capture order. */
  flows: Flow[];
  connections: number;
  bytesUp: number;
  bytesDown: number;
  firstSeen: number;
  lastSeen: number;
  /** The worst judgement among the flows, when there is a verdict. */
  status?: FlowStatus;
}

const STATUS_RANK: Record<FlowStatus, number> = { allowed: 0, tolerated: 1, unlisted: 2, forbidden: 3 };
const STATUS_TEXT: Record<FlowStatus, string> = {
  allowed: 'allowed',
  tolerated: 'tolerated',
  unlisted: 'NOT ALLOWED',
  forbidden: 'FORBIDDEN',
};

/**
 * The subject a flow is listed under: its most direct responder name, else its responder address.
 * A DNS flow is listed under its resolver's address: the names it carries are the questions it asked
 * (and any name the resolver's own address answers to), not what the phone was talking to.
 */
export function mainSubject(f: Flow): { subject: string; source: string } {
  const dns = f.service === 'dns' || f.names.some((x) => x.source === 'dns-query');
  const n = dns ? undefined : f.names.find((x) => x.source !== 'dns-query');
  return n ? { subject: n.name, source: n.source } : { subject: f.resp.addr, source: 'address' };
}

/** Groups flows into rows, largest total bytes first, then by name. */
export function nameRows(flows: Flow[], judgements?: FlowJudgement[]): NameRow[] {
  const byUid = new Map(judgements?.map((j) => [j.uid, j]));
  const rows = new Map<string, NameRow>();
  for (const f of flows) {
    const { subject, source } = mainSubject(f);
    let row = rows.get(subject);
    if (!row) {
      row = {
        subject,
        sources: [],
        ports: [],
        apps: [],
        flows: [],
        connections: 0,
        bytesUp: 0,
        bytesDown: 0,
        firstSeen: f.tsStart,
        lastSeen: f.tsEnd,
      };
      rows.set(subject, row);
    }
    const add = (list: string[], x: string) => {
      if (!list.includes(x)) list.push(x);
    };
    add(row.sources, source);
    for (const n of f.names) if (n.name === subject) add(row.sources, n.source);
    add(row.ports, `${f.proto}/${f.resp.port}`);
    if (f.app?.name) add(row.apps, f.app.name);
    row.flows.push(f);
    row.connections += 1;
    row.bytesUp += f.origBytes;
    row.bytesDown += f.respBytes;
    row.firstSeen = Math.min(row.firstSeen, f.tsStart);
    row.lastSeen = Math.max(row.lastSeen, f.tsEnd);
    const j = byUid.get(f.uid);
    if (j && (row.status === undefined || STATUS_RANK[j.status] > STATUS_RANK[row.status]))
      row.status = j.status;
  }
  return [...rows.values()].sort(
    (a, b) =>
      b.bytesUp + b.bytesDown - (a.bytesUp + a.bytesDown) ||
      (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0),
  );
}

/** Time of day in UTC, "10:00:01". */
function clock(ts: number): string {
  return new Date(ts * 1000).toISOString().slice(11, 19);
}

function dateTime(ts: number): string {
  return `${new Date(ts * 1000).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "2019-03-04 10:00:01 UTC – 10:05:00", with the end's date too when it falls on another day. */
function timeSpan(from: number, to: number): string {
  const sameDay = dateTime(from).slice(0, 10) === dateTime(to).slice(0, 10);
  return `${dateTime(from)} – ${sameDay ? clock(to) : dateTime(to)}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Lays out rows of cells in columns two spaces apart; the last column is not padded. */
export function columns(rows: string[][], rightAligned: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const r of rows) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  }
  return rows.map((r) =>
    r
      .map((c, i) => {
        const pad = ' '.repeat(widths[i]! - [...c].length);
        if (rightAligned.has(i)) return pad + c;
        return i === r.length - 1 ? c : c + pad;
      })
      .join('  '),
  );
}

function deviceLine(a: Analysis): string {
  if (a.device.addrs.length === 0)
    return 'device unknown (no private address originates flows; give --device ADDR)';
  const addrs = a.device.addrs.map(terminalSafe).join(', ');
  return a.device.inferred
    ? `device ${addrs} (inferred: the address that originates most flows, private addresses first)`
    : `device ${addrs} (given with --device)`;
}

/** The whole table report. `file` is the capture as the user named it. */
export function formatAnalyzeTable(file: string, a: Analysis, verdict?: Verdict): string {
  const out: string[] = [];
  const c = a.capture;
  // reduce, not Math.min(...): a long capture has more flows than a call has room for arguments.
  const first = a.flows.reduce((t, f) => Math.min(t, f.tsStart), Number.POSITIVE_INFINITY);
  const last = a.flows.reduce((t, f) => Math.max(t, f.tsEnd), Number.NEGATIVE_INFINITY);
  const span = a.flows.length ? `, ${timeSpan(first, last)}` : '';
  out.push(
    `${terminalSafe(file === '-' ? 'stdin' : file)}: ${c.format}, ${plural(c.frames, 'frame')}, ${formatBytes(c.bytes)}${span}`,
  );
  out.push('');

  const rows = nameRows(a.flows, verdict?.judgements);
  if (rows.length === 0) {
    out.push('no flows');
  } else {
    const withApps = rows.some((r) => r.apps.length > 0);
    const withGeo = a.geo !== undefined;
    const header = ['NAME', 'CONNS', 'UP', 'DOWN', 'FIRST', 'LAST', 'PORTS', 'SOURCE'];
    if (withGeo) header.push('COUNTRY', 'AS ORG');
    if (withApps) header.push('APP');
    if (verdict) header.push('VERDICT');
    const cells = rows.map((r) => {
      const cols = [
        terminalSafeClipped(r.subject, NAME_WIDTH),
        String(r.connections),
        formatBytes(r.bytesUp),
        formatBytes(r.bytesDown),
        clock(r.firstSeen),
        clock(r.lastSeen),
        r.ports.join(','),
        r.sources.join(','),
      ];
      if (withGeo) cols.push(countryCell(r.flows), terminalSafeClipped(orgCell(r.flows), ORG_WIDTH) || '-');
      if (withApps) cols.push(terminalSafeClipped(r.apps.join(','), 30) || '-');
      if (verdict) cols.push(r.status ? STATUS_TEXT[r.status] : '-');
      return cols;
    });
    out.push(...columns([header, ...cells], new Set([1, 2, 3])));
  }
  out.push(...dnsLines(a));

  if (a.geo) out.push(...locationLines(a));
  if (a.identifiers) out.push(...identifierLines(a));
  if (verdict) out.push(...verdictLines(verdict, a));
  out.push('', deviceLine(a));

  const warnings = [...a.warnings, ...(verdict?.warnings ?? [])];
  if (warnings.length) {
    out.push('', `Warnings (${warnings.length})`);
    for (const w of warnings) out.push(`  ! ${terminalSafe(w)}`);
  }
  if (a.skipped.length) {
    const total = a.skipped.reduce((n, s) => n + s.count, 0);
    out.push('', `Skipped ${plural(total, 'frame')}`);
    out.push(
      ...columns(
        a.skipped.map((s) => [
          `  ${terminalSafe(s.reason)}`,
          `×${s.count}`,
          `first at frame ${s.firstFrame}`,
        ]),
        new Set([1]),
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

/** Most names listed in the DNS summary before "… and N more". */
const DNS_NAMES_SHOWN = 30;

const RCODES: Record<number, string> = { 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 5: 'REFUSED' };

/**
 * A DNS summary: how many answers from which resolvers, and the names looked up that no flow in the
 * capture contacted (a lookup alone already tells the resolver what the phone wanted).
 */
function dnsLines(a: Analysis): string[] {
  if (a.dns.length === 0) return [];
  const servers = [...new Set(a.dns.map((d) => d.server))];
  const contacted = new Set(
    a.flows.flatMap((f) => f.names.filter((n) => n.source !== 'dns-query').map((n) => n.name)),
  );
  const never = new Map<string, string>();
  for (const d of a.dns) {
    if (d.query === '' || contacted.has(d.query)) continue;
    const note =
      d.rcode === 0 ? (d.answers.length ? '' : 'no answer') : (RCODES[d.rcode] ?? `rcode ${d.rcode}`);
    if (!never.has(d.query) || never.get(d.query) !== '') never.set(d.query, note);
  }
  const names = [...never].map(([name, note]) => terminalSafe(name) + (note ? ` (${note})` : ''));
  const shown = names.slice(0, DNS_NAMES_SHOWN);
  const more =
    names.length > shown.length ? `, … and ${names.length - shown.length} more (see --format json)` : '';
  const out = [
    '',
    `DNS: ${plural(a.dns.length, 'answer')} from ${servers.map(terminalSafe).join(', ')}; ` +
      `${plural(names.length, 'name')} looked up but never contacted${names.length ? ':' : ''}`,
  ];
  if (names.length) out.push(...wrap(`${shown.join(', ')}${more}`, 100, '  '));
  return out;
}

/** Breaks text at spaces into lines of at most `width` characters (a longer word gets its own line). */
export function wrap(text: string, width: number, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines;
}

function verdictLines(v: Verdict, a: Analysis): string[] {
  const out: string[] = [];
  const byUid = new Map(a.flows.map((f) => [f.uid, f]));
  const files = v.allowlistFiles.map((f) => terminalSafe(f)).join(' + ');
  if (v.violations.length) {
    out.push('', `Violations (${v.violations.length})`);
    for (const x of v.violations) {
      const what =
        x.rule === null
          ? `is not allowed by ${files} (no rule matched)`
          : `is forbidden [${x.severity}]: ${terminalSafe(x.ruleText)}`;
      const via = x.provenance === 'address' ? '' : ` (${x.provenance})`;
      out.push(`  ✗ ${terminalSafe(x.subject)}${via} ${what}`);
      const flows =
        x.flows.length > 8
          ? `${x.flows.slice(0, 8).join(', ')}, … ${x.flows.length - 8} more`
          : x.flows.join(', ');
      out.push(
        `      ${plural(x.connections, 'connection')}, ${formatBytes(x.bytesUp)} up, ${formatBytes(x.bytesDown)} down, ` +
          `first ${clock(x.firstSeen)}, last ${clock(x.lastSeen)}; to ${x.addrs.map(terminalSafe).join(', ')}; flows ${flows}`,
      );
      const evidence = evidenceOf(byUid.get(x.flows[0] ?? ''));
      if (evidence) out.push(`      evidence: ${evidence}`);
    }
  }
  if (v.unmetExpectations.length) {
    out.push('', `Unmet expectations (${v.unmetExpectations.length})`);
    for (const u of v.unmetExpectations) out.push(`  ✗ ${terminalSafe(unmetText(u))}`);
  }
  if (v.budgets.length) {
    out.push('', `Budgets (${v.budgets.length})`);
    for (const b of v.budgets) {
      out.push(
        `  ${b.exceeded ? '✗ EXCEEDED' : '✓'} ${terminalSafe(b.ruleText)}: ` +
          `${formatBytes(b.bytes)} in ${plural(b.connections, 'connection')}`,
      );
    }
  }
  const leaked = (v.identifierLeaks ?? []).filter((j) => j.status === 'forbidden' || j.status === 'unlisted');
  if (leaked.length) {
    out.push('', `Identifier leaks not allowed (${leaked.length})`);
    for (const j of leaked) {
      const l = j.leak;
      out.push(
        `  ✗ ${l.kind}${l.slot !== undefined ? ` (slot ${l.slot})` : ''} ${l.masked} sent to ${terminalSafe(j.subject)} ` +
          `in ${terminalSafe(l.place)} as ${terminalSafe(l.encoding)}, first ${clock(l.firstSeen)}, ×${l.count}: ` +
          `${j.status === 'forbidden' ? `forbidden [${j.severity}] by ${terminalSafe(j.ruleText)}` : terminalSafe(j.ruleText)}`,
      );
    }
  }
  const problems = [
    v.violations.length ? plural(v.violations.length, 'violation') : '',
    leaked.length ? plural(leaked.length, 'identifier leak') : '',
    v.unmetExpectations.length ? plural(v.unmetExpectations.length, 'unmet expectation') : '',
    v.budgets.some((b) => b.exceeded)
      ? plural(v.budgets.filter((b) => b.exceeded).length, 'exceeded budget')
      : '',
  ].filter(Boolean);
  out.push(
    '',
    v.outcome === 'allowed'
      ? `verdict: allowed by ${files}`
      : `verdict: VIOLATIONS against ${files}: ${problems.join(', ')}`,
  );
  return out;
}

/** What the first flow of a violation shows: its ClientHello or HTTP request line. */
function evidenceOf(f: Flow | undefined): string | undefined {
  if (!f) return undefined;
  if (f.http) {
    return terminalSafeClipped(
      `${f.http.method} ${f.http.target} ${f.http.version} Host: ${f.http.host ?? '-'}`,
      160,
    );
  }
  if (f.tls) {
    const alpn = f.tls.alpn.length ? ` ALPN ${f.tls.alpn.join(',')}` : '';
    const ech = f.tls.ech ? ' (ECH: the SNI is the public outer name)' : '';
    return terminalSafeClipped(
      `${f.service === 'quic' ? 'QUIC' : 'TLS'} ClientHello SNI ${f.tls.sni ?? '-'}${alpn}${ech}`,
      160,
    );
  }
  const asked = f.names.filter((n) => n.source === 'dns-query').map((n) => n.name);
  if (asked.length) return terminalSafeClipped(`DNS query for ${asked.join(', ')}`, 160);
  return undefined;
}

/**
 * The identifier search: each leak (kind, masked value, where it went, the place and encoding, when
 * and how often), then what was searched and what could not be (encrypted, past the cap, missing).
 */
function identifierLines(a: Analysis): string[] {
  const id = a.identifiers!;
  const byUid = new Map(a.flows.map((f) => [f.uid, f]));
  const out = ['', `Identifier leaks (${id.leaks.length})`];
  if (id.leaks.length === 0) out.push('  none found in what could be searched');
  else {
    const rows = id.leaks.map((l) => {
      const f = byUid.get(l.flow);
      const to = f ? mainSubject(f).subject : l.flow;
      return [
        `  ${l.kind}${l.slot !== undefined ? ` (slot ${l.slot})` : ''} ${l.masked}`,
        terminalSafeClipped(to, NAME_WIDTH),
        terminalSafeClipped(l.place, 40),
        terminalSafeClipped(l.encoding, 48),
        clock(l.firstSeen),
        `×${l.count}`,
      ];
    });
    out.push(...columns([['  IDENTIFIER', 'TO', 'PLACE', 'ENCODING', 'FIRST', 'TIMES'], ...rows]));
  }
  out.push(
    `  searched ${plural(id.searched.flows, 'flow')} (${formatBytes(id.searched.bytes)}) for ${plural(id.sought.length, 'identifier')} in ${id.needles} forms; ` +
      `not searched: ${plural(id.encrypted.flows, 'encrypted flow')} (${formatBytes(id.encrypted.bytes)}), ` +
      `${formatBytes(id.notSearched.overCap)} past the cap, ${formatBytes(id.notSearched.missing)} never captured` +
      (id.decrypted
        ? `; read inside TLS by interception: ${plural(id.decrypted.flows, 'flow')} (${formatBytes(id.decrypted.bytes)} of requests)`
        : ''),
  );
  return out;
}

/**
 * The countries of a row's responders: "SG", "US,IE" for several, "CN≠US!" where the country
 * sources disagree, the special block's kind ("private") for addresses no country has, "?" where no
 * source knows, and "*" after a country a lab override gave.
 */
export function countryCell(flows: readonly Flow[]): string {
  const out: string[] = [];
  for (const f of flows) {
    const g = f.resp.geo;
    let c: string;
    if (!g) c = '?';
    else if (g.override) c = `${g.country ?? '?'}*`;
    else if (g.special) c = g.special;
    else if (g.disagree)
      c = `${[...new Set((g.countries ?? []).map((x) => x.country).filter((x) => x !== null))].join('≠')}!`;
    else c = g.country ?? '?';
    if (!out.includes(c)) out.push(c);
  }
  return out.join(',');
}

/** The organisations of a row's responders ("Google LLC"; several joined with "; "). */
export function orgCell(flows: readonly Flow[]): string {
  const out: string[] = [];
  for (const f of flows) {
    const org = f.resp.geo?.org;
    if (org && !out.includes(org)) out.push(org);
  }
  return out.join('; ');
}

/** Which databases answered, with the attribution their licences ask for, and the overrides. */
function locationLines(a: Analysis): string[] {
  const g = a.geo!;
  const out = ['', 'Locations'];
  for (const d of g.databases)
    out.push(`  ${d.name} ${d.version} (${d.role}, built ${d.builtAt.slice(0, 10)}, ${d.licence})`);
  for (const p of g.problems) out.push(`  ${p.name}: not used: ${terminalSafe(p.problem)}`);
  if (g.overrides > 0) out.push(`  ${plural(g.overrides, 'lab override')} (countries marked *)`);
  const credits = [...new Set(g.databases.map((d) => d.attribution).filter((x) => x !== ''))];
  for (const c of credits) out.push(`  ${c}`);
  return out;
}
