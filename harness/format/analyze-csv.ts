/**
 * `phonehome analyze --format csv`: one row per flow. RFC 4180 (CRLF line ends, fields with a comma,
 * quote or line break quoted, quotes doubled), and safe to open in a spreadsheet: a text cell that
 * starts with = + - @ (or a tab or carriage return) gets a leading ' so it is never run as a formula.
 * Numbers are written as numbers and never prefixed.
 */
import type { Analysis } from '../analyze.js';
import type { Flow } from '../flows/flow.js';
import type { FlowJudgement, Verdict } from '../verdict/verdict.js';

/** The columns, in order. */
export const CSV_COLUMNS = [
  'uid',
  'proto',
  'orig_addr',
  'orig_port',
  'resp_addr',
  'resp_port',
  'ts_start',
  'ts_end',
  'orig_bytes',
  'resp_bytes',
  'orig_pkts',
  'resp_pkts',
  'conn_state',
  'service',
  'names',
  'name_sources',
  'tls_sni',
  'tls_alpn',
  'http_method',
  'http_host',
  'http_target',
  'app_uid',
  'app_name',
  'encrypted_dns',
  'verdict',
  'verdict_subject',
  'rule',
  'resp_country',
  'resp_country_sources',
  'resp_city',
  'resp_asn',
  'resp_org',
  'party',
] as const;

type Cell = string | number | undefined;

/** A text cell made harmless for spreadsheets (formula injection). */
export function defuseFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One field, quoted as RFC 4180 requires. */
export function csvField(cell: Cell): string {
  if (cell === undefined) return '';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  const text = defuseFormula(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV record (without its line end). */
export function csvRecord(cells: readonly Cell[]): string {
  return cells.map(csvField).join(',');
}

function iso(ts: number): string {
  return new Date(ts * 1000).toISOString();
}

function flowCells(f: Flow, j: FlowJudgement | undefined): Cell[] {
  return [
    f.uid,
    f.proto,
    f.orig.addr,
    f.orig.port,
    f.resp.addr,
    f.resp.port,
    iso(f.tsStart),
    iso(f.tsEnd),
    f.origBytes,
    f.respBytes,
    f.origPkts,
    f.respPkts,
    f.connState,
    f.service,
    f.names.map((n) => n.name).join(' '),
    f.names.map((n) => n.source).join(' '),
    f.tls?.sni,
    f.tls?.alpn.join(' '),
    f.http?.method,
    f.http?.host,
    f.http?.target,
    f.app?.uid,
    f.app?.name,
    f.encryptedDns,
    j?.status,
    j?.subject,
    j?.ruleText,
    f.resp.geo?.country ?? f.resp.geo?.special,
    f.resp.geo?.countries?.map((c) => `${c.db}=${c.country ?? '-'}`).join(' '),
    f.resp.geo?.city ? `${f.resp.geo.city.name}, ${f.resp.geo.city.country}` : undefined,
    f.resp.geo?.asn,
    f.resp.geo?.org,
    f.resp.geo?.party,
  ];
}

/** The whole CSV text: a header row, then one row per flow in capture order. */
export function formatAnalyzeCsv(analysis: Analysis, verdict?: Verdict): string {
  const byUid = new Map(verdict?.judgements.map((j) => [j.uid, j]));
  const lines = [
    csvRecord(CSV_COLUMNS),
    ...analysis.flows.map((f) => csvRecord(flowCells(f, byUid.get(f.uid)))),
  ];
  return `${lines.join('\r\n')}\r\n`;
}
