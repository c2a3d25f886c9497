/**
 * Bytes per country and per organisation as a static SVG (vega-lite, vega-svg.ts): horizontal
 * bars, the phone's bytes (up) and the servers' (down) stacked, largest first, the amounts beside
 * them. Organisation names come from a database and host names from the wire: chartText cleans them.
 */
import type { TopLevelSpec } from 'vega-lite';
import { formatBytes } from '../format/bytes.js';
import { chartText, uniqueChartLabels, vegaLiteSvg } from './vega-svg.js';
import type { PlaceRow } from './where-it-went.js';

/** Rows per panel; the rest are summed into one "others" row. */
const MAX_ROWS = 12;
const UP = 'sent by the phone';
const DOWN = 'sent to the phone';

function capped(rows: readonly PlaceRow[]): PlaceRow[] {
  if (rows.length <= MAX_ROWS) return [...rows];
  const kept = rows.slice(0, MAX_ROWS - 1);
  const rest = rows.slice(MAX_ROWS - 1);
  return [
    ...kept,
    {
      place: `${rest.length} others`,
      connections: rest.reduce((n, r) => n + r.connections, 0),
      bytesUp: rest.reduce((n, r) => n + r.bytesUp, 0),
      bytesDown: rest.reduce((n, r) => n + r.bytesDown, 0),
      hosts: [],
      override: false,
      disagree: false,
      cities: [],
    },
  ];
}

function panel(title: string, rows: readonly PlaceRow[]): object {
  const list = capped(rows);
  const labels = uniqueChartLabels(
    list.map((r) => `${r.place}${r.override ? ' *' : ''}${r.disagree ? ' !' : ''}`),
    34,
  );
  const bars = list.flatMap((r, i) => [
    { place: labels[i], dir: UP, bytes: r.bytesUp },
    { place: labels[i], dir: DOWN, bytes: r.bytesDown },
  ]);
  const totals = list.map((r, i) => ({
    place: labels[i],
    total: r.bytesUp + r.bytesDown,
    text: `${formatBytes(r.bytesUp)} ↑ ${formatBytes(r.bytesDown)} ↓`,
  }));
  const y = { field: 'place', type: 'nominal', sort: labels, axis: { title: null, labelLimit: 220 } };
  if (list.length === 0)
    return {
      title: { text: title, anchor: 'start', fontSize: 12 },
      width: 420,
      height: 20,
      data: { values: [{ text: 'no flows' }] },
      mark: { type: 'text', color: '#777', align: 'left', x: 0, y: 10 },
      encoding: { text: { field: 'text' } },
    };
  return {
    title: { text: title, anchor: 'start', fontSize: 12 },
    width: 420,
    height: { step: 20 },
    layer: [
      {
        data: { values: bars },
        mark: { type: 'bar', height: 13 },
        encoding: {
          y,
          x: { field: 'bytes', type: 'quantitative', stack: 'zero', axis: null },
          color: {
            field: 'dir',
            type: 'nominal',
            scale: { domain: [UP, DOWN], range: ['#c0392b', '#f1a99b'] },
            legend: { title: null, orient: 'bottom', direction: 'horizontal' },
          },
          order: { field: 'dir', sort: 'descending' },
        },
      },
      {
        data: { values: totals },
        mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 },
        encoding: { y, x: { field: 'total', type: 'quantitative' }, text: { field: 'text' } },
      },
    ],
  };
}

/** The vega-lite spec (pure; bytesChart renders it). `note` is a line under the title (sources). */
export function bytesSpec(
  countries: readonly PlaceRow[],
  orgs: readonly PlaceRow[],
  title: string,
  note: string,
): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    background: 'white',
    padding: 8,
    title: {
      text: chartText(title, 100),
      subtitle: [chartText(note, 140), '* lab override   ! country sources disagree'],
      anchor: 'start',
    },
    config: { view: { stroke: null } },
    vconcat: [panel('Bytes per country', countries), panel('Bytes per organisation', orgs)],
    spacing: 24,
  } as TopLevelSpec;
}

/** The chart: bytes per country, then per organisation, as SVG. */
export function bytesChart(
  countries: readonly PlaceRow[],
  orgs: readonly PlaceRow[],
  title: string,
  note: string,
): Promise<string> {
  return vegaLiteSvg(bytesSpec(countries, orgs, title, note));
}
