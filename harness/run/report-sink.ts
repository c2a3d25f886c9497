/**
 * Report sinks: whatever wants to hear about runs (allure-results files, the allure-mocha test that
 * is running, a chat notifier…). The run pipeline declares what it tells them; the report writers
 * implement it and the lab wires them in. Every method is optional; fanOut() calls all sinks and turns
 * a sink that throws, rejects or hangs into one logged line, so one broken sink cannot kill a run.
 */
import { race } from '../deadline.js';
import type { DeviceFacts } from '../device/facts.js';
import { errorMessage } from '../errors.js';
import type { RunResult } from '../record/run-record.js';

/** A run about to start. */
export interface RunStart {
  /** The run id (shared by every phone and scenario of one launch). */
  runId: string;
  /** adb serial of the phone. */
  serial: string;
  /** Scenario name. */
  scenario: string;
  /** The run folder, when already known. */
  dir?: string;
}

/** Where a finished run's record is, and what it was judged as. */
export interface FinishedRun {
  /** The run folder, with every artifact written. */
  dir: string;
  /** The matched device profile's name, which keys the run's history across nights. */
  profile?: string;
}

/** A scenario that did not run on a phone, and why. */
export interface SkippedRun {
  serial: string;
  scenario: string;
  /** What the phone said it is. Strings came from the phone: untrusted. */
  facts: DeviceFacts;
  /** The matched device profile's name, when one matched. */
  profile?: string;
  /** Why it did not run, in one line. */
  reason: string;
}

/** A consumer of run events. */
export interface ReportSink {
  /** For the log line when the sink fails. */
  readonly name: string;
  /** A run is about to start. */
  runStarted?(run: RunStart): Promise<void> | void;
  /** A run finished (whatever its outcome). */
  runFinished?(result: RunResult, run: FinishedRun): Promise<void> | void;
  /** A scenario was skipped on a phone. */
  runSkipped?(skip: SkippedRun): Promise<void> | void;
}

/** How fanOut reports a failing sink. */
export type SinkErrorHandler = (sink: string, hook: SinkHook, error: unknown) => void;

/** The hooks a sink may have. */
export type SinkHook = 'runStarted' | 'runFinished' | 'runSkipped';

/** Options of fanOut. */
export interface FanOutOptions {
  /** Called once per failing sink call (default: one line on stderr). */
  onError?: SinkErrorHandler;
  /** How long one sink call may take before it is given up on, ms (default 120 000). */
  deadlineMs?: number;
}

function defaultOnError(sink: string, hook: string, error: unknown): void {
  const text = errorMessage(error);
  process.stderr.write(`phonehome: report sink ${sink} failed in ${hook}: ${text.split('\n')[0]}\n`);
}

/**
 * One sink that calls all of them concurrently. Its methods never reject: failures and timeouts go
 * to onError, and the others still run.
 */
export function fanOut(sinks: readonly ReportSink[], opts: FanOutOptions = {}): Required<ReportSink> {
  const onError = opts.onError ?? defaultOnError;
  const deadlineMs = opts.deadlineMs ?? 120_000;
  const call = async (
    hook: SinkHook,
    invoke: (s: ReportSink) => Promise<void> | void | undefined,
  ): Promise<void> => {
    await Promise.all(
      sinks.map(async (sink) => {
        try {
          await race(
            Promise.resolve().then(() => invoke(sink)),
            { deadlineMs },
            (end) => (end.why === 'timeout' ? new Error(`no answer after ${end.ms} ms`) : end.reason),
          );
        } catch (e) {
          try {
            onError(sink.name, hook, e);
          } catch {
            // An error handler that throws must not break the run either.
          }
        }
      }),
    );
  };
  return {
    name: `fan-out of ${sinks.length} sinks`,
    runStarted: (run) => call('runStarted', (s) => s.runStarted?.(run)),
    runFinished: (result, run) => call('runFinished', (s) => s.runFinished?.(result, run)),
    runSkipped: (skip) => call('runSkipped', (s) => s.runSkipped?.(skip)),
  };
}
