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
  // The run says which profile it matched; an older record is matched again from its device.json.
  if (summary.profile) return { summary, profile: summary.profile };
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

async function accept(runs: string[], o: BaselineCliOptions): Promise<number> {
  const keep = Number(o.keep);
  if (!Number.isInteger(keep) || keep < 1) throw new UsageError(`--keep: not a whole number ≥ 1: ${o.keep}`);
  const { acceptIntoHistory } = await import('../drift/baseline-file.js');
  const { terminalSafe } = await import('../format/terminal-text.js');
  // Every run is read first: one that cannot be accepted leaves every baseline as it was.
  const read = [];
  for (const dir of runs) read.push(await summaryWithProfile(dir, o.devicesDir));
  for (const { file, accepted, baseline } of await acceptIntoHistory(o.history, read, keep))
    for (const s of accepted)
      process.stdout.write(
        `accepted ${terminalSafe(s.runId)} (${terminalSafe(baseline.profile)} › ${terminalSafe(s.scenario)}, ${Object.keys(s.hosts).length} hosts) into ${file}\n`,
      );
  return 0;
}

async function diffWithBaseline(dir: string, o: BaselineCliOptions): Promise<number> {
  const { loadRunBaseline } = await import('../drift/baseline-file.js');
  const { drift } = await import('../drift/drift.js');
  const { summary, profile } = await summaryWithProfile(dir, o.devicesDir);
  const { file, runs } = await loadRunBaseline(o.history, profile, summary.scenario);
  const earlier = runs.filter((r) => r.runId !== summary.runId);
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
