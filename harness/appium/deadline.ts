/**
 * Deadlines for Appium operations: nothing in this backend waits without one. WebdriverIO cannot
 * cancel a request it has sent, so a late answer is dropped rather than awaited.
 */

import { AppiumError } from '../errors.js';
import { sleep } from '../sleep.js';

/** How long an operation may take: a deadline in ms from now and/or a signal that cancels it. */
export interface OpOptions {
  /** Milliseconds from now. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

/**
 * Runs `fn` and settles with it, or rejects with AppiumError 'timeout' at the deadline, 'aborted' when
 * the signal fires, or with whatever `failure` rejects with first (e.g. the Appium process exiting).
 */
export async function withDeadline<T>(
  what: string,
  op: OpOptions,
  fn: (signal: AbortSignal) => Promise<T>,
  failure?: Promise<never>,
): Promise<T> {
  const inner = new AbortController();
  const cleanups: (() => void)[] = [];
  const stopped = new Promise<never>((_, reject) => {
    if (op.signal) {
      const onAbort = () =>
        reject(new AppiumError('aborted', `${what}: aborted`, undefined, { cause: op.signal?.reason }));
      if (op.signal.aborted) onAbort();
      op.signal.addEventListener('abort', onAbort, { once: true });
      cleanups.push(() => op.signal?.removeEventListener('abort', onAbort));
    }
    if (op.deadlineMs !== undefined) {
      const ms = Math.max(0, op.deadlineMs);
      const timer = setTimeout(
        () => reject(new AppiumError('timeout', `${what}: no answer within ${ms} ms`)),
        ms,
      );
      cleanups.push(() => clearTimeout(timer));
    }
  });
  try {
    const work = fn(inner.signal);
    // Whichever loses the race must not surface as an unhandled rejection.
    work.catch(() => {});
    failure?.catch(() => {});
    return await Promise.race([work, stopped, ...(failure ? [failure] : [])]);
  } finally {
    inner.abort();
    for (const c of cleanups) c();
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

/** Milliseconds left until an absolute time (Date.now() based), never below zero. */
export function msLeft(until: number): number {
  return Math.max(0, until - Date.now());
}
