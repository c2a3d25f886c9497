/**
 * `phonehome baseline accept RUN_DIR…`: a person accepts runs as what their phone and scenario
 * normally do; `phonehome baseline diff RUN_DIR`: what a run did that its baseline's runs did not
 * (drift, harness/drift/drift.ts). Baselines live in a history folder (default reports/history),
 * one JSON file per device profile and scenario, carried from night to night.
 */
import { UsageError } from '../errors.js';
import { type Command, Option } from './commander.js';

interface BaselineCliOptions {
  history: string;
  keep: string;
  devicesDir?: string;
  format?: 'table' | 'json';
}

export function register(program: Command): void {
  const baseline = program
    .command('baseline')
    .summary('accept runs as a baseline, and compare a run with its baseline')
    .description(
      'Baselines: per device profile and scenario, the runs a person accepted (the last --keep of ' +
        'them), in HISTORY/PROFILE/SCENARIO.json.',
    );
  const common = (c: Command) =>
    c
      .option('--history <dir>', 'the history folder', 'reports/history')
      .option('--devices-dir <dir>', "folder of device profiles (default: phonehome's own devices/)");
  common(
    baseline
      .command('accept')
      .description(
        "accept run folders (reports/runs/RUN/PHONE/SCENARIO) into their profile and scenario's baseline",
      )
      .argument('<runs...>', 'run folders')
      .option('--keep <n>', 'accepted runs kept per profile and scenario', '10'),
  ).action(async (runs: string[], o: BaselineCliOptions) => {
    process.exitCode = await accept(runs, o);
  });
  common(
    baseline
      .command('diff')
      .description(
        'what a run did that the runs of its baseline did not: new hosts, countries, organisations, ' +
          'leaks and apps, hosts every baseline run had, volumes outside their range. Exit status: 0 no ' +
          'change, 1 changes, 2 bad input or no baseline.',
      )
      .argument('<run>', 'a run folder')
      .addOption(
        new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'),
      ),
  ).action(async (run: string, o: BaselineCliOptions) => {
    process.exitCode = await diffWithBaseline(run, o);
  });
}

/** The run's summary and its device profile's name (from its device.json). */
async function summaryWithProfile(dir: string, devicesDir: string | undefined) {
  const { runSummaryAndFacts } = await import('../report/run-summary.js');
  const { loadProfiles, matchProfile } = await import('../device/profiles.js');
  const { summary, facts } = await runSummaryAndFacts(dir);
  if (!facts)
    throw new UsageError(`${dir}: no device.json: cannot tell which device profile the run belongs to`);
  // A device.json's properties are what the run read; its manufacturer and model stand in for
  // them when an older record kept none.
  const properties = {
    'ro.product.manufacturer': facts.manufacturer,
    'ro.product.model': facts.model,
    ...(facts.properties ?? {}),
  };
  const m = matchProfile(await loadProfiles(devicesDir), properties);
  if (!m.profile)
    throw new UsageError(
      `${dir}: no device profile matches ${facts.manufacturer} ${facts.model}: ${m.reason}`,
    );
  return { summary, profile: m.profile.name };
}

async function readBaseline(file: string) {
  const { readFile } = await import('node:fs/promises');
  const { parseBaseline } = await import('../drift/baseline.js');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseBaseline(text, file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

async function accept(runs: string[], o: BaselineCliOptions): Promise<number> {
  const keep = Number(o.keep);
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep: not a whole number ≥ 1: ${o.keep}`);
  const { join } = await import('node:path');
  const { mkdir } = await import('node:fs/promises');
  const { acceptRun, baselinePath, BaselineError } = await import('../drift/baseline.js');
  const { writeFileAtomic } = await import('../atomic-write.js');
  const { terminalSafe } = await import('../format/terminal-text.js');
  // Every run is read first: one that cannot be accepted leaves every baseline as it was.
  const read = [];
  for (const dir of runs) read.push({ dir, ...(await summaryWithProfile(dir, o.devicesDir)) });
  const files = new Map<string, Awaited<ReturnType<typeof readBaseline>>>();
  for (const r of read) {
    let file: string;
    try {
      file = baselinePath(o.history, r.profile, r.summary.scenario, join);
    } catch (err) {
      if (err instanceof BaselineError) throw new UsageError(`${r.dir}: ${err.message}`);
      throw err;
    }
    const before = files.has(file) ? files.get(file) : await readBaseline(file);
    files.set(file, acceptRun(before, r.profile, r.summary, keep));
    process.stdout.write(
      `accepted ${terminalSafe(r.summary.runId)} (${terminalSafe(r.profile)} › ${terminalSafe(r.summary.scenario)}, ${Object.keys(r.summary.hosts).length} hosts) into ${file}\n`,
    );
  }
  for (const [file, b] of files) {
    await mkdir(join(file, '..'), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(b, null, 2)}\n`);
  }
  return 0;
}

async function diffWithBaseline(dir: string, o: BaselineCliOptions): Promise<number> {
  const { join } = await import('node:path');
  const { baselinePath } = await import('../drift/baseline.js');
  const { drift } = await import('../drift/drift.js');
  const { summary, profile } = await summaryWithProfile(dir, o.devicesDir);
  const file = baselinePath(o.history, profile, summary.scenario, join);
  const b = await readBaseline(file);
  const earlier = (b?.runs ?? []).filter((r) => r.runId !== summary.runId);
  if (earlier.length === 0)
    throw new UsageError(
      `no baseline for ${profile} › ${summary.scenario} in ${o.history} (accept runs with phonehome baseline accept)`,
    );
  const findings = drift(earlier, summary);
  if (o.format === 'json') {
    process.stdout.write(
      `${JSON.stringify({ formatVersion: 1, run: { dir, runId: summary.runId, scenario: summary.scenario, profile }, baseline: { file, runs: earlier.map((r) => r.runId) }, findings }, null, 2)}\n`,
    );
  } else {
    const { driftText } = await import('./drift-text.js');
    process.stdout.write(
      driftText(
        `${profile} › ${summary.scenario}: ${summary.runId} against ${earlier.length} accepted run${earlier.length === 1 ? '' : 's'}`,
        findings,
      ),
    );
  }
  return findings.length > 0 ? 1 : 0;
}
