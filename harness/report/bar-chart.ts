/**
 * A static SVG picture of bytes per country and per organisation: horizontal bars, the phone's
 * bytes (up) and the servers' (down) stacked, largest first. Made as text, with no browser and no
 * script; every label is escaped (organisation names come from a database, hosts from the wire).
 */

import { formatBytes } from '../format/bytes.js';
import type { PlaceRow } from './where-it-went.js';

const WIDTH = 760;
const LABEL = 230;
const VALUE = 110;
const ROW = 20;
const BAR = 13;
const TOP = 34;
const PANEL_GAP = 26;
const UP = '#c0392b';
const DOWN = '#f1a99b';
/** Rows per panel; the rest are summed into one "others" row. */
const MAX_ROWS = 12;

/** Text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  // Control characters are not allowed in XML 1.0 at all: shown as U+FFFD.
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}

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

function panel(title: string, rows: readonly PlaceRow[], y0: number): { svg: string[]; height: number } {
  const out: string[] = [];
  out.push(`<text x="8" y="${y0 + 14}" class="t">${escapeXml(title)}</text>`);
  const list = capped(rows);
  const max = Math.max(1, ...list.map((r) => r.bytesUp + r.bytesDown));
  const span = WIDTH - LABEL - VALUE - 16;
  list.forEach((r, i) => {
    const y = y0 + 24 + i * ROW;
    // Linear, so that bars compare; a non-zero amount is never thinner than 2 px, so it shows.
    const up = r.bytesUp > 0 ? Math.max(2, (r.bytesUp / max) * span) : 0;
    const down = r.bytesDown > 0 ? Math.max(2, (r.bytesDown / max) * span) : 0;
    const label = `${r.place}${r.override ? ' *' : ''}${r.disagree ? ' !' : ''}`;
    out.push(
      `<text x="${LABEL - 6}" y="${y + BAR - 2}" class="l">${escapeXml(clip(label, 34))}</text>`,
      `<rect x="${LABEL}" y="${y}" width="${up.toFixed(1)}" height="${BAR}" fill="${UP}"><title>${escapeXml(`${r.place}: ${r.bytesUp} bytes up`)}</title></rect>`,
      `<rect x="${(LABEL + up).toFixed(1)}" y="${y}" width="${down.toFixed(1)}" height="${BAR}" fill="${DOWN}"><title>${escapeXml(`${r.place}: ${r.bytesDown} bytes down`)}</title></rect>`,
      `<text x="${WIDTH - VALUE + 4}" y="${y + BAR - 2}" class="v">${escapeXml(`${formatBytes(r.bytesUp)} ↑ ${formatBytes(r.bytesDown)} ↓`)}</text>`,
    );
  });
  if (list.length === 0) out.push(`<text x="${LABEL}" y="${y0 + 36}" class="l0">no flows</text>`);
  return { svg: out, height: 24 + Math.max(1, list.length) * ROW };
}

/** The chart: bytes per country, then per organisation. `note` is a line under the title (sources). */
export function bytesChart(
  countries: readonly PlaceRow[],
  orgs: readonly PlaceRow[],
  title: string,
  note: string,
): string {
  const a = panel('Bytes per country', countries, TOP);
  const b = panel('Bytes per organisation', orgs, TOP + a.height + PANEL_GAP);
  const height = TOP + a.height + PANEL_GAP + b.height + 34;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img">`,
    '<style>text{font:12px sans-serif;fill:#222}.t{font-weight:bold}.l{text-anchor:end}.l0{fill:#777}.h{font-size:14px;font-weight:bold}.n{font-size:10px;fill:#555}</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="18" class="h">${escapeXml(clip(title, 100))}</text>`,
    ...a.svg,
    ...b.svg,
    `<rect x="8" y="${height - 26}" width="10" height="10" fill="${UP}"/><text x="22" y="${height - 17}" class="n">sent by the phone</text>`,
    `<rect x="130" y="${height - 26}" width="10" height="10" fill="${DOWN}"/><text x="144" y="${height - 17}" class="n">sent to the phone   * lab override   ! country sources disagree</text>`,
    `<text x="8" y="${height - 4}" class="n">${escapeXml(clip(note, 140))}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
