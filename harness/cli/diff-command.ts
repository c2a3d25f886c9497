/**
 * `phonehome diff RUN_A RUN_B`: what run B did that run A did not, and what it stopped doing: new
 * hosts, countries, organisations, identifier leaks and apps, hosts gone, volumes out of range.
 * Any two run folders (reports/runs/RUN/PHONE/SCENARIO), typically last night's and tonight's.
 */
import { type Command, Option } from './commander.js';

interface DiffCliOptions {
  format: 'table' | 'json';
}

export function register(program: Command): void {
  program
    .command('diff')
    .summary('what changed between two runs: new hosts, countries, leaks, hosts gone, volumes')
    .description(
      'Compare run B with run A (two run folders, reports/runs/RUN/PHONE/SCENARIO): hosts, countries, ' +
        'organisations, identifier leaks and apps B has that A had not, hosts A contacted and B did not, ' +
        'and hosts whose connections or bytes moved far outside what A had.\n' +
        'Exit status: 0 no change, 1 changes found, 2 bad input.',
    )
    .argument('<runA>', 'the earlier run folder')
    .argument('<runB>', 'the later run folder')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .action(async (a: string, b: string, o: DiffCliOptions) => {
      process.exitCode = await diffAction(a, b, o);
    });
}

async function diffAction(a: string, b: string, o: DiffCliOptions): Promise<number> {
  const { runSummaryOf } = await import('../report/run-summary.js');
  const { drift } = await import('../drift/drift.js');
  const [sa, sb] = await Promise.all([runSummaryOf(a), runSummaryOf(b)]);
  if (sa.scenario !== sb.scenario)
    process.stderr.write(
      `phonehome: warning: comparing different scenarios (${sa.scenario} and ${sb.scenario})\n`,
    );
  const findings = drift([sa], sb);
  if (o.format === 'json') {
    process.stdout.write(
      `${JSON.stringify({ formatVersion: 1, a: { dir: a, runId: sa.runId, scenario: sa.scenario }, b: { dir: b, runId: sb.runId, scenario: sb.scenario }, findings }, null, 2)}\n`,
    );
  } else {
    const { driftText } = await import('./drift-text.js');
    process.stdout.write(driftText(`${sb.scenario}: ${sb.runId} against ${sa.runId}`, findings));
  }
  return findings.length > 0 ? 1 : 0;
}
