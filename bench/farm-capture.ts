/**
 * The farm-host capture benchmark: several simulated phones on one lab host sending at once, each
 * recorded by phonehome's tcpdump backend on its own port of the access point (as `phonehome run`
 * records four phones at once), at rising aggregate rates of full-size packets. A rate is kept when
 * every trial recorded every packet every phone sent, tcpdump reported no drop and each sender
 * reached 95 % of its share. Not a test: it measures and prints.
 *
 * The lab (a bridge, N phone namespaces, the simulated internet) has nothing else running; each
 * phone's sender is python3 in its namespace (bench/capture-rate.ts's paced UDP sender), each with
 * its own destination port, so the captures are counted by payload sequence number per phone. The
 * lab is removed by name on exit, failure, SIGINT or SIGTERM.
 *
 * Usage (root): node dist/bench/farm-capture.js [--phones 4] [--rates 8000,16000,…] [--size 1400]
 *   [--seconds 1] [--trials 3] [--backend tcpdump|cap|tcpdump-file|…] [--json]
 */
import { readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CaptureSession, CaptureStats } from '../harness/run/capture.js';
import type { LabPlan } from '../sim/net/lab-plan.js';
import {
  BURST_DESTINATION,
  type BurstCount,
  type BurstSent,
  backendFor,
  countBurst,
  cpuSeconds,
  fmtRate,
  labDrops,
  option,
  sendBurst,
  withBareLab,
} from './capture-rate.js';

/** Ethernet, IPv4 and UDP headers around each payload. */
const FRAME_OVERHEAD = 14 + 20 + 8;

/** One phone's share of a trial. */
interface PhoneShare {
  sent: BurstSent;
  found: BurstCount;
  stats: CaptureStats;
  labDropped: number;
}

/** One trial: all phones at once at one aggregate rate. */
export interface FarmTrial {
  /** Aggregate target, packets/s. */
  rate: number;
  phones: PhoneShare[];
  /** CPU seconds of this process and its tcpdumps over the burst. */
  cpuSeconds: number;
  /** Wall seconds of the longest sender. */
  seconds: number;
}

/** Frames and bits per second one trial reached, over all phones. */
export function trialFigures(t: FarmTrial, payloadBytes: number) {
  const sent = t.phones.reduce((a, p) => a + p.sent.sent, 0);
  const recorded = t.phones.reduce((a, p) => a + p.found.distinct, 0);
  const drops = t.phones.map((p) => p.stats.dropped);
  const reported = drops.includes('unknown')
    ? ('unknown' as const)
    : drops.reduce<number>((a, d) => a + (d === 'unknown' ? 0 : d), 0);
  const pps = sent / t.seconds;
  return {
    sent,
    recorded,
    reported,
    pps,
    mbps: (pps * (payloadBytes + FRAME_OVERHEAD) * 8) / 1e6,
    /** Every phone's sender reached 95 % of its share. */
    reachedRate: t.phones.every((p) => p.sent.sent / p.sent.seconds >= (0.95 * t.rate) / t.phones.length),
    lossless: recorded === sent && reported === 0,
    labDropped: t.phones.reduce((a, p) => a + p.labDropped, 0),
  };
}

async function trial(opts: {
  plan: LabPlan;
  dir: string;
  rate: number;
  seconds: number;
  payloadBytes: number;
  firstPort: number;
  /** phonehome's tcpdump backend, or a yardstick of bench/capture-rate.ts (tcpdump-file …). */
  backend: string;
}): Promise<FarmTrial> {
  const phones = opts.plan.phones;
  const share = opts.rate / phones.length;
  const count = Math.round(share * opts.seconds);
  const sessions: CaptureSession[] = [];
  const stopped = new Set<number>();
  try {
    for (const [i, p] of phones.entries()) {
      const backend = backendFor(opts.backend, p.hostIf, opts.dir);
      sessions.push(
        await backend.start({ file: join(opts.dir, `phone${i}.pcap`), target: { addrs: [p.ip] } }),
      );
    }
    const drops0 = await Promise.all(phones.map((p) => labDrops(p.ns, p.phoneIf, p.hostIf)));
    const cpu0 = cpuSeconds();
    const sent = await Promise.all(
      phones.map((p, i) =>
        sendBurst({
          ns: p.ns,
          dst: BURST_DESTINATION,
          port: opts.firstPort + i,
          rate: share,
          count,
          payloadBytes: opts.payloadBytes,
        }),
      ),
    );
    await new Promise((r) => setTimeout(r, 300));
    const cpu = cpuSeconds() - cpu0;
    const drops1 = await Promise.all(phones.map((p) => labDrops(p.ns, p.phoneIf, p.hostIf)));
    const stats: CaptureStats[] = [];
    for (const [i, s] of sessions.entries()) {
      stats.push(await s.stop());
      stopped.add(i);
    }
    return {
      rate: opts.rate,
      seconds: Math.max(...sent.map((s) => s.seconds)),
      cpuSeconds: cpu,
      phones: phones.map((_, i) => ({
        sent: sent[i]!,
        found: countBurst(readFileSync(join(opts.dir, `phone${i}.pcap`)), opts.firstPort + i, sent[i]!.sent),
        stats: stats[i]!,
        labDropped: drops1[i]! - drops0[i]!,
      })),
    };
  } finally {
    for (const [i, s] of sessions.entries()) if (!stopped.has(i)) await s.stop().catch(() => undefined);
    for (let i = 0; i < phones.length; i++) rmSync(join(opts.dir, `phone${i}.pcap`), { force: true });
  }
}

async function main(argv: string[]): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('farm-capture: needs root (network namespaces, packet capture)\n');
    process.exitCode = 2;
    return;
  }
  const phoneCount = Number(option(argv, '--phones') ?? 4);
  const rates = (option(argv, '--rates') ?? '8000,16000,24000,32000,48000,64000,90000')
    .split(',')
    .map(Number);
  const payloadBytes = Number(option(argv, '--size') ?? 1400);
  const seconds = Number(option(argv, '--seconds') ?? 1);
  const trials = Number(option(argv, '--trials') ?? 3);
  const backend = option(argv, '--backend') ?? 'tcpdump';
  const started = new Date();
  const load = loadavg()[0]!;
  const rows: { rate: number; trials: FarmTrial[] }[] = [];
  await withBareLab('farm-capture', phoneCount, async (plan, dir) => {
    let port = 41000;
    for (const rate of rates) {
      const row = { rate, trials: [] as FarmTrial[] };
      rows.push(row);
      for (let t = 0; t < trials; t++) {
        port += phoneCount;
        const r = await trial({ plan, dir, rate, seconds, payloadBytes, firstPort: port, backend });
        row.trials.push(r);
        const f = trialFigures(r, payloadBytes);
        process.stderr.write(
          `${fmtRate(rate)} pkt/s: sent ${f.sent} (${fmtRate(f.pps)}/s, ${f.mbps.toFixed(0)} Mbit/s), recorded ${f.recorded}, ` +
            `reported drops ${f.reported}, lab drops ${f.labDropped}, CPU ${Math.round((100 * r.cpuSeconds) / r.seconds)} %\n`,
        );
      }
    }
  });
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ started, load, phoneCount, payloadBytes, rows }, null, 2)}\n`);
    return;
  }
  const head = [
    'aggregate target pkt/s',
    'sent pkt/s (min)',
    'Mbit/s on the wire (min)',
    'trials lossless',
    'recorded / sent (worst)',
    'reported drops (max)',
    'lab drops',
    'senders at rate',
    'capture CPU, % of a core (mean)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  let best: number | undefined;
  let stillKept = true;
  for (const row of rows) {
    const figs = row.trials.map((t) => trialFigures(t, payloadBytes));
    const kept = figs.every((f) => f.lossless && f.reachedRate);
    if (stillKept && kept) best = row.rate;
    stillKept &&= kept;
    const worst = figs.reduce((a, b) => (b.sent - b.recorded > a.sent - a.recorded ? b : a));
    const reported = figs.some((f) => f.reported === 'unknown')
      ? 'unknown'
      : String(Math.max(...figs.map((f) => (f.reported === 'unknown' ? 0 : f.reported))));
    lines.push(
      `| ${[
        fmtRate(row.rate),
        fmtRate(Math.min(...figs.map((f) => f.pps))),
        Math.min(...figs.map((f) => f.mbps)).toFixed(0),
        `${figs.filter((f) => f.lossless).length}/${figs.length}`,
        `${worst.recorded} / ${worst.sent}`,
        reported,
        String(figs.reduce((a, f) => a + f.labDropped, 0)),
        `${figs.filter((f) => f.reachedRate).length}/${figs.length}`,
        String(
          Math.round(
            (100 * row.trials.reduce((a, t) => a + t.cpuSeconds / t.seconds, 0)) / row.trials.length,
          ),
        ),
      ].join(' | ')} |`,
    );
  }
  process.stdout.write(
    `farm capture, ${started.toISOString()}: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ` +
      `${load.toFixed(2)}; capture ${backend}; ${phoneCount} phones, ${seconds} s bursts of ${payloadBytes}-byte UDP payloads ` +
      `(${payloadBytes + FRAME_OVERHEAD}-byte frames), ${trials} trials per rate\n\n${lines.join('\n')}\n\n` +
      `highest aggregate rate kept: ${best === undefined ? `below ${fmtRate(rates[0]!)}` : `${fmtRate(best)} packets/s (${((best * (payloadBytes + FRAME_OVERHEAD) * 8) / 1e6).toFixed(0)} Mbit/s)`}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  await main(process.argv.slice(2));
