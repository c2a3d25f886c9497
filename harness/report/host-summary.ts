/**
 * Per-host summary of a capture: one row per host (the name a flow was judged by, else its main name,
 * else the responder address) with connections, bytes each way, ports and the verdict. Pure.
 */
import type { Analysis } from '../analyze.js';
import type { Flow } from '../flows/flow.js';
import type { FlowStatus, Verdict } from '../verdict/verdict.js';
import type { HtmlTable } from './html-page.js';

/** One host's totals. */
export interface HostRow {
  /** Host name or responder address. Untrusted: it came off the wire. */
  host: string;
  /** Number of flows. */
  connections: number;
  /** Bytes the phone sent. */
  bytesUp: number;
  /** Bytes the host sent. */
  bytesDown: number;
  /** "tcp/443", "udp/53", … in first-seen order. */
  ports: string[];
  /** Verdict statuses of its flows ("allowed", "unlisted", …), in first-seen order; empty without a verdict. */
  statuses: FlowStatus[];
  /** Start of its first flow, seconds since the epoch. */
  firstSeen: number;
}

function mainName(f: Flow): string {
  return (f.names.find((n) => n.source !== 'dns-query') ?? f.names[0])?.name ?? f.resp.addr;
}

/** Rows, the hosts with most bytes first (ties by name). */
export function hostSummary(analysis: Analysis, verdict?: Verdict): HostRow[] {
  const judged = new Map(verdict?.judgements.map((j) => [j.uid, j]));
  const rows = new Map<string, HostRow>();
  for (const f of analysis.flows) {
    const j = judged.get(f.uid);
    const host = j && j.provenance !== 'address' ? j.subject : mainName(f);
    let row = rows.get(host);
    if (!row) {
      row = { host, connections: 0, bytesUp: 0, bytesDown: 0, ports: [], statuses: [], firstSeen: f.tsStart };
      rows.set(host, row);
    }
    row.connections += 1;
    row.bytesUp += f.origBytes;
    row.bytesDown += f.respBytes;
    row.firstSeen = Math.min(row.firstSeen, f.tsStart);
    const port = `${f.proto}/${f.resp.port}`;
    if (!row.ports.includes(port)) row.ports.push(port);
    if (j && !row.statuses.includes(j.status)) row.statuses.push(j.status);
  }
  return [...rows.values()].sort(
    (a, b) =>
      b.bytesUp + b.bytesDown - (a.bytesUp + a.bytesDown) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0),
  );
}

/** The summary as a table. */
export function hostSummaryTable(rows: HostRow[]): HtmlTable {
  return {
    caption: `Hosts contacted (${rows.length})`,
    head: ['host', 'verdict', 'connections', 'bytes up', 'bytes down', 'ports'],
    rows: rows.map((r) => [
      r.host,
      r.statuses.join(', '),
      r.connections,
      r.bytesUp,
      r.bytesDown,
      r.ports.join(' '),
    ]),
    empty: 'no flows in the capture',
  };
}
