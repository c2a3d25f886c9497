/** Waiting, cut short by an AbortSignal: the one timer every layer of the harness waits with. */
import { setTimeout as timeout } from 'node:timers/promises';

/**
 * Resolves after ms, or rejects as soon as the signal aborts, with the signal's reason (whatever
 * the aborting code passed to abort(), so callers can tell a Ctrl-C from a lost phone).
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
