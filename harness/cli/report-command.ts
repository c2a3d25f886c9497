/**
 * `phonehome report`: turn allure-results into an Allure report (one index.html that opens from disk),
 * with the trends of earlier nights. With --runs, run folders of runs started outside mocha are
 * written into the results first. Heavy modules load inside the action so `phonehome --help` stays fast.
 */
import type { Command } from './commander.js';

/** The options commander hands the action. */
interface ReportCliOptions {
  results?: string;
  out: string;
  merge?: string[] | true;
  farm?: string;
  historyFrom?: string;
  runs?: string;
  profile?: string;
  open?: boolean;
  singleFile: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .summary('generate the Allure report of the runs, with trends across nights')
    .description(
      "Generate an Allure report from allure-results with allure-commandline (needs Java), keeping the previous report's " +
        'history so trends show across nights, and print the path of its index.html.\n' +
        'Exit status: 0 generated, 1 allure-commandline failed, 2 no results, no Java or bad usage.',
    )
    .option(
      '--results <dir>',
      'the allure-results folder (default reports/allure-results; with --merge, where the merged results go, default reports/farm-results, which must be absent or empty)',
    )
    .option('--out <dir>', 'the report folder (replaced)', 'reports/allure-report')
    .option(
      '--merge [dir...]',
      "one report for a device farm: each DIR is one lab host's results (its nightly artifact: allure-results/, " +
        'host.json, history/); every test is labelled with its host and put under it, each host gets a "lab host" ' +
        "test, broken when it sent nothing or its run broke, and each host's baselines are kept in the report's " +
        'baselines/HOST/ for the next night',
    )
    .option('--farm <file>', 'with --merge: the farm file, whose hosts sending nothing show as broken')
    .option(
      '--history-from <dir>',
      'the previous report whose history carries the trends on (default: --out)',
    )
    .option('--runs <dir>', 'first write results for every run folder under DIR (e.g. reports/runs/RUN_ID)')
    .option('--profile <name>', 'with --runs: the device profile, used as the history identity')
    .option('--no-single-file', 'a multi-file report (needs a web server to view) instead of one index.html')
    .option('--open', 'open the report in a browser when there is a display, else print its file:// URL')
    .action(async (opts: ReportCliOptions) => {
      process.exitCode = await reportAction(opts);
    });
}

async function writeRunFolders(runsRoot: string, resultsDir: string, profile?: string): Promise<number> {
  const [{ findRunFolders }, results, { UsageError }] = await Promise.all([
    import('../report/run-folder.js'),
    import('../report/allure-results.js'),
    import('../errors.js'),
  ]);
  const dirs = await findRunFolders(runsRoot);
  if (dirs.length === 0) throw new UsageError(`no run folders (with result.json) under ${runsRoot}`);
  const { executorFromEnv } = await import('../report/launch-info.js');
  const executor = executorFromEnv(process.env);
  await results.writeLaunchFiles(resultsDir, {
    environment: await results.gatherLaunchEnvironment(),
    ...(executor ? { executor } : {}),
  });
  for (const dir of dirs) await results.writeRunResult(resultsDir, dir, profile ? { profile } : {});
  return dirs.length;
}

async function hasDisplay(): Promise<boolean> {
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return false;
  const { access, constants } = await import('node:fs/promises');
  const { delimiter, join } = await import('node:path');
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      await access(join(dir, 'xdg-open'), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Merges the hosts' results (--merge); returns the hosts' baselines to keep in the report. */
async function mergeHosts(opts: ReportCliOptions, resultsDir: string): Promise<[string, string][]> {
  const [{ mergeFarmResults }, { terminalSafe }, { executorFromEnv }, { UsageError }] = await Promise.all([
    import('../report/farm-merge.js'),
    import('../format/terminal-text.js'),
    import('../report/launch-info.js'),
    import('../errors.js'),
  ]);
  if (opts.runs !== undefined)
    throw new UsageError("--runs and --merge do not go together: merge the hosts' allure-results");
  let expectedHosts: string[] | undefined;
  if (opts.farm !== undefined) {
    const { readFarmFile } = await import('./farm-command.js');
    expectedHosts = (await readFarmFile(opts.farm)).hosts.map((h) => h.name);
  }
  const executor = executorFromEnv(process.env);
  const merged = await mergeFarmResults({
    dirs: opts.merge === true ? [] : (opts.merge ?? []),
    outResults: resultsDir,
    ...(expectedHosts ? { expectedHosts } : {}),
    ...(executor ? { executor } : {}),
  });
  for (const w of merged.warnings) process.stderr.write(`phonehome: warning: ${terminalSafe(w)}\n`);
  for (const h of merged.hosts)
    process.stderr.write(
      `phonehome: lab host ${h.host}: ${h.status === 'passed' ? '' : 'BROKEN: '}${terminalSafe(h.message)}\n`,
    );
  return merged.hosts.flatMap((h) => (h.baselines ? [[h.host, h.baselines] as [string, string]] : []));
}

/** Copies each host's baselines into the report's baselines/HOST/, where the next night's job finds them. */
async function keepBaselines(outDir: string, baselines: [string, string][]): Promise<void> {
  const { cp } = await import('node:fs/promises');
  const { join } = await import('node:path');
  for (const [host, dir] of baselines)
    await cp(dir, join(outDir, 'baselines', host), { recursive: true, errorOnExist: false, force: true });
}

async function reportAction(opts: ReportCliOptions): Promise<number> {
  const { terminalSafe } = await import('../format/terminal-text.js');
  const { UsageError } = await import('../errors.js');
  if (opts.merge === undefined && opts.farm !== undefined) throw new UsageError('--farm goes with --merge');
  const resultsDir = opts.results ?? (opts.merge ? 'reports/farm-results' : 'reports/allure-results');
  const baselines = opts.merge ? await mergeHosts(opts, resultsDir) : [];
  if (opts.runs !== undefined) {
    const n = await writeRunFolders(opts.runs, resultsDir, opts.profile);
    process.stderr.write(
      `phonehome: wrote results of ${n} run${n === 1 ? '' : 's'} into ${terminalSafe(resultsDir)}\n`,
    );
  }
  const { generateReport } = await import('../report/allure-generate.js');
  let report: Awaited<ReturnType<typeof generateReport>>;
  try {
    report = await generateReport({
      resultsDir,
      outDir: opts.out,
      singleFile: opts.singleFile,
      ...(opts.historyFrom !== undefined ? { historyFrom: opts.historyFrom } : {}),
    });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    process.stderr.write(`phonehome: ${terminalSafe((e as Error).message.split('\n')[0] ?? '')}\n`);
    return 1;
  }
  await keepBaselines(opts.out, baselines);
  process.stderr.write(
    `phonehome: report generated in ${(report.generateMs / 1000).toFixed(1)} s` +
      (report.historyIn ? ` with the history of the previous report` : '') +
      '\n',
  );
  process.stdout.write(`${report.indexHtml}\n`);
  if (opts.open) {
    const { pathToFileURL } = await import('node:url');
    const url = pathToFileURL(report.indexHtml).href;
    if (await hasDisplay()) {
      const { spawn } = await import('node:child_process');
      spawn('xdg-open', [url], { detached: true, stdio: 'ignore' }).unref();
    } else {
      process.stdout.write(`${url}\n`);
    }
  }
  return 0;
}
