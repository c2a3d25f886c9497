import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type BrokenKind, type RunResult, recordLine } from '../record/run-record.js';
import { PHONEHOME_CATEGORIES } from './categories.js';

/**
 * Allure 2 matches with Java's Pattern.matches: the whole trace; (?s) becomes JavaScript's s flag.
 * Allure 2.46 keeps the first category that matches (CategoriesPlugin: filter, findFirst).
 */
function categoriesOf(status: string, trace: string): string[] {
  return PHONEHOME_CATEGORIES.filter((c) => {
    if (!c.matchedStatuses.includes(status as 'failed')) return false;
    const source = c.traceRegex.replace(/^\(\?s\)/, '');
    return new RegExp(`^(?:${source})$`, 's').test(trace);
  })
    .map((c) => c.name)
    .slice(0, 1);
}

const DRIFT = 'Drift: changed since the baseline';

const failed = (violations: number, unmet: number, exceeded: boolean) =>
  recordLine({
    outcome: 'failed',
    verdict: {
      violations: Array(violations).fill({}),
      unmetExpectations: Array(unmet).fill({}),
      budgets: [{ exceeded }],
    } as unknown as RunResult['verdict'],
  });
const broken = (kind: BrokenKind) =>
  recordLine({ outcome: 'broken', broken: { stage: 'capture stop', kind, detail: 'x' } });

test('failed runs: violations and unmet expectations are told apart by the record; violations come first', () => {
  assert.equal(failed(3, 0, false), '[phonehome outcome=failed violations]');
  assert.deepEqual(categoriesOf('failed', `${failed(3, 0, false)}\nx.example (sni, normal): no rule`), [
    'Policy violations',
  ]);
  assert.deepEqual(categoriesOf('failed', failed(0, 1, false)), ['Unmet expectations']);
  assert.deepEqual(categoriesOf('failed', failed(2, 1, false)), ['Policy violations']);
  assert.deepEqual(categoriesOf('failed', failed(0, 0, true)), ['Policy violations']);
});

test('broken runs: each kind in one category, whatever the reason says', () => {
  assert.equal(broken('capture'), '[phonehome outcome=broken stage=capture-stop kind=capture]');
  assert.deepEqual(categoriesOf('broken', broken('capture')), ['Capture not working']);
  assert.deepEqual(categoriesOf('broken', broken('device-lost')), ['Phone lost']);
  assert.deepEqual(categoriesOf('broken', broken('no-proof')), ['Unmet expectations']);
  for (const kind of ['preparation', 'step', 'interrupted', 'infrastructure'] as const)
    assert.deepEqual(categoriesOf('broken', `${broken(kind)}\n2026-12-03T01:00:00Z broken: …`), [
      'Infrastructure errors',
    ]);
  // A reason that reads like another kind does not move a run: only the record counts.
  assert.deepEqual(categoriesOf('broken', `${broken('infrastructure')}\ncapture not working, phone lost`), [
    'Infrastructure errors',
  ]);
});

test('passed runs, and traces without a record line, are left to Allure', () => {
  assert.deepEqual(categoriesOf('passed', recordLine({ outcome: 'passed' })), []);
  assert.deepEqual(categoriesOf('failed', '3 violations'), []);
  assert.deepEqual(categoriesOf('broken', 'capture not working: no canary'), []);
});

test('a run that leaked identifiers is in its own category, beside any other violations', () => {
  const leaks = (hostViolations: number) =>
    recordLine({
      outcome: 'failed',
      verdict: {
        violations: Array(hostViolations).fill({}),
        unmetExpectations: [],
        budgets: [],
        identifierLeaks: [{ status: 'unlisted' }, { status: 'allowed' }],
      } as unknown as RunResult['verdict'],
    });
  assert.equal(leaks(0), '[phonehome outcome=failed identifier-leaks]');
  assert.deepEqual(categoriesOf('failed', leaks(0)), ['Identifier leaks']);
  assert.deepEqual(categoriesOf('failed', leaks(1)), ['Identifier leaks']);
});

test('drift: a passed run (drift: warn) and a failed one are in the Drift category first; a run without drift is not', () => {
  const drift = {
    policy: 'warn' as const,
    findings: [{ kind: 'new-host' as const, subject: 'x.example', detail: 'first seen' }],
  };
  const passed = recordLine({ outcome: 'passed', drift });
  assert.equal(passed, '[phonehome outcome=passed drift]');
  assert.deepEqual(categoriesOf('passed', `${passed}\ndrift: new-host x.example: first seen`), [DRIFT]);
  const both = recordLine({
    outcome: 'failed',
    verdict: { violations: [{}], unmetExpectations: [], budgets: [] } as unknown as RunResult['verdict'],
    drift: { ...drift, policy: 'fail' },
  });
  assert.equal(both, '[phonehome outcome=failed violations drift]');
  // Change is the first news: a failed run that drifted is listed under Drift.
  assert.deepEqual(categoriesOf('failed', both), [DRIFT]);
  assert.deepEqual(
    categoriesOf('passed', recordLine({ outcome: 'passed', drift: { ...drift, findings: [] } })),
    [],
  );
  // A host named "drift" in the evidence does not put a run there: only the record line counts.
  assert.deepEqual(categoriesOf('failed', `${failed(1, 0, false)}\ndrift.example (sni): no rule`), [
    'Policy violations',
  ]);
});
