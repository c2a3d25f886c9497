/**
 * The frame of the HTML attachments: a whole document with a Content-Security-Policy that forbids
 * every script when the file is opened on its own. Allure's viewer swaps that policy for its own,
 * which allows inline scripts in its sandboxed frame, so escaping is what protects a report: every
 * cell is escaped here, and callers hand in plain text.
 */
import { escapeHtml } from './html-text.js';

/** A table cell: text (escaped here) or a number (right-aligned). */
export type HtmlCell = string | number;

/** One table: a caption, column heads and rows of cells. */
export interface HtmlTable {
  /** Shown above the table. */
  caption: string;
  /** Column heads. */
  head: string[];
  /** Rows, each as long as head. */
  rows: HtmlCell[][];
  /** Shown instead of an empty table. */
  empty: string;
}

const STYLE =
  'body{font:13px/1.4 system-ui,sans-serif;margin:8px}' +
  'table{border-collapse:collapse;margin:0 0 16px}' +
  'caption{text-align:left;font-weight:bold;padding:4px 0}' +
  'th,td{border:1px solid #ccc;padding:3px 6px;vertical-align:top;text-align:left}' +
  'td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}' +
  'td{word-break:break-all}';

function cell(c: HtmlCell): string {
  return typeof c === 'number' ? `<td class="n">${c}</td>` : `<td>${escapeHtml(c)}</td>`;
}

/** One table as HTML (no document around it). */
export function htmlTable(t: HtmlTable): string {
  if (t.rows.length === 0) return `<p><b>${escapeHtml(t.caption)}</b>: ${escapeHtml(t.empty)}</p>`;
  const head = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n');
  return `<table><caption>${escapeHtml(t.caption)}</caption>\n<tr>${head}</tr>\n${rows}\n</table>`;
}

/** A line under the tables, with an optional link (attributions a licence asks for). */
export interface HtmlNote {
  text: string;
  /** An http(s) URL; anything else is shown as text only. */
  href?: string;
}

function noteHtml(n: HtmlNote): string {
  const safeHref = n.href !== undefined && /^https?:\/\/[^\s"'<>]+$/.test(n.href) ? n.href : undefined;
  return safeHref
    ? `<p><a href="${escapeHtml(safeHref)}">${escapeHtml(n.text)}</a></p>`
    : `<p>${escapeHtml(n.text)}</p>`;
}

/** A whole HTML document with the given title and tables, and notes under them. */
export function htmlPage(title: string, tables: HtmlTable[], notes: HtmlNote[] = []): string {
  return (
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8">' +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>\n` +
    tables.map(htmlTable).join('\n') +
    notes.map(noteHtml).join('\n') +
    '\n</body></html>\n'
  );
}
