/**
 * Deadlines for Appium operations, on harness/deadline.ts: nothing in this backend waits without one.
 * WebdriverIO cannot cancel a request it has sent, so a late answer is dropped rather than awaited.
 */

import { type OpOptions, race, sleep } from '../deadline.js';
import { AppiumError } from '../errors.js';

/**
 * Runs `fn` and settles with it, or rejects with AppiumError 'timeout' at the deadline, 'aborted' when
 * the signal fires, or with whatever `failure` rejects with first (e.g. the Appium process exiting).
 * The signal `fn` gets is aborted once the race is over, so loops inside it stop.
 */
export async function appiumDeadline<T>(
  what: string,
  op: OpOptions,
  fn: (signal: AbortSignal) => Promise<T>,
  failure?: Promise<never>,
): Promise<T> {
  const inner = new AbortController();
  try {
    return await race(
      fn(inner.signal),
      op,
      (end) =>
        end.why === 'timeout'
          ? new AppiumError('timeout', `${what}: no answer within ${end.ms} ms`)
          : new AppiumError('aborted', `${what}: aborted`, undefined, { cause: end.reason }),
      failure ? { failure } : {},
    );
  } finally {
    inner.abort();
  }
}

/** Waits ms, or rejects with AppiumError 'aborted' as soon as the signal fires. */
export async function delay(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, signal);
  } catch (e) {
    if (signal?.aborted) throw new AppiumError('aborted', 'aborted', undefined, { cause: signal.reason });
    throw e;
  }
}
