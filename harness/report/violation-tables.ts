/**
 * The verdict as tables for the violations attachment: violations (with the step during which each
 * first happened), unmet expectations and budgets. Pure: verdict in, tables of plain text out.
 */
import type { LocatedViolation } from '../record/run-record.js';
import { unmetText, type Verdict } from '../verdict/verdict.js';
import type { HtmlTable } from './html-page.js';

function iso(tsSeconds: number): string {
  return Number.isFinite(tsSeconds) ? new Date(tsSeconds * 1000).toISOString() : '';
}

/** Tables for violations, unmet expectations and budgets. */
export function violationTables(verdict: Verdict, located: LocatedViolation[] = []): HtmlTable[] {
  const stepOf = (subject: string, ruleText: string) =>
    located.find((l) => l.subject === subject && l.ruleText === ruleText)?.step ?? '';
  return [
    {
      caption: `Violations (${verdict.violations.length})`,
      head: [
        'host or address',
        'learnt from',
        'severity',
        'rule',
        'connections',
        'bytes up',
        'bytes down',
        'first seen',
        'during step',
        'addresses',
      ],
      rows: verdict.violations.map((v) => [
        v.subject,
        v.provenance,
        v.severity,
        v.ruleText,
        v.connections,
        v.bytesUp,
        v.bytesDown,
        iso(v.firstSeen),
        stepOf(v.subject, v.ruleText),
        v.addrs.join(' '),
      ]),
      empty: 'none',
    },
    {
      caption: `Unmet expectations (${verdict.unmetExpectations.length})`,
      head: ['expected', 'reason'],
      rows: verdict.unmetExpectations.map((u) => [unmetText(u), u.rule.reason]),
      empty: 'none',
    },
    {
      caption: `Budgets (${verdict.budgets.length})`,
      head: ['budget', 'bytes', 'connections', 'exceeded'],
      rows: verdict.budgets.map((b) => [
        b.ruleText,
        b.bytes,
        b.connections,
        b.exceeded ? 'EXCEEDED' : 'within',
      ]),
      empty: 'none',
    },
    {
      caption: `Warnings (${verdict.warnings.length})`,
      head: ['warning'],
      rows: verdict.warnings.map((w) => [w]),
      empty: 'none',
    },
  ];
}
