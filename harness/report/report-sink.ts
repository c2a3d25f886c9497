/**
 * Report sinks: whatever wants to hear about runs (allure-results files, the allure-mocha test that
 * is running, a chat notifier…). Every method is optional; fanOut() calls all sinks and turns a sink
 * that throws, rejects or hangs into one logged line, so one broken sink cannot kill a run.
 */
import { race } from '../deadline.js';
import type { RunResult } from '../run/run-one.js';

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

/** A consumer of run events. */
export interface ReportSink {
  /** For the log line when the sink fails. */
  readonly name: string;
  /** A run is about to start. */
  runStarted?(run: RunStart): Promise<void> | void;
  /** A run finished (whatever its outcome); `dir` is its run folder with every artifact written. */
  runFinished?(result: RunResult, dir: string): Promise<void> | void;
}

/** How fanOut reports a failing sink. */
export type SinkErrorHandler = (sink: string, hook: 'runStarted' | 'runFinished', error: unknown) => void;

/** Options of fanOut. */
export interface FanOutOptions {
  /** Called once per failing sink call (default: one line on stderr). */
  onError?: SinkErrorHandler;
  /** How long one sink call may take before it is given up on, ms (default 120 000). */
  deadlineMs?: number;
}

function defaultOnError(sink: string, hook: string, error: unknown): void {
  const text = error instanceof Error ? error.message : String(error);
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
    hook: 'runStarted' | 'runFinished',
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
    runFinished: (result, dir) => call('runFinished', (s) => s.runFinished?.(result, dir)),
  };
}
