/**
 * Time as a parameter: the one options type every device, capture, UI and report operation takes,
 * the one race of work against its deadline and its AbortSignal, and the one sleep. Each layer wraps
 * race() for its own error type (adb: AdbCommandError, Appium: AppiumError, capture: CaptureError).
 */
import { setTimeout as timeout } from 'node:timers/promises';

/** How long an operation may take, and how to cancel it. */
export interface OpOptions {
  /** Milliseconds from now after which the operation is abandoned. */
  deadlineMs?: number;
  /** Aborts the operation (Ctrl-C, a lost phone, a suite that ended). */
  signal?: AbortSignal;
}

/** How an operation ended that did not finish: its deadline passed, or its signal fired. */
export type Unfinished = { why: 'timeout'; ms: number } | { why: 'aborted'; reason: unknown };

/** The end of a race: the work's value, or why it was given up on. */
export type Settled<T> = { done: true; value: T } | ({ done: false } & Unfinished);

/** What race() may be told besides the operation's own options. */
export interface RaceOptions {
  /** The deadline when the caller gave none; without either, only the signal ends the wait. */
  defaultMs?: number;
  /** Called once when the work is given up on (destroy a stream, kill a process). */
  onCancel?: () => void;
  /** Rejects when something the work depends on fails first (e.g. the server process exits). */
  failure?: Promise<never>;
}

/**
 * Waits for `work` until the deadline or the signal. Resolves with the value, or with why it was given
 * up on; rejects only when the work (or `failure`) rejects. The loser's rejection is never unhandled.
 */
export async function within<T>(
  work: PromiseLike<T>,
  op: OpOptions,
  opts: RaceOptions = {},
): Promise<Settled<T>> {
  const settled = Promise.resolve(work);
  settled.catch(() => {});
  opts.failure?.catch(() => {});
  const ms = op.deadlineMs ?? opts.defaultMs;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const ended = new Promise<Settled<T>>((resolve) => {
    if (ms !== undefined) {
      const wait = Math.max(0, ms);
      timer = setTimeout(() => resolve({ done: false, why: 'timeout', ms: wait }), wait);
    }
    const signal = op.signal;
    if (signal) {
      onAbort = () => resolve({ done: false, why: 'aborted', reason: signal.reason });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    const r = await Promise.race([
      settled.then((value): Settled<T> => ({ done: true, value })),
      ended,
      ...(opts.failure ? [opts.failure] : []),
    ]);
    if (!r.done) opts.onCancel?.();
    return r;
  } finally {
    clearTimeout(timer);
    if (onAbort) op.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Waits for `work` until the deadline or the signal; an operation that did not finish rejects with the
 * error `fail` makes of why, in the caller's own error type.
 */
export async function race<T>(
  work: PromiseLike<T>,
  op: OpOptions,
  fail: (end: Unfinished) => unknown,
  opts: RaceOptions = {},
): Promise<T> {
  const r = await within(work, op, opts);
  if (r.done) return r.value;
  throw fail(r);
}

/**
 * Resolves after ms, or rejects as soon as the signal aborts, with the signal's reason (whatever the
 * aborting code passed to abort(), so callers can tell a Ctrl-C from a lost phone).
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw signal.reason;
  try {
    await timeout(ms, undefined, signal ? { signal } : undefined);
  } catch (e) {
    // timers/promises rejects with its own AbortError; the reason is what callers look at.
    if (signal?.aborted) throw signal.reason;
    throw e;
  }
}

/** Milliseconds left until an absolute time (Date.now() based), never below zero. */
export function msLeft(until: number): number {
  return Math.max(0, until - Date.now());
}
