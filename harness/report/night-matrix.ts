/**
 * Which hosts appeared on which nights, as a static SVG (vega-lite, vega-svg.ts): one column per
 * accepted run of the baseline (oldest first) and one for this run, one row per host (first seen
 * first), a filled cell where the run contacted the host. This run's new hosts are marked, and so
 * are the hosts every earlier run had and this one did not.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { RunSummary } from '../drift/summary.js';
import { chartText, uniqueChartLabels, vegaLiteSvg } from './vega-svg.js';

const MAX_ROWS = 60;
const STATES: [string, string][] = [
  ['contacted', '#4a78a8'],
  ['new this run', '#7b1fa2'],
  ['missing this run (every earlier run had it)', '#e0a030'],
];

/** A column's label: the run's start (UTC, to the minute), unique. */
function nightLabels(runs: readonly RunSummary[]): string[] {
  return uniqueChartLabels(
    runs.map((r) =>
      r.started > 0 ? new Date(r.started * 1000).toISOString().slice(0, 16).replace('T', ' ') : r.runId,
    ),
    24,
  );
}

/** The spec (pure): `earlier` are the baseline's runs, oldest first; `run` is this one. */
export function nightMatrixSpec(
  earlier: readonly RunSummary[],
  run: RunSummary,
  title: string,
): TopLevelSpec {
  const runs = [...earlier, run];
  const cols = nightLabels(runs);
  cols[cols.length - 1] = `this run: ${cols[cols.length - 1]}`;
  const order: string[] = [];
  for (const r of runs) for (const h of Object.keys(r.hosts)) if (!order.includes(h)) order.push(h);
  const always = new Set(
    earlier.length ? Object.keys(earlier[0]!.hosts).filter((h) => earlier.every((r) => r.hosts[h])) : [],
  );
  const before = new Set(earlier.flatMap((r) => Object.keys(r.hosts)));
  // New and missing hosts first: they are what a person looks for.
  const news = order.filter((h) => run.hosts[h] && earlier.length > 0 && !before.has(h));
  const gone = order.filter((h) => always.has(h) && !run.hosts[h]);
  const rest = order.filter((h) => !news.includes(h) && !gone.includes(h));
  const rows = [...news, ...gone, ...rest];
  const shown = rows.slice(0, MAX_ROWS);
  const shownLabels = uniqueChartLabels(shown, 48);
  const label = new Map(shown.map((h, i) => [h, shownLabels[i]!]));
  const cells = shown.flatMap((h) =>
    runs.flatMap((r, i) => {
      const last = i === runs.length - 1;
      if (r.hosts[h])
        return [
          {
            host: label.get(h)!,
            night: cols[i]!,
            state: last && news.includes(h) ? STATES[1]![0] : STATES[0]![0],
          },
        ];
      if (last && gone.includes(h)) return [{ host: label.get(h)!, night: cols[i]!, state: STATES[2]![0] }];
      return [];
    }),
  );
  const more = rows.length - shown.length;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 8,
    title: {
      text: chartText(title, 110),
      subtitle:
        `${rows.length} hosts over ${runs.length} run${runs.length === 1 ? '' : 's'}` +
        (earlier.length === 0
          ? ' (no baseline yet: only this run)'
          : ` (${earlier.length} accepted before this one)`) +
        (more > 0 ? `; ${more} more hosts not drawn` : ''),
      anchor: 'start',
    },
    config: { view: { stroke: null }, axis: { labelFontSize: 10 } },
    data: { values: cells },
    width: { step: 22 },
    height: { step: 16 },
    mark: { type: 'rect', stroke: 'white', strokeWidth: 1 },
    encoding: {
      x: {
        field: 'night',
        type: 'ordinal',
        sort: cols,
        scale: { domain: cols },
        axis: { title: null, labelAngle: -50, labelLimit: 400, orient: 'top' },
      },
      y: {
        field: 'host',
        type: 'nominal',
        sort: [...label.values()],
        scale: { domain: [...label.values()] },
        axis: { title: null, labelLimit: 260 },
      },
      color: {
        field: 'state',
        type: 'nominal',
        scale: { domain: STATES.map(([s]) => s), range: STATES.map(([, c]) => c) },
        legend: { title: null, orient: 'bottom', direction: 'vertical', labelLimit: 500 },
      },
    },
  } as TopLevelSpec;
}

/** The host × night matrix as SVG. */
export function nightMatrix(earlier: readonly RunSummary[], run: RunSummary, title: string): Promise<string> {
  return vegaLiteSvg(nightMatrixSpec(earlier, run, title));
}
