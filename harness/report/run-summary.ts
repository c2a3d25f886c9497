/** A run folder's summary for comparison (harness/drift/summary.ts), read from its flows.json and verdict. */
import type { DeviceFacts } from '../device/facts.js';
import { type RunSummary, summarizeRun } from '../drift/summary.js';
import { UsageError } from '../errors.js';
import { scenarioSteps, stepAt } from '../record/run-record.js';
import { readRunFolder } from './run-folder.js';

/**
 * Reads a run folder and summarises it. A run with no flows.json (it broke before analysing) or
 * whose files could not be read cannot be compared: UsageError naming the folder and why.
 */
export async function runSummaryOf(dir: string): Promise<RunSummary> {
  return (await runSummaryAndFacts(dir)).summary;
}

/** The summary and the phone's facts (to tell its device profile), from a run folder. */
export async function runSummaryAndFacts(dir: string): Promise<{ summary: RunSummary; facts?: DeviceFacts }> {
  const run = await readRunFolder(dir);
  if (!run.analysis)
    throw new UsageError(
      `${dir}: no flows.json to compare (${run.result.outcome}: ${run.result.reason})${run.problems.length ? `; ${run.problems.join('; ')}` : ''}`,
    );
  const leaks = run.verdict?.identifierLeaks?.map((j) => j.leak) ?? run.analysis.identifiers?.leaks ?? [];
  const canaries = run.result.canaries;
  const own = new Set([canaries?.start, canaries?.end].filter((x): x is string => typeof x === 'string'));
  const steps = scenarioSteps(run.result);
  const summary = summarizeRun(run.analysis, leaks, {
    runId: run.result.runId,
    scenario: run.result.scenario,
    ...(run.result.profile ? { profile: run.result.profile } : {}),
    exclude: (host) => own.has(host),
    stepAt: (ts) => stepAt(steps, ts),
  });
  return { summary, ...(run.facts ? { facts: run.facts } : {}) };
}
