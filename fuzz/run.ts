/**
 * `npm run fuzz`: every fuzz target (fuzz/targets.ts) in a child process of its own, watched: a child
 * that reports no progress for the hang limit is killed and reported as a hang with the seed that
 * replays it; each reports its inputs, its slowest input and its peak RSS. Exit 1 when anything was
 * found. A finding's input is written to reports/fuzz/ to become a regression test.
 *
 * Usage: node dist/fuzz/run.js [--inputs N (total, default 1,000,000)] [--seed S] [--target NAME]
 *        [--write (the results into RELIABILITY.md)]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { campaign } from './campaign.js';
import { TARGETS } from './targets.js';
import { type ChildReport, watchChild } from './watch-child.js';

/** An input that takes longer than this is a finding. */
const PER_INPUT_MS = 5_000;
/** A child silent for this long (no progress line) is hung: killed, reported. */
const SILENCE_MS = 60_000;
/** Peak RSS over this is a finding. */
const MAX_RSS_MB = 300;

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

async function child(name: string, numRuns: number, seed: number): Promise<void> {
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no fuzz target ${name}`);
  const r = campaign(target, numRuns, seed, { perInputMs: PER_INPUT_MS }, (done) =>
    process.stdout.write(`progress ${done}\n`),
  );
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`result ${JSON.stringify({ ...r, peakRssMb })}\n`);
}

function runChild(name: string, numRuns: number, seed: number): Promise<ChildReport> {
  const script = fileURLToPath(import.meta.url);
  return watchChild(
    [
      '--max-old-space-size=512',
      script,
      '--child',
      name,
      '--inputs',
      String(numRuns),
      '--seed',
      String(seed),
    ],
    { target: name, seed, silenceMs: SILENCE_MS },
  );
}

function table(reports: ChildReport[]): string {
  const rows = reports.map((r) => {
    const found =
      r.died ??
      r.failure?.error ??
      (r.peakRssMb > MAX_RSS_MB ? `peak RSS ${r.peakRssMb.toFixed(0)} MB` : 'none');
    return `| ${r.target} | ${r.inputs} | ${r.seconds.toFixed(1)} | ${r.slowestMs.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${found} |`;
  });
  return [
    '| target | inputs | seconds | slowest input (ms) | peak RSS (MB) | findings |',
    '| ------ | ------ | ------- | ------------------ | ------------- | -------- |',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  if (args.includes('--child')) return child(opt('--child')!, Number(opt('--inputs')), Number(opt('--seed')));
  const total = Number(opt('--inputs') ?? 1_000_000);
  const seed = Number(opt('--seed') ?? Date.now() % 2 ** 31);
  const targets = opt('--target') ? TARGETS.filter((t) => t.name === opt('--target')) : TARGETS;
  if (targets.length === 0) throw new Error(`no fuzz target ${opt('--target')}`);
  const each = Math.ceil(total / targets.length);
  process.stdout.write(`fuzz: ${targets.length} targets, ${each} inputs each, seed ${seed}\n`);
  const reports: ChildReport[] = [];
  // As many children at once as there are cores: each target's campaign is independent.
  const queue = [...targets];
  await Promise.all(
    Array.from({ length: Math.min(cpus().length, queue.length) }, async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const r = await runChild(t.name, each, seed);
        process.stdout.write(
          `fuzz: ${r.target}: ${r.inputs} inputs, ${r.died ?? r.failure?.error ?? 'nothing found'}\n`,
        );
        reports.push(r);
      }
    }),
  );
  reports.sort((a, b) => a.target.localeCompare(b.target));
  const findings = reports.filter((r) => r.died || r.failure || r.peakRssMb > MAX_RSS_MB);
  for (const r of findings.filter((x) => x.failure)) {
    mkdirSync('reports/fuzz', { recursive: true });
    const file = join('reports/fuzz', `${r.target}-${r.seed}.bin`);
    writeFileSync(file, Buffer.from(r.failure!.inputHex, 'hex'));
    process.stdout.write(`fuzz: ${r.target}: the input is in ${file}\n`);
  }
  const inputs = reports.reduce((n, r) => n + r.inputs, 0);
  const text = `${table(reports)}\n\n${inputs} inputs in all; ${findings.length} targets with findings.\n`;
  process.stdout.write(`\n${text}`);
  if (args.includes('--write')) {
    const file = 'RELIABILITY.md';
    const doc = readFileSync(file, 'utf8');
    const start = '<!-- fuzz results -->';
    const end = '<!-- end of fuzz results -->';
    const when = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const section = `${start}\n\`node dist/fuzz/run.js --inputs ${total} --seed ${seed} --write\` on ${when}:\n\n${text}${end}`;
    writeFileSync(file, doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), section));
  }
  process.exitCode = findings.length ? 1 : 0;
}

await main();
