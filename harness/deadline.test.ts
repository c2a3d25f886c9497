import assert from 'node:assert/strict';
import { test } from 'node:test';
import { race, sleep, within } from './deadline.js';

test('sleep waits its time', async () => {
  const t0 = performance.now();
  await sleep(30);
  assert.ok(performance.now() - t0 >= 29, `${performance.now() - t0} ms`);
});

test('sleep rejects with the signal reason, at once when already aborted and as soon as it aborts', async () => {
  const reason = new Error('phone lost');
  await assert.rejects(sleep(10, AbortSignal.abort(reason)), (e) => e === reason);
  const ac = new AbortController();
  const t0 = performance.now();
  const waiting = sleep(10_000, ac.signal);
  setTimeout(() => ac.abort(reason), 10);
  await assert.rejects(waiting, (e) => e === reason);
  assert.ok(performance.now() - t0 < 5_000);
  // A plain abort() has a DOMException AbortError as its reason.
  await assert.rejects(sleep(10, AbortSignal.abort()), { name: 'AbortError' });
});

const never = () => new Promise<never>(() => {});

test('within: the value when the work finishes in time, else why it was given up on', async () => {
  assert.deepEqual(await within(Promise.resolve(7), { deadlineMs: 1_000 }), { done: true, value: 7 });
  let cancelled = 0;
  const t0 = performance.now();
  const late = await within(never(), { deadlineMs: 30 }, { onCancel: () => cancelled++ });
  assert.deepEqual(late, { done: false, why: 'timeout', ms: 30 });
  assert.ok(performance.now() - t0 < 2_000);
  assert.equal(cancelled, 1);
  // The caller's deadline wins over the default; without either only the signal ends the wait.
  assert.deepEqual(await within(never(), {}, { defaultMs: 10 }), { done: false, why: 'timeout', ms: 10 });
  const reason = new Error('ctrl-c');
  const ac = new AbortController();
  setTimeout(() => ac.abort(reason), 10);
  const aborted = await within(never(), { signal: ac.signal });
  assert.equal(aborted.done, false);
  assert.equal(!aborted.done && aborted.why === 'aborted' && aborted.reason, reason);
});

test('within: a rejecting work or failure rejects; the loser never becomes an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    await assert.rejects(
      within(Promise.reject(new Error('adb said no')), { deadlineMs: 1_000 }),
      /adb said no/,
    );
    const failure = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('server exited')), 10),
    );
    await assert.rejects(within(never(), { deadlineMs: 5_000 }, { failure }), /server exited/);
    // Work that rejects after it lost the race.
    const lateFailure = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('late')), 20));
    assert.equal((await within(lateFailure, { deadlineMs: 1 })).done, false);
    await sleep(40);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});

test('race: the caller turns an unfinished operation into its own error', async () => {
  class LabError extends Error {}
  const fail = (end: { why: string }) => new LabError(end.why);
  assert.equal(await race(Promise.resolve('ok'), { deadlineMs: 100 }, fail), 'ok');
  await assert.rejects(
    race(never(), { deadlineMs: 5 }, fail),
    (e) => e instanceof LabError && e.message === 'timeout',
  );
  await assert.rejects(
    race(never(), { signal: AbortSignal.abort() }, fail),
    (e) => e instanceof LabError && e.message === 'aborted',
  );
});
