/**
 * Writing Allure 2 results directly, for runs started outside mocha: `<uuid>-result.json`, its
 * attachments `<uuid>-attachment.<ext>`, and the launch files categories.json, environment.properties
 * and executor.json, in the shapes allure-js-commons 3 writes (its model types check them here).
 * Every file appears whole (written beside, then renamed), and a result is written after its
 * attachments, so `allure generate` never reads half a run.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { Attachment, Parameter, StepResult, TestResult } from 'allure-js-commons';
import { adbVersion, DEFAULT_ADB } from '../device/adb-server.js';
import { phonehomePackage } from '../project-dir.js';
import type { RunResult } from '../record/run-record.js';
import { PHONEHOME_CATEGORIES } from './categories.js';
import {
  type ExecutorInfo,
  executorFromEnv,
  formatEnvironmentProperties,
  type LaunchEnvironment,
} from './launch-info.js';
import { readRunFolder } from './run-folder.js';
import {
  buildRunReport,
  type ReportAttachment,
  type ReportStep,
  type RunReport,
  type RunReportOptions,
} from './run-report.js';

type AllureStatus = NonNullable<TestResult['status']>;
type AllureStage = TestResult['stage'];

// allure-js-commons declares statuses and stages as enums; their values are these strings.
const status = (s: string) => s as AllureStatus;
const FINISHED = 'finished' as AllureStage;

/** Names an attachment's file in the results folder. */
export type AttachmentSource = (a: ReportAttachment) => string;

function attachment(a: ReportAttachment, source: AttachmentSource): Attachment {
  return { name: a.name, type: a.contentType, source: source(a) };
}

function stepResult(s: ReportStep, source: AttachmentSource): StepResult {
  return {
    name: s.name,
    status: status(s.status),
    statusDetails: s.message ? { message: s.message } : {},
    stage: FINISHED,
    steps: s.steps.map((c) => stepResult(c, source)),
    attachments: s.attachments.map((a) => attachment(a, source)),
    parameters: s.parameters.map((p) => ({ name: p.name, value: p.value })),
    ...(s.start !== undefined ? { start: Math.round(s.start) } : {}),
    ...(s.stop !== undefined ? { stop: Math.round(s.stop) } : {}),
  };
}

/** Every attachment of a report entry: the test's own, then its steps', depth first. */
export function allAttachments(report: RunReport): ReportAttachment[] {
  const fromSteps = (steps: ReportStep[]): ReportAttachment[] =>
    steps.flatMap((s) => [...s.attachments, ...fromSteps(s.steps)]);
  return [...report.attachments, ...fromSteps(report.steps)];
}

/** The Allure TestResult of a report entry; `source` names each attachment's file. */
export function toAllureTestResult(report: RunReport, uuid: string, source: AttachmentSource): TestResult {
  const parameters: Parameter[] = report.parameters.map((p) => ({
    name: p.name,
    value: p.value,
    ...(p.excluded ? { excluded: true } : {}),
  }));
  return {
    uuid,
    historyId: report.historyId,
    testCaseId: report.testCaseId,
    fullName: report.fullName,
    titlePath: ['phonehome', ...report.labels.filter((l) => l.name === 'suite').map((l) => l.value)],
    name: report.name,
    status: status(report.status),
    statusDetails: report.statusDetails,
    stage: FINISHED,
    descriptionHtml: report.descriptionHtml,
    steps: report.steps.map((s) => stepResult(s, source)),
    attachments: report.attachments.map((a) => attachment(a, source)),
    parameters,
    labels: report.labels.map((l) => ({ name: l.name, value: l.value })),
    links: [],
    ...(report.start !== undefined ? { start: Math.round(report.start) } : {}),
    ...(report.stop !== undefined ? { stop: Math.round(report.stop) } : {}),
  };
}

async function publish(path: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = join(dirname(path), `.phonehome-${randomUUID()}.tmp`);
  try {
    await write(tmp);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** What was written for one run. */
export interface WrittenResult {
  /** The result's uuid. */
  uuid: string;
  /** Path of `<uuid>-result.json`. */
  file: string;
  /** The report entry it was made from. */
  report: RunReport;
}

/** Writes the result of one run folder (and its attachments) into an allure-results directory. */
export async function writeRunResult(
  resultsDir: string,
  runDir: string,
  opts: RunReportOptions = {},
): Promise<WrittenResult> {
  const report = await buildRunReport(await readRunFolder(runDir), { host: hostname(), ...opts });
  await mkdir(resultsDir, { recursive: true });
  const sources = new Map<ReportAttachment, string>();
  for (const a of allAttachments(report)) {
    const source = `${randomUUID()}-attachment${a.fileExtension}`;
    const target = join(resultsDir, source);
    if (a.path !== undefined) {
      const from = a.path;
      await publish(target, (tmp) => copyFile(from, tmp));
    } else {
      await publish(target, (tmp) => writeFile(tmp, a.body ?? ''));
    }
    sources.set(a, source);
  }
  const uuid = randomUUID();
  const file = join(resultsDir, `${uuid}-result.json`);
  const json = JSON.stringify(toAllureTestResult(report, uuid, (a) => sources.get(a)!));
  await publish(file, (tmp) => writeFile(tmp, json));
  return { uuid, file, report };
}

/** What the launch files say. */
export interface LaunchFiles {
  /** environment.properties. */
  environment: LaunchEnvironment;
  /** executor.json; not written when undefined. */
  executor?: ExecutorInfo;
}

/** Writes categories.json, environment.properties and (when known) executor.json. */
export async function writeLaunchFiles(resultsDir: string, launch: LaunchFiles): Promise<void> {
  await mkdir(resultsDir, { recursive: true });
  const write = (name: string, text: string) =>
    publish(join(resultsDir, name), (tmp) => writeFile(tmp, text));
  await write('categories.json', JSON.stringify(PHONEHOME_CATEGORIES, null, 2));
  await write('environment.properties', formatEnvironmentProperties(launch.environment));
  if (launch.executor) await write('executor.json', JSON.stringify(launch.executor, null, 2));
}

/** phonehome's version, from its package.json (in the source tree or above dist/). */
export async function phonehomeVersion(): Promise<string> {
  return phonehomePackage()?.version ?? 'unknown';
}

/** Versions the caller knows (Appium and its driver are only known to whoever started them). */
export interface GatherOptions {
  /** Appium server version. */
  appium?: string;
  /** appium-uiautomator2-driver version. */
  uiautomator2Driver?: string;
  /** The adb binary (default: the one phonehome's adb server uses). */
  adbBin?: string;
}

/** Reads the launch environment: phonehome, adb, host, Node.js. */
export async function gatherLaunchEnvironment(opts: GatherOptions = {}): Promise<LaunchEnvironment> {
  const adb = await adbVersion(opts.adbBin ?? DEFAULT_ADB.bin).catch(
    (e: Error) => `unknown (${e.message.split('\n')[0]})`,
  );
  return {
    phonehome: await phonehomeVersion(),
    adb,
    ...(opts.appium ? { appium: opts.appium } : {}),
    ...(opts.uiautomator2Driver ? { uiautomator2Driver: opts.uiautomator2Driver } : {}),
    host: hostname(),
    node: process.version,
  };
}

/** Options of the results sink. */
export interface AllureResultsSinkOptions extends GatherOptions, RunReportOptions {
  /** Where the report will be published (executor.json's reportUrl). */
  reportUrl?: string;
  /** The environment variables executor.json is read from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** A finished run's folder, and the device profile it matched (the run's history identity). */
export interface FinishedRunFolder {
  dir: string;
  profile?: string;
}

/**
 * What the Allure writers offer the run pipeline: they fit its ReportSink (harness/run/report-sink.ts),
 * which the lab hands them to.
 */
export interface AllureSink {
  readonly name: string;
  runStarted(run: { runId: string; serial: string; scenario: string }): Promise<void>;
  runFinished(result: RunResult, run: FinishedRunFolder): Promise<void>;
}

/**
 * A report sink that writes allure-results files: the launch files when the first run starts, one
 * result per finished run.
 */
export function allureResultsSink(resultsDir: string, opts: AllureResultsSinkOptions = {}): AllureSink {
  let launch: Promise<void> | undefined;
  const launchFiles = () => {
    launch ??= (async () => {
      const executor = executorFromEnv(opts.env ?? process.env, opts.reportUrl);
      await writeLaunchFiles(resultsDir, {
        environment: await gatherLaunchEnvironment(opts),
        ...(executor ? { executor } : {}),
      });
    })();
    return launch;
  };
  const reportOpts: RunReportOptions = {
    ...(opts.profile ? { profile: opts.profile } : {}),
    ...(opts.host ? { host: opts.host } : {}),
  };
  return {
    name: `allure-results ${resultsDir}`,
    runStarted: () => launchFiles(),
    async runFinished(_result: RunResult, run: FinishedRunFolder) {
      await launchFiles();
      await writeRunResult(resultsDir, run.dir, {
        ...reportOpts,
        ...(run.profile && !opts.profile ? { profile: run.profile } : {}),
      });
    },
  };
}
