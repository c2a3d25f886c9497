/**
 * The capture-rate benchmark: the highest packet rate each capture backend (tcpdump, cap) records
 * without losing a packet. Not a test: it measures and prints.
 *
 * It builds its own one-phone lab (bridge, phone namespace, simulated internet namespace; no adbd, no
 * traffic agent, so the phone sends nothing but the bursts), then for each rate and trial sends a
 * paced burst of small UDP packets from the phone's namespace to the simulated internet, each carrying
 * a sequence number, while one backend captures on the phone's bridge port. A rate is kept when every
 * sequence number is in the capture file in every trial (and the sender really reached the rate).
 * The lab is removed by name on exit, failure, SIGINT or SIGTERM.
 *
 * Each trial runs in its own Node process, so a backend that crashes costs a trial, not the cleanup.
 * Besides the two backends, tcpdump writing its own file is measured as a yardstick for what tcpdump
 * alone sustains: buffered ("tcpdump-file") and with the backend's -U --immediate-mode
 * ("tcpdump-file-immediate"), and the tcpdump backend with a bigger buffer or a smaller snap length.
 *
 * Usage (root): node dist/bench/capture-rate.js [--rates 5000,10000,...] [--seconds 1] [--trials 3]
 *   [--backends tcpdump,cap,...] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { phoneFilter } from '../harness/capture/bpf-filter.js';
import { CapCapture } from '../harness/capture/cap-capture.js';
import { parseTcpdumpStats, TcpdumpCapture } from '../harness/capture/tcpdump-capture.js';
import { CaptureError } from '../harness/errors.js';
import type { CaptureBackend, CaptureSession, CaptureStats, CaptureTarget } from '../harness/run/capture.js';
import {
  createLabCore,
  createPhoneNetwork,
  freeSubnetIndex,
  removeLab,
  run,
  withLabLock,
} from '../sim/net/lab.js';
import { internetAddressFor, type LabPlan, labIdFor, planLab } from '../sim/net/lab-plan.js';
import { readPcap } from '../sim/net/pcap-file.js';

/** First four payload bytes of every burst packet ("PHBR"). */
export const BURST_MAGIC = 0x50484252;
/** Payload bytes of a burst packet: magic, burst id (the destination port), sequence number, padding. */
export const BURST_PAYLOAD_BYTES = 16;

/**
 * The sender, run by python3 inside the phone's namespace: a connected UDP socket (the cheapest send
 * path Python has, ~3x Node's dgram), paced in 0.5 ms batches by the monotonic clock. A send refused
 * because an ICMP port-unreachable came back is retried with the same number, so the numbers sent
 * are exactly 0..sent-1. Prints one JSON line.
 */
const SENDER = `
import json, socket, struct, sys, time
dst, port, rate, count = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
size = int(sys.argv[5]) if len(sys.argv) > 5 else ${BURST_PAYLOAD_BYTES}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
s.connect((dst, port))
buf = bytearray(max(${BURST_PAYLOAD_BYTES}, size))
struct.pack_into('>II', buf, 0, ${BURST_MAGIC}, port)
pack = struct.Struct('>I').pack_into
send = s.send
clock = time.perf_counter
batch = max(1, int(rate / 2000))
i = 0
refused = 0
t0 = clock()
while i < count:
    due = min(count, int((clock() - t0) * rate) + 1)
    while i < due:
        pack(buf, 8, i)
        try:
            send(buf)
            i += 1
        except OSError:
            refused += 1
    wait = t0 + min(count, i + batch) / rate - clock()
    if wait > 0 and i < count:
        time.sleep(wait)
print(json.dumps({'sent': i, 'seconds': clock() - t0, 'refused': refused}))
`;

/** What the sender did. */
export interface BurstSent {
  /** Packets sent: sequence numbers 0..sent-1. */
  sent: number;
  /** Wall time of the burst, seconds. */
  seconds: number;
  /** Sends refused (an ICMP error came back) and retried. */
  refused: number;
}

/**
 * Sends `count` burst packets at `rate` packets/s from namespace `ns` to dst:port. Rejects if the
 * sender fails or outlives the deadline (it is then killed by its pid).
 */
export function sendBurst(opts: {
  ns: string;
  dst: string;
  port: number;
  rate: number;
  count: number;
  /** UDP payload bytes (default BURST_PAYLOAD_BYTES, the least). */
  payloadBytes?: number;
  deadlineMs?: number;
}): Promise<BurstSent> {
  const args = ['netns', 'exec', opts.ns, 'python3', '-c', SENDER, opts.dst, String(opts.port)];
  args.push(String(opts.rate), String(opts.count), String(opts.payloadBytes ?? BURST_PAYLOAD_BYTES));
  const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const ms = opts.deadlineMs ?? 30_000 + (opts.count / opts.rate) * 3000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`burst sender in ${opts.ns} still running after ${ms} ms`));
    }, ms);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`burst sender in ${opts.ns} exited ${code}: ${err.trim()}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as BurstSent);
      } catch (e) {
        reject(new Error(`burst sender printed no result: ${out.trim()} ${err.trim()}`, { cause: e }));
      }
    });
  });
}

/** The burst packets found in a capture file, against what was sent. */
export interface BurstCount {
  /** Burst packets in the file (duplicates counted). */
  packets: number;
  /** Distinct sequence numbers below `sent`. */
  distinct: number;
  /** Sequence numbers 0..sent-1 absent from the file. */
  missing: number;
  /** The first absent sequence number, if any. */
  firstMissing?: number;
}

/** Counts the burst packets to `port` in a classic pcap (Ethernet) by their payload sequence numbers. */
export function countBurst(pcap: Buffer, port: number, sent: number): BurstCount {
  const seen = new Uint8Array(sent);
  let packets = 0;
  let distinct = 0;
  for (const r of readPcap(pcap).records) {
    const seq = burstSequence(r.data, port);
    if (seq === undefined) continue;
    packets += 1;
    if (seq < sent && seen[seq] === 0) {
      seen[seq] = 1;
      distinct += 1;
    }
  }
  const firstMissing = distinct < sent ? seen.indexOf(0) : -1;
  return { packets, distinct, missing: sent - distinct, ...(firstMissing >= 0 ? { firstMissing } : {}) };
}

/** The sequence number of an Ethernet frame that is a burst packet to `port`, else undefined. */
function burstSequence(f: Buffer, port: number): number | undefined {
  if (f.length < 14 + 20 + 8 + 12 || f.readUInt16BE(12) !== 0x0800) return undefined;
  const ihl = (f[14]! & 0x0f) * 4;
  if (f[14 + 9] !== 17) return undefined;
  const udp = 14 + ihl;
  if (f.length < udp + 8 + 12 || f.readUInt16BE(udp + 2) !== port) return undefined;
  if (f.readUInt32BE(udp + 8) !== BURST_MAGIC || f.readUInt32BE(udp + 12) !== port) return undefined;
  return f.readUInt32BE(udp + 16);
}

/** Packets the lab dropped before the capture point (phone veth tx, bridge-port rx), summed. */
export async function labDrops(ns: string, phoneIf: string, hostIf: string): Promise<number> {
  const dropped = async (args: string[], dir: 'rx' | 'tx') => {
    const [link] = JSON.parse(await run('ip', ['-j', '-s', ...args])) as {
      stats64?: Record<'rx' | 'tx', { dropped: number }>;
    }[];
    return link?.stats64?.[dir].dropped ?? 0;
  };
  const [phoneTx, hostRx] = await Promise.all([
    dropped(['-n', ns, 'link', 'show', 'dev', phoneIf], 'tx'),
    dropped(['link', 'show', 'dev', hostIf], 'rx'),
  ]);
  return phoneTx + hostRx;
}

/** CPU seconds used so far by this process and its tcpdump children (read before they exit). */
export function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    for (const task of readdirSync(`/proc/${process.pid}/task`)) {
      const kids = readFileSync(`/proc/${process.pid}/task/${task}/children`, 'utf8').split(' ');
      for (const k of kids.filter(Boolean)) {
        const stat = readFileSync(`/proc/${k}/stat`, 'utf8');
        if (!stat.includes('(tcpdump)')) continue;
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        children += (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
      }
    }
  } catch {
    // No /proc children file: only this process is counted.
  }
  return (own.user + own.system) / 1e6 + children;
}

const CLOCK_TICKS = 100;

/** One trial: one backend, one rate. */
export interface Trial {
  backend: string;
  /** Target rate, packets/s. */
  rate: number;
  sent: BurstSent;
  found: BurstCount;
  stats: CaptureStats;
  /** Packets the lab dropped before the capture point during the burst. */
  labDropped: number;
  /** CPU seconds of the capture (this process, plus tcpdump) from start to just before stop. */
  cpuSeconds: number;
}

/** Where a burst comes from and is captured. */
export interface BurstPhone {
  /** The phone's network namespace. */
  ns: string;
  /** Its interface inside the namespace. */
  phoneIf: string;
  /** The host end of its link: where the backends capture. */
  hostIf: string;
  /** Its IPv4 address (the capture filter). */
  ip: string;
}

/** The simulated-internet address every burst goes to (routed to the lab's internet namespace). */
export const BURST_DESTINATION = internetAddressFor('capture-burst.phonehome.test');

/**
 * Captures one burst with one backend into `file` and counts what it kept. Stops the capture whatever
 * happens; the caller owns the file.
 */
export async function captureBurst(opts: {
  backend: CaptureBackend;
  phone: BurstPhone;
  file: string;
  port: number;
  rate: number;
  count: number;
}): Promise<Trial> {
  const { phone, file } = opts;
  const session = await opts.backend.start({ file, target: { addrs: [phone.ip] } });
  let stats: CaptureStats | undefined;
  try {
    const drops0 = await labDrops(phone.ns, phone.phoneIf, phone.hostIf);
    const cpu0 = cpuSeconds();
    const sent = await sendBurst({
      ns: phone.ns,
      dst: BURST_DESTINATION,
      port: opts.port,
      rate: opts.rate,
      count: opts.count,
    });
    // Let the tail of the burst reach the backend before stop() reads its CPU figure.
    await new Promise((r) => setTimeout(r, 300));
    const cpu = cpuSeconds() - cpu0;
    const labDropped = (await labDrops(phone.ns, phone.phoneIf, phone.hostIf)) - drops0;
    stats = await session.stop();
    const found = countBurst(readFileSync(file), opts.port, sent.sent);
    return { backend: opts.backend.name, rate: opts.rate, sent, found, stats, labDropped, cpuSeconds: cpu };
  } finally {
    if (!stats) await session.stop().catch(() => undefined);
  }
}

/** A lab of `phones` phones (default one) with nothing running in it, removed by name in dispose(). */
export async function startBareLab(
  seed: string,
  phones = 1,
): Promise<{ plan: LabPlan; dispose(): Promise<void> }> {
  const namespaces: string[] = [];
  const links: string[] = [];
  const rec = { namespace: (n: string) => namespaces.push(n), link: (n: string) => links.push(n) };
  const dispose = async () => {
    // A veth's host end goes with its namespace, sometimes between removeLab's look and its delete.
    const problems = (await removeLab(namespaces, links)).filter((p) => !/Cannot find device/.test(p));
    if (problems.length) process.stderr.write(`lab removal: ${problems.join('; ')}\n`);
  };
  try {
    const plan = await withLabLock(async () => {
      const p = planLab(labIdFor(seed), await freeSubnetIndex(60 + (process.pid % 60)), phones);
      await createLabCore(p, rec);
      return p;
    });
    for (const phone of plan.phones) await createPhoneNetwork(plan, phone, rec);
    return { plan, dispose };
  } catch (e) {
    await dispose();
    throw e;
  }
}

/**
 * Runs `work` in a fresh bare lab of `phones` phones with a scratch folder; the lab and the folder are
 * removed afterwards, on failure, and on SIGINT or SIGTERM (then the signal is raised again).
 */
export async function withBareLab<T>(
  name: string,
  phones: number,
  work: (plan: LabPlan, dir: string) => Promise<T>,
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `phonehome-${name}-`));
  const lab = await startBareLab(`${name}-${process.pid}-${Date.now()}`, phones);
  process.stderr.write(
    `lab ${lab.plan.id}: ${phones} phone${phones === 1 ? '' : 's'} on ${lab.plan.hostCidr} (removed at the end)\n`,
  );
  let disposed = false;
  const cleanUp = async () => {
    if (disposed) return;
    disposed = true;
    await lab.dispose();
    rmSync(dir, { recursive: true, force: true });
  };
  const onSignal = (sig: NodeJS.Signals) => {
    void cleanUp().finally(() => process.kill(process.pid, sig));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(lab.plan, dir);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanUp();
  }
}

/** A trial whose process died (e.g. a native crash in the backend) before it reported. */
export interface CrashedTrial {
  backend: string;
  rate: number;
  /** How the trial's process ended, and the last line it wrote to stderr. */
  crashed: string;
}

type Outcome = Trial | CrashedTrial;

function isCrash(o: Outcome): o is CrashedTrial {
  return 'crashed' in o;
}

/** What a trial process is told to do (passed as JSON on its command line). */
interface TrialSpec {
  backend: string;
  phone: BurstPhone;
  file: string;
  port: number;
  rate: number;
  count: number;
}

/**
 * A yardstick, not a phonehome backend: tcpdump writing the file itself (nothing through Node),
 * buffered or with the backend's -U --immediate-mode. It shows how much of the tcpdump backend's limit
 * is tcpdump's own, how much immediate mode costs and how much the live pipe into phonehome costs.
 */
class TcpdumpToFile implements CaptureBackend {
  readonly name: string;
  constructor(
    readonly iface: string,
    /** With -U --immediate-mode, as the backend runs it, but still writing the file itself. */
    readonly immediate: boolean,
  ) {
    this.name = immediate ? 'tcpdump-file-immediate' : 'tcpdump-file';
  }

  async start(opts: { file: string; target: CaptureTarget }): Promise<CaptureSession> {
    const filter = phoneFilter(this.name, opts.target);
    const args = ['-i', this.iface, '-n', '-s', '0', ...(this.immediate ? ['-U', '--immediate-mode'] : [])];
    const child = spawn('tcpdump', [...args, '-w', opts.file, filter], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const deadline = Date.now() + 10_000;
    while (!stderr.includes('listening on')) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new CaptureError(this.name, `tcpdump did not start: ${stderr.trim()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return {
      file: opts.file,
      onBytes() {
        throw new CaptureError('tcpdump-file', 'no live bytes: tcpdump writes the file itself');
      },
      async stop(): Promise<CaptureStats> {
        // Buffered, libpcap hands over a ring block when it is full or after its 1 s timeout; packets
        // of a block not yet handed over when SIGINT comes are lost without being counted as drops.
        await new Promise((r) => setTimeout(r, 1500));
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
        const st = parseTcpdumpStats(stderr);
        return {
          packets: st.captured ?? 0,
          dropped: st.dropped ?? 'unknown',
          bytes: statSync(opts.file).size,
          notes: [],
        };
      },
    };
  }
}

/** What a run measures by default: the two backends, then the yardsticks and the tcpdump variants. */
const BACKENDS = [
  'tcpdump',
  'cap',
  'tcpdump-file',
  'tcpdump-file-immediate',
  'tcpdump-B64M',
  'tcpdump-snap1500',
];

/**
 * The backend (or yardstick) a trial measures. Two variants of the tcpdump backend try fixes for its
 * ring: tcpdump -s 0 --immediate-mode gets frames sized for 256 KiB packets, so its default 2 MiB
 * buffer holds about eight packets. "tcpdump-B64M" runs it with a 64 MiB buffer (through a wrapper
 * script in `dir`), "tcpdump-snap1500" with a 1500-byte snap length.
 */
export function backendFor(name: string, iface: string, dir: string): CaptureBackend {
  switch (name) {
    case 'cap':
      return new CapCapture({ interface: iface });
    case 'tcpdump-file':
      return new TcpdumpToFile(iface, false);
    case 'tcpdump-file-immediate':
      return new TcpdumpToFile(iface, true);
    case 'tcpdump-snap1500':
      return new TcpdumpCapture({ interface: iface, snaplen: 1500 });
    case 'tcpdump-B64M': {
      const bin = join(dir, 'tcpdump-B64M');
      writeFileSync(bin, '#!/bin/sh\nexec tcpdump -B 65536 "$@"\n', { mode: 0o755 });
      return new TcpdumpCapture({ interface: iface, bin });
    }
    case 'tcpdump':
      return new TcpdumpCapture({ interface: iface });
    default:
      throw new Error(`unknown backend ${name}`);
  }
}

/**
 * Runs one trial in its own Node process, so that a backend that takes its process down (cap has
 * aborted with heap corruption under load) costs one trial, not the lab's cleanup. Killed by its pid
 * after the deadline.
 */
function runTrialProcess(spec: TrialSpec): Promise<Outcome> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, self, '--trial', JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const ms = 60_000 + (spec.count / spec.rate) * 5000;
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        try {
          resolve(JSON.parse(out) as Trial);
          return;
        } catch {}
      }
      const last =
        err
          .trim()
          .split('\n')
          .filter((l) => !l.startsWith('Warning:'))
          .pop() ?? '';
      const how = signal ? `killed by ${signal}` : `exited ${code}`;
      resolve({ backend: spec.backend, rate: spec.rate, crashed: `${how}${last ? `: ${last}` : ''}` });
    });
  });
}

/** The figures of one backend at one rate, over its trials. */
interface Row {
  backend: string;
  rate: number;
  trials: Outcome[];
  /** No trial crashed, every one recorded every packet sent, and the sender reached 95 % of the rate. */
  lossless: boolean;
}

function summarize(outcomes: Outcome[]): Row[] {
  const rows = new Map<string, Row>();
  for (const t of outcomes) {
    const key = `${t.backend} ${t.rate}`;
    const row = rows.get(key) ?? { backend: t.backend, rate: t.rate, trials: [], lossless: true };
    row.trials.push(t);
    row.lossless &&= !isCrash(t) && t.found.missing === 0 && t.sent.sent / t.sent.seconds >= 0.95 * t.rate;
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** A rate for people: 5000 → "5k". */
export function fmtRate(n: number): string {
  return n >= 1000 ? `${Math.round(n / 100) / 10}k` : String(Math.round(n));
}

/** The results as a markdown table, one row per backend and rate. */
export function markdownTable(rows: Row[]): string {
  const head = [
    'backend',
    'target pkt/s',
    'sent pkt/s (min)',
    'trials lossless',
    'recorded / sent (worst)',
    'reported drops (max)',
    'lab drops',
    'CPU, % of a core (mean)',
  ];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => ' --- ').join('|')}|`];
  for (const r of rows) {
    const done = r.trials.filter((t): t is Trial => !isCrash(t));
    const crashes = r.trials.length - done.length;
    const lossless = done.filter((t) => t.found.missing === 0).length;
    const verdict = `${lossless}/${r.trials.length}${crashes ? ` (${crashes} crashed)` : ''}`;
    if (done.length === 0) {
      lines.push(`| ${[r.backend, fmtRate(r.rate), '–', verdict, '–', '–', '–', '–'].join(' | ')} |`);
      continue;
    }
    const worst = done.reduce((a, b) => (b.found.missing > a.found.missing ? b : a));
    const drops = done.map((t) => t.stats.dropped);
    const reported = drops.includes('unknown')
      ? 'unknown'
      : String(Math.max(...drops.map((d) => (d === 'unknown' ? 0 : d))));
    const cpu = done.reduce((a, t) => a + t.cpuSeconds / t.sent.seconds, 0) / done.length;
    const cells = [
      r.backend,
      fmtRate(r.rate),
      fmtRate(Math.min(...done.map((t) => t.sent.sent / t.sent.seconds))),
      verdict,
      `${worst.found.distinct} / ${worst.sent.sent}`,
      reported,
      String(done.reduce((a, t) => a + t.labDropped, 0)),
      String(Math.round(cpu * 100)),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The highest rate a backend kept in every trial, below the first rate it lost packets at. */
export function highestLossless(rows: Row[], backend: string): number | undefined {
  let best: number | undefined;
  for (const r of rows.filter((x) => x.backend === backend).sort((a, b) => a.rate - b.rate)) {
    if (!r.lossless) break;
    best = r.rate;
  }
  return best;
}

/** The value after a command-line option, or undefined. */
export function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

/** The trial process: one capture of one burst, its Trial as JSON on stdout. */
async function trialMain(spec: TrialSpec): Promise<void> {
  const backend = backendFor(spec.backend, spec.phone.hostIf, dirname(spec.file));
  const trial = await captureBurst({ ...spec, backend });
  // The variants share the backend's own name: report the one asked for.
  process.stdout.write(`${JSON.stringify({ ...trial, backend: spec.backend })}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stderr.write('capture-rate: needs root (network namespaces, packet capture)\n');
    process.exitCode = 2;
    return;
  }
  const rates = (option(argv, '--rates') ?? '5000,10000,20000,30000,50000,75000,100000,150000,200000')
    .split(',')
    .map(Number);
  const seconds = Number(option(argv, '--seconds') ?? 1);
  const trials = Number(option(argv, '--trials') ?? 3);
  const names = (option(argv, '--backends') ?? BACKENDS.join(',')).split(',');
  const started = new Date();
  const load = loadavg()[0]!;
  const all: Outcome[] = [];
  await withBareLab('capture-rate', 1, async (plan, dir) => {
    const phone = plan.phones[0]!;
    let port = 40000;
    for (const rate of rates) {
      for (let t = 0; t < trials; t++) {
        // Backends take turns at each rate, so a busy spell on the machine hits both alike.
        for (const backend of names) {
          port += 1;
          const count = Math.round(rate * seconds);
          const file = join(dir, `${backend}-${port}.pcap`);
          const outcome = await runTrialProcess({ backend, phone, file, port, rate, count }).finally(() =>
            rmSync(file, { force: true }),
          );
          all.push(outcome);
          process.stderr.write(
            isCrash(outcome)
              ? `${backend} ${fmtRate(rate)}/s: trial process ${outcome.crashed}\n`
              : `${backend} ${fmtRate(rate)}/s: sent ${outcome.sent.sent} at ` +
                  `${fmtRate(outcome.sent.sent / outcome.sent.seconds)}/s, recorded ${outcome.found.distinct}, ` +
                  `reported drops ${outcome.stats.dropped}, lab drops ${outcome.labDropped}\n`,
          );
        }
      }
    }
  });
  const rows = summarize(all);
  if (argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ started, load, rows }, null, 2)}\n`);
    return;
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  process.stdout.write(
    `capture rate, ${started.toISOString()}: ${cpus().length} × ${cpu}, load average ${load.toFixed(2)}; ` +
      `${seconds} s bursts of ${BURST_PAYLOAD_BYTES}-byte UDP payloads, ${trials} trials per rate\n\n` +
      `${markdownTable(rows)}\n\n`,
  );
  for (const name of names) {
    const best = highestLossless(rows, name);
    process.stdout.write(
      `${name}: highest lossless rate ${best === undefined ? `below ${fmtRate(rates[0]!)}` : `${fmtRate(best)} packets/s`}\n`,
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--trial');
  if (i >= 0) await trialMain(JSON.parse(process.argv[i + 1] ?? '') as TrialSpec);
  else await main(process.argv.slice(2));
}
