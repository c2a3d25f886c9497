/**
 * Reporting a run into the allure-mocha test that is running it: labels, parameters, the pipeline's
 * steps with their real times, and the attachments go to allure-js-commons' test runtime as the
 * runtime messages its reporters understand. allure-mocha owns the test result and its status: the
 * test makes it failed or broken by what it throws (harness/run/suite.ts's outcomeError).
 * allure-js-commons is loaded only here, and only when asked, so phonehome runs without it.
 */
import { createHash } from 'node:crypto';
import type { RuntimeMessage } from 'allure-js-commons/sdk';
import type { DeviceFacts } from '../device/facts.js';
import type { RunResult } from '../record/run-record.js';
import {
  type AllureResultsSinkOptions,
  type AllureSink,
  allureResultsSink,
  type FinishedRunFolder,
} from './allure-results.js';
import { readRunFolder } from './run-folder.js';
import {
  buildRunReport,
  type ReportAttachment,
  type ReportStep,
  type RunReport,
  type RunReportOptions,
  runIdentity,
} from './run-report.js';

/** The part of allure-js-commons' message runtime used here. */
interface MessageRuntime {
  sendMessage(message: RuntimeMessage): Promise<void>;
}

/** The allure test runtime of the running test, or undefined outside an Allure-enabled test framework. */
export async function activeAllureRuntime(): Promise<MessageRuntime | undefined> {
  // Only a framework adapter (allure-mocha, …) registers the global runtime; without one, do not
  // even load allure-js-commons.
  if (typeof (globalThis as Record<string, unknown>).allureTestRuntime !== 'function') return undefined;
  try {
    const { getGlobalTestRuntime } = await import('allure-js-commons/sdk/runtime');
    const runtime = getGlobalTestRuntime() as unknown as Partial<MessageRuntime>;
    return typeof runtime.sendMessage === 'function' ? (runtime as MessageRuntime) : undefined;
  } catch {
    return undefined;
  }
}

function attachmentMessage(a: ReportAttachment): RuntimeMessage {
  if (a.path !== undefined) {
    return {
      type: 'attachment_path',
      data: { name: a.name, path: a.path, contentType: a.contentType, fileExtension: a.fileExtension },
    } as RuntimeMessage;
  }
  return {
    type: 'attachment_content',
    data: {
      name: a.name,
      content: Buffer.from(a.body ?? '').toString('base64'),
      encoding: 'base64',
      contentType: a.contentType,
      fileExtension: a.fileExtension,
    },
  } as RuntimeMessage;
}

function sendStep(send: (m: RuntimeMessage) => void, s: ReportStep, fallback: number): void {
  const start = Math.round(s.start ?? fallback);
  send({ type: 'step_start', data: { name: s.name, start } } as RuntimeMessage);
  if (s.parameters.length) {
    send({ type: 'step_metadata', data: { parameters: s.parameters } } as RuntimeMessage);
  }
  for (const child of s.steps) sendStep(send, child, start);
  // Sent while the step is open, so the reporter attaches them to it.
  for (const a of s.attachments) send(attachmentMessage(a));
  send({
    type: 'step_stop',
    data: {
      stop: Math.round(s.stop ?? start),
      status: s.status,
      ...(s.message ? { statusDetails: { message: s.message } } : {}),
    },
  } as RuntimeMessage);
}

/** The runtime messages for one report entry, in the order to send them. */
export function runtimeMessages(report: RunReport): RuntimeMessage[] {
  const out: RuntimeMessage[] = [];
  const send = (m: RuntimeMessage) => out.push(m);
  send({
    type: 'metadata',
    data: {
      displayName: report.name,
      historyId: report.historyId,
      testCaseId: report.testCaseId,
      descriptionHtml: report.descriptionHtml,
      labels: report.labels.filter((l) => l.name !== 'host'),
      parameters: report.parameters.map((p) => ({ name: p.name, value: p.value, excluded: p.excluded })),
    },
  } as RuntimeMessage);
  for (const s of report.steps) sendStep(send, s, report.start ?? Date.now());
  for (const a of report.attachments) send(attachmentMessage(a));
  return out;
}

/**
 * Reports a run folder into the running Allure test. Resolves to false (and does nothing) when no
 * Allure test runtime is active: the caller then writes result files instead.
 */
export async function reportToAllureRuntime(runDir: string, opts: RunReportOptions = {}): Promise<boolean> {
  const runtime = await activeAllureRuntime();
  if (!runtime) return false;
  const { host: _host, ...rest } = opts;
  const report = await buildRunReport(await readRunFolder(runDir), rest);
  for (const m of runtimeMessages(report)) await runtime.sendMessage(m);
  return true;
}

/** A scenario that did not run on a phone (the run pipeline's SkippedRun fits). */
export interface SkippedRunInfo {
  serial: string;
  scenario: string;
  /** Strings came from the phone: untrusted. */
  facts: DeviceFacts;
  profile?: string;
  reason: string;
}

/**
 * A skipped scenario's place in the running Allure test: the name, labels and history identity a run
 * of it would have had, so that it sits beside that phone's other scenarios and keeps its history.
 */
export async function reportSkipToAllureRuntime(skip: SkippedRunInfo): Promise<void> {
  const runtime = await activeAllureRuntime();
  if (!runtime) return;
  const { serial, scenario, facts } = skip;
  const fullName = runIdentity({ result: { serial, scenario }, facts }, skip.profile);
  await runtime.sendMessage({
    type: 'metadata',
    data: {
      displayName: `${scenario} on ${facts.model || 'unknown model'} (${serial})`,
      testCaseId: fullName,
      historyId: createHash('md5').update(fullName).digest('hex'),
      labels: [
        { name: 'parentSuite', value: 'phonehome' },
        { name: 'suite', value: facts.model || 'unknown model' },
        { name: 'epic', value: facts.manufacturer || 'unknown maker' },
        { name: 'feature', value: scenario },
      ],
      parameters: [{ name: 'serial', value: serial, excluded: true }],
    },
  } as RuntimeMessage);
}

/**
 * The sink to use wherever a run may happen: inside an allure-mocha test it reports into that test;
 * elsewhere it writes result files into resultsDir. The launch files (categories, environment,
 * executor) go to resultsDir either way, so point allure-mocha's resultsDir at the same folder.
 */
export function allureSink(
  resultsDir: string,
  opts: AllureResultsSinkOptions = {},
): AllureSink & { runSkipped(skip: SkippedRunInfo): Promise<void> } {
  const files = allureResultsSink(resultsDir, opts);
  return {
    name: `allure ${resultsDir}`,
    runStarted: (run) => files.runStarted(run),
    async runFinished(result: RunResult, run: FinishedRunFolder) {
      const profile = opts.profile ?? run.profile;
      if (await reportToAllureRuntime(run.dir, profile ? { profile } : {})) {
        await files.runStarted({ runId: result.runId, serial: result.serial, scenario: result.scenario });
        return;
      }
      await files.runFinished(result, run);
    },
    runSkipped: (skip) => reportSkipToAllureRuntime(skip),
  };
}
