import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PHONEHOME_CATEGORIES } from './categories.js';

/** Allure 2 matches with Java's Pattern.matches: the whole message; (?s) becomes JavaScript's s flag. */
function categoriesOf(status: string, message: string): string[] {
  return PHONEHOME_CATEGORIES.filter((c) => {
    if (!c.matchedStatuses.includes(status as 'failed')) return false;
    const source = c.messageRegex.replace(/^\(\?s\)/, '');
    return new RegExp(`^(?:${source})$`, 's').test(message);
  }).map((c) => c.name);
}

test('failed runs: violations and unmet expectations are told apart, and may be both', () => {
  assert.deepEqual(categoriesOf('failed', '3 violations: api.ad.intl.xiaomi.com, x.example'), [
    'Policy violations',
  ]);
  assert.deepEqual(categoriesOf('failed', '1 unmet expectations'), ['Unmet expectations']);
  assert.deepEqual(categoriesOf('failed', '2 violations, 1 unmet expectations'), [
    'Policy violations',
    'Unmet expectations',
  ]);
  assert.deepEqual(categoriesOf('failed', 'budget exceeded'), ['Policy violations']);
});

test('broken runs: capture, lost phone and everything else each in one category', () => {
  assert.deepEqual(
    categoriesOf('broken', 'capture not working: the end canary is not in the capture (3 flows seen)'),
    ['Capture not working'],
  );
  assert.deepEqual(categoriesOf('broken', 'phone lost: device R58M123ABC was lost'), ['Phone lost']);
  assert.deepEqual(categoriesOf('broken', 'infrastructure error: ECONNREFUSED 127.0.0.1:5037'), [
    'Infrastructure errors',
  ]);
  assert.deepEqual(categoriesOf('broken', 'preparation failed: wifi-on: exit 1\nsecond line'), [
    'Infrastructure errors',
  ]);
  assert.deepEqual(categoriesOf('broken', 'step "open settings" exited 1, expected 0'), [
    'Infrastructure errors',
  ]);
  assert.deepEqual(
    categoriesOf('broken', 'the scenario did not prove it ran: never seen: expect backup.googleapis.com'),
    ['Unmet expectations'],
  );
});

test('passed runs and a failure message that mentions no violation are left to Allure', () => {
  assert.deepEqual(categoriesOf('passed', '4 flows, all allowed'), []);
  assert.deepEqual(categoriesOf('failed', 'capture not working'), []);
});
