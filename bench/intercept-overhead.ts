/**
 * What TLS interception adds to each run (`npm run bench:intercept`, after `tsc`; root): the
 * interceptor a run uses (harness/mitm/mitmproxy.ts) started and stopped N times in a namespace of
 * its own, as a simulated lab's gateway is: mitmdump started until it listens, its three firewall
 * rules added, then mitmdump stopped (SIGTERM, its addon closing the exchanges file) and the rules
 * removed. Prints the figures; the namespace and every rule are removed by name afterwards.
 *
 * Usage: node dist/bench/intercept-overhead.js [--runs N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfdir, MitmInterceptor } from '../harness/mitm/mitmproxy.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 10;
const ns = `phbench${process.pid % 10000}`;
const dir = mkdtempSync(join(tmpdir(), 'phonehome-bench-intercept-'));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  execFileSync('ip', ['netns', 'add', ns]);
  execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  const mitm = new MitmInterceptor(
    {
      confdir: defaultConfdir(),
      ignoreHosts: [],
      onFailure: 'broken',
      bodyCap: 65536,
      mitmdump: 'mitmdump',
      installCa: false,
    },
    { netns: ns, lanInterface: 'lo', upstreamInsecure: true },
  );
  await mitm.ca();
  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const s = await mitm.start({ dir, phoneAddrs: ['10.213.1.10'] });
    const t1 = performance.now();
    const problems = await s.stop();
    const t2 = performance.now();
    if (problems.length) throw new Error(problems.join('; '));
    starts.push(t1 - t0);
    stops.push(t2 - t1);
  }
  const total = starts.map((s, i) => s + stops[i]!);
  const f = (n: number) => `${(n / 1000).toFixed(2)} s`;
  process.stdout.write(
    `interception per run, ${runs} runs (mitmdump ${execFileSync('mitmdump', ['--version'], { encoding: 'utf8' }).split('\n')[0]!.replace('Mitmproxy: ', '')}):\n` +
      `  start (mitmdump listening + 3 rules): median ${f(median(starts))}, min ${f(Math.min(...starts))}, max ${f(Math.max(...starts))}\n` +
      `  stop (SIGTERM, addon done + rules removed): median ${f(median(stops))}, min ${f(Math.min(...stops))}, max ${f(Math.max(...stops))}\n` +
      `  together: median ${f(median(total))}\n`,
  );
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    try {
      execFileSync('ip', ['netns', 'del', ns]);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  });
