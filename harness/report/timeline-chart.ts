/**
 * The endpoint timeline of a run as a static SVG (vega-lite, vega-svg.ts): one row per host (first
 * contacted first), each connection a bar from its first to its last packet, the scenario's steps
 * as labelled bands behind them, the connections a verdict counted against the allowlist in red,
 * and the hosts drift found new marked with a diamond at their first connection.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { Flow } from '../flows/flow.js';
import { mainSubject } from '../format/analyze-table.js';
import { chartText, uniqueChartLabels, vegaLiteSvg } from './vega-svg.js';

/** A scenario step's span. */
export interface TimelineStep {
  name: string;
  tsStart: number;
  tsEnd: number;
}

/** How the verdict saw each flow, by uid (absent: not judged). */
export type FlowMark = 'allowed' | 'tolerated' | 'violation';

/** Hosts shown; the rest are counted under the title. */
const MAX_ROWS = 60;
const WIDTH = 640;
const ROW = 16;
const NEW_HOST = 'new since the baseline (drift)';
const LEGEND: [string, string][] = [
  ['allowed', '#4a78a8'],
  ['tolerated', '#e0a030'],
  ['against the allowlist', '#c0392b'],
  ['not judged', '#888888'],
  [NEW_HOST, '#7b1fa2'],
];
const MARK_NAME: Record<FlowMark | 'unjudged', string> = {
  allowed: 'allowed',
  tolerated: 'tolerated',
  violation: 'against the allowlist',
  unjudged: 'not judged',
};

function secondsText(s: number): string {
  if (s >= 120) return `${Math.round(s / 60)} min`;
  return `${Math.round(s * 10) / 10} s`;
}

/** What the timeline shows, besides the flows. */
export interface TimelineOptions {
  /** Hosts (as the analyze table names them) that drift found new: marked. */
  newHosts?: ReadonlySet<string>;
}

/** The vega-lite spec of the timeline (pure; timelineChart renders it). */
export function timelineSpec(
  flows: readonly Flow[],
  steps: readonly TimelineStep[],
  marks: ReadonlyMap<string, FlowMark>,
  title: string,
  opts: TimelineOptions = {},
): TopLevelSpec {
  const sorted = [...flows].sort((a, b) => a.tsStart - b.tsStart);
  const order: string[] = [];
  const firstAt = new Map<string, number>();
  for (const f of sorted) {
    const h = mainSubject(f).subject;
    if (!firstAt.has(h)) {
      firstAt.set(h, f.tsStart);
      order.push(h);
    }
  }
  const shown = new Set(order.slice(0, MAX_ROWS));
  const times = [
    ...flows.flatMap((f) => [f.tsStart, f.tsEnd]),
    ...steps.flatMap((s) => [s.tsStart, s.tsEnd]),
  ].filter((t) => Number.isFinite(t));
  const t0 = times.length ? Math.min(...times) : 0;
  const span = Math.max((times.length ? Math.max(...times) : 0) - t0, 1e-3);
  // A connection is never thinner than 1/300 of the run, so that it shows.
  const minWidth = span / 300;
  // Two hosts whose labels clip alike would share a row: each row's label is unique.
  const rowHosts = order.slice(0, MAX_ROWS);
  const rowLabels = uniqueChartLabels(rowHosts, 48);
  const label = new Map(rowHosts.map((h, i) => [h, rowLabels[i]!]));
  const conns = sorted.flatMap((f) => {
    const h = mainSubject(f).subject;
    if (!shown.has(h)) return [];
    const start = f.tsStart - t0;
    return [
      {
        host: label.get(h)!,
        start,
        end: Math.max(f.tsEnd - t0, start + minWidth),
        mark: MARK_NAME[marks.get(f.uid) ?? 'unjudged'],
        what: chartText(`${f.proto}/${f.resp.port}: ${f.origBytes} B up, ${f.respBytes} B down`),
      },
    ];
  });
  const news = order
    .filter((h) => shown.has(h) && opts.newHosts?.has(h))
    .map((h) => ({ host: label.get(h)!, start: firstAt.get(h)! - t0, mark: NEW_HOST }));
  const bands = steps.map((s, i) => ({
    name: chartText(s.name, 40),
    start: s.tsStart - t0,
    end: Math.max(s.tsEnd, s.tsStart) - t0,
    shade: i % 2 ? 'a' : 'b',
    lane: -6 - (i % 3) * 11,
  }));
  const rows = Math.max(1, shown.size);
  const more = order.length - shown.size;
  const x = {
    field: 'start',
    type: 'quantitative' as const,
    scale: { domain: [0, span], nice: false },
    axis: { title: 'seconds since the first packet', grid: false },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: WIDTH,
    height: rows * ROW,
    background: 'white',
    padding: { left: 8, right: 16, top: 8, bottom: 8 },
    title: {
      text: chartText(title, 110),
      subtitle: `${order.length} hosts, ${flows.length} connections over ${secondsText(span)}; bands: scenario steps${more > 0 ? `; ${more} more hosts not drawn (see the hosts table)` : ''}`,
      anchor: 'start',
      offset: 40,
    },
    config: { view: { stroke: null }, axis: { labelFontSize: 10 } },
    layer: [
      {
        data: { values: bands },
        mark: { type: 'rect', opacity: 1 },
        encoding: {
          x,
          x2: { field: 'end' },
          // A fixed colour, not a scale: the colour scale is the connections' legend.
          color: { condition: { test: "datum.shade === 'a'", value: '#e6eef7' }, value: '#f3f3f3' },
        },
      },
      {
        data: { values: bands },
        mark: {
          type: 'text',
          align: 'left',
          baseline: 'bottom',
          dx: 2,
          fontSize: 10,
          color: '#444',
          limit: 140,
        },
        encoding: { x, y: { field: 'lane', type: 'quantitative', scale: null }, text: { field: 'name' } },
      },
      {
        data: { values: conns },
        mark: { type: 'bar', height: ROW - 6 },
        encoding: {
          x,
          x2: { field: 'end' },
          y: {
            field: 'host',
            type: 'nominal',
            sort: [...label.values()],
            axis: { title: null, labelLimit: 260 },
          },
          color: {
            field: 'mark',
            type: 'nominal',
            scale: { domain: LEGEND.map(([n]) => n), range: LEGEND.map(([, c]) => c) },
            legend: { title: null, orient: 'bottom', direction: 'horizontal', labelLimit: 300 },
          },
          description: { field: 'what' },
        },
      },
      {
        data: { values: news },
        mark: { type: 'point', shape: 'diamond', filled: true, size: 90, opacity: 1 },
        encoding: {
          x,
          y: { field: 'host', type: 'nominal', sort: [...label.values()] },
          color: { field: 'mark', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** The timeline as SVG. `marks` colour the flows a verdict judged; `title` heads the picture. */
export function timelineChart(
  flows: readonly Flow[],
  steps: readonly TimelineStep[],
  marks: ReadonlyMap<string, FlowMark>,
  title: string,
  opts: TimelineOptions = {},
): Promise<string> {
  return vegaLiteSvg(timelineSpec(flows, steps, marks, title, opts));
}
