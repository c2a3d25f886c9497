import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppiumError } from '../errors.js';
import { appiumDeadline, delay } from './deadline.js';

const never = () => new Promise<never>(() => {});

test('appiumDeadline: the result when in time, a timeout error at the deadline', async () => {
  assert.equal(await appiumDeadline('quick', { deadlineMs: 1_000 }, async () => 7), 7);
  const t0 = Date.now();
  await assert.rejects(
    appiumDeadline('slow', { deadlineMs: 100 }, never),
    (e: unknown) =>
      e instanceof AppiumError && e.kind === 'timeout' && /slow: no answer within 100 ms/.test(e.message),
  );
  assert.ok(Date.now() - t0 < 500);
});

test('appiumDeadline: an abort or a failure promise wins over a hanging call', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(
    appiumDeadline('hang', { signal: ac.signal }, never),
    (e: unknown) => e instanceof AppiumError && e.kind === 'aborted',
  );
  const crashed = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new AppiumError('crashed', 'gone')), 20),
  );
  await assert.rejects(
    appiumDeadline('hang', { deadlineMs: 5_000 }, never, crashed),
    (e: unknown) => e instanceof AppiumError && e.kind === 'crashed',
  );
  // The work's own signal is aborted once the race is over, so loops inside it stop.
  let inner: AbortSignal | undefined;
  await appiumDeadline('done', {}, async (s) => {
    inner = s;
  });
  assert.equal(inner?.aborted, true);
});

test('delay rejects with aborted when its signal fires', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 10);
  await assert.rejects(
    delay(5_000, ac.signal),
    (e: unknown) => e instanceof AppiumError && e.kind === 'aborted',
  );
  await delay(1);
});
