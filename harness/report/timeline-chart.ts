/**
 * The endpoint timeline of a run as a static SVG: one row per host (first contacted first), each
 * connection a mark from its first to its last packet, the scenario's steps as labelled bands behind
 * them, and the connections a verdict counted against the allowlist in red. Made as text with no
 * browser and no script; every label escaped (host names come from the wire).
 */
import type { Flow } from '../flows/flow.js';
import { mainSubject } from '../format/analyze-table.js';
import { escapeXml } from './bar-chart.js';

/** A scenario step's span. */
export interface TimelineStep {
  name: string;
  tsStart: number;
  tsEnd: number;
}

/** How the verdict saw each flow, by uid (absent: not judged). */
export type FlowMark = 'allowed' | 'tolerated' | 'violation';

const WIDTH = 960;
const LABEL = 260;
const RIGHT = 20;
const ROW = 16;
const TOP = 62;
/** Hosts shown; the rest are counted in one line. */
const MAX_ROWS = 60;
const COLOURS: Record<FlowMark | 'unjudged', string> = {
  allowed: '#4a78a8',
  tolerated: '#e0a030',
  violation: '#c0392b',
  unjudged: '#888888',
};

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

/** The host a flow is listed under, as in the analyze table (a DNS flow under its resolver). */
function hostOf(f: Flow): string {
  return mainSubject(f).subject;
}

/** A round tick step (1, 2, 5 × 10^k seconds) giving about `count` ticks over `span` seconds. */
function tickStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-3)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * p) return m * p;
  return 10 * p;
}

function secondsText(s: number): string {
  if (s >= 120) return `${Math.round(s / 60)} min`;
  return `${Math.round(s * 10) / 10} s`;
}

/** The timeline. `marks` colour the flows a verdict judged; `title` heads the picture. */
export function timelineChart(
  flows: readonly Flow[],
  steps: readonly TimelineStep[],
  marks: ReadonlyMap<string, FlowMark>,
  title: string,
): string {
  const rows = new Map<string, Flow[]>();
  for (const f of [...flows].sort((a, b) => a.tsStart - b.tsStart)) {
    const h = hostOf(f);
    const list = rows.get(h);
    if (list) list.push(f);
    else rows.set(h, [f]);
  }
  const hosts = [...rows.keys()];
  const shown = hosts.slice(0, MAX_ROWS);
  const times = [
    ...flows.flatMap((f) => [f.tsStart, f.tsEnd]),
    ...steps.flatMap((s) => [s.tsStart, s.tsEnd]),
  ].filter((t) => Number.isFinite(t));
  const t0 = times.length ? Math.min(...times) : 0;
  const t1 = times.length ? Math.max(...times) : 1;
  const span = Math.max(t1 - t0, 1e-3);
  const plot = WIDTH - LABEL - RIGHT;
  const x = (t: number) => LABEL + ((t - t0) / span) * plot;
  const bottom = TOP + Math.max(1, shown.length) * ROW;
  const height = bottom + 44 + (hosts.length > shown.length ? 14 : 0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    '<style>text{font:11px sans-serif;fill:#222}.h{font-size:14px;font-weight:bold}.l{text-anchor:end}.s{font-size:10px;fill:#444}.a{font-size:10px;fill:#555;text-anchor:middle}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" class="h">${escapeXml(clip(title, 110))}</text>`,
  ];
  // Steps: bands behind the rows, their names above.
  steps.forEach((s, i) => {
    const a = x(s.tsStart);
    const w = Math.max(1, x(s.tsEnd) - a);
    out.push(
      `<rect x="${a.toFixed(1)}" y="${TOP - 14}" width="${w.toFixed(1)}" height="${bottom - TOP + 14}" fill="${i % 2 ? '#eef3f8' : '#f7f7f7'}"><title>${escapeXml(`${s.name}: ${secondsText(s.tsEnd - s.tsStart)}`)}</title></rect>`,
      `<text x="${(a + 2).toFixed(1)}" y="${TOP - 4 - (i % 3) * 11}" class="s">${escapeXml(clip(s.name, Math.max(4, Math.floor(w / 5.5) + 8)))}</text>`,
    );
  });
  shown.forEach((host, i) => {
    const y = TOP + i * ROW;
    const list = rows.get(host)!;
    const bad = list.some((f) => marks.get(f.uid) === 'violation');
    out.push(
      `<text x="${LABEL - 6}" y="${y + 11}" class="l"${bad ? ' fill="#c0392b"' : ''}>${escapeXml(clip(host, 40))}</text>`,
    );
    for (const f of list) {
      const mark = marks.get(f.uid) ?? 'unjudged';
      const a = x(f.tsStart);
      const w = Math.max(2, x(f.tsEnd) - a);
      out.push(
        `<rect x="${a.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLOURS[mark]}"><title>${escapeXml(`${host} ${f.proto}/${f.resp.port}: ${secondsText(f.tsStart - t0)} to ${secondsText(f.tsEnd - t0)}, ${f.origBytes} B up, ${f.respBytes} B down (${mark})`)}</title></rect>`,
      );
    }
  });
  if (shown.length === 0) out.push(`<text x="${LABEL}" y="${TOP + 11}" class="s">no connections</text>`);
  // Time axis: seconds since the first moment shown.
  const step = tickStep(span, 8);
  for (let t = 0; t <= span + 1e-9; t += step) {
    const at = x(t0 + t);
    out.push(
      `<line x1="${at.toFixed(1)}" y1="${bottom}" x2="${at.toFixed(1)}" y2="${bottom + 4}" stroke="#555"/>`,
      `<text x="${at.toFixed(1)}" y="${bottom + 15}" class="a">${secondsText(t)}</text>`,
    );
  }
  const legendY = bottom + 32;
  let lx = 8;
  for (const [label, colour] of [
    ['allowed', COLOURS.allowed],
    ['tolerated', COLOURS.tolerated],
    ['against the allowlist', COLOURS.violation],
    ['not judged', COLOURS.unjudged],
  ] as const) {
    out.push(
      `<rect x="${lx}" y="${legendY - 9}" width="10" height="10" fill="${colour}"/><text x="${lx + 14}" y="${legendY}" class="s">${label}</text>`,
    );
    lx += 28 + label.length * 6;
  }
  out.push(
    `<text x="${lx}" y="${legendY}" class="s">${escapeXml(`${hosts.length} hosts, ${flows.length} connections over ${secondsText(span)}; bands: scenario steps`)}</text>`,
  );
  if (hosts.length > shown.length)
    out.push(
      `<text x="8" y="${legendY + 14}" class="s">${hosts.length - shown.length} more hosts not drawn (see the hosts table)</text>`,
    );
  out.push('</svg>', '');
  return out.join('\n');
}
