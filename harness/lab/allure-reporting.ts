/**
 * A suite's runs into Allure: allure-mocha as mocha's reporter (with each skipped test's reason), the
 * Allure sink that reports each run into its running test, and the launch files (environment,
 * executor, categories) beside the results.
 */
import { allureWithTestNotes } from '../report/allure-mocha-reporter.js';
import { gatherLaunchEnvironment, writeLaunchFiles } from '../report/allure-results.js';
import { allureSink } from '../report/allure-runtime.js';
import { executorFromEnv } from '../report/launch-info.js';
import type { ReportSink } from '../run/report-sink.js';
import type { MochaReporterFactory } from '../run/suite.js';

/** What the suite needs to report into Allure results in resultsDir. */
export interface AllureReporting {
  mochaReporter: MochaReporterFactory;
  sinks: ReportSink[];
}

/** allure-mocha writing into resultsDir, with mocha's spec reporter beside it when `spec`. */
export function allureReporting(resultsDir: string, spec: boolean): AllureReporting {
  return {
    mochaReporter: (notes) => ({
      reporter: allureWithTestNotes(notes),
      reporterOptions: { resultsDir, ...(spec ? { extraReporters: 'spec' } : {}) },
    }),
    sinks: [allureSink(resultsDir)],
  };
}

/** Writes the launch files (environment, executor on CI, categories) into resultsDir. */
export async function writeAllureLaunch(
  resultsDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const executor = executorFromEnv(env);
  await writeLaunchFiles(resultsDir, {
    environment: await gatherLaunchEnvironment({}),
    ...(executor ? { executor } : {}),
  });
}
