import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from './sleep.js';

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
