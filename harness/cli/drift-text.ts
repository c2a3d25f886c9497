/** Drift findings for the terminal: a heading, then a table (or "no change"), every string made safe. */
import type { DriftFinding } from '../drift/drift.js';
import { columns } from '../format/analyze-table.js';
import { terminalSafe, terminalSafeClipped } from '../format/terminal-text.js';

/** `heading` is plain text from the caller (run ids, profile names): it is made terminal-safe here too. */
export function driftText(heading: string, findings: readonly DriftFinding[]): string {
  const lines = [terminalSafe(heading), ''];
  if (findings.length === 0) lines.push('no change');
  else
    lines.push(
      ...columns([
        ['CHANGE', 'WHAT', 'DETAIL'],
        ...findings.map((f) => [f.kind, terminalSafeClipped(f.subject, 60), terminalSafe(f.detail)]),
      ]),
    );
  return `${lines.join('\n')}\n`;
}
