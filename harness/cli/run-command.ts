/**
 * `phonehome run`: the chosen phones through the chosen scenarios, results for Allure.
 * `phonehome demo`: the same on simulated phones (one of them misbehaving), then the report.
 */
import { execFile } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import type { SuitePhone, SuiteSummary } from '../run/suite.js';
import type { SimState } from '../sim/sim-state.js';

const exec = promisify(execFile);
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Options of `phonehome run`. */
export interface RunCommandOptions {
  scenario?: string[];
  device?: string[];
  profile?: string[];
  all?: boolean;
  sim?: string[];
  speed: string;
  retries: string;
  grep?: string;
  bail?: boolean;
  out: string;
  capture?: string;
  interface?: string;
  adbHost: string;
  adbPort: string;
  devicesDir: string;
  report?: boolean;
}

/** A simulated lab brought up for a run: profiles that share one set of misbehaviours. */
interface SimLab {
  dir: string;
  state: SimState;
}

/** "xiaomi-redmi-note-13+unknown-host+leak-ids" → profile and misbehaviours. */
export function parseSimSpec(spec: string): { profile: string; misbehave: string[] } {
  const [profile, ...misbehave] = spec.split('+');
  if (!profile || !/^[a-z0-9][a-z0-9-]*$/.test(profile))
    throw new UsageError(`--sim: not a simulated profile: ${spec}`);
  for (const m of misbehave)
    if (!/^[a-z0-9-]+$/.test(m)) throw new UsageError(`--sim: not a misbehaviour: ${m}`);
  return { profile, misbehave };
}

async function simUp(
  profiles: string[],
  misbehave: string[],
  speed: number,
  adbPort: number,
): Promise<SimLab> {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-sim-'));
  const args = [
    MAIN,
    'sim',
    'up',
    '--profile',
    ...profiles,
    '--speed',
    String(speed),
    '--adb-port',
    String(adbPort),
  ];
  args.push('--state-dir', dir, '--json', ...(misbehave.length ? ['--misbehave', misbehave.join(',')] : []));
  try {
    const { stdout } = await exec(process.execPath, args, { timeout: 180_000, maxBuffer: 16 << 20 });
    return { dir, state: JSON.parse(stdout) as SimState };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    await exec(process.execPath, [MAIN, 'sim', 'down', '--state-dir', dir], { timeout: 60_000 }).catch(
      () => {},
    );
    await rm(dir, { recursive: true, force: true });
    throw new UsageError(
      `simulated phones did not come up: ${(e.stderr ?? e.message).trim().split('\n').pop()}`,
    );
  }
}

async function simDown(lab: SimLab): Promise<void> {
  await exec(process.execPath, [MAIN, 'sim', 'down', '--state-dir', lab.dir], { timeout: 120_000 }).catch(
    () => {},
  );
  await rm(lab.dir, { recursive: true, force: true });
}

function positiveInt(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name}: not a whole number ≥ ${min}: ${v}`);
  return n;
}

/** Runs the suite as the options say; returns the summary and the exit code. */
export async function runCommand(
  o: RunCommandOptions,
  signal: AbortSignal,
): Promise<{ summary: SuiteSummary; exit: number }> {
  const { SCENARIOS, scenarioNamed } = await import('../../scenarios/index.js');
  const { ensureAdbServer } = await import('../device/adb-server.js');
  const { discoverDevices } = await import('../device/discovery.js');
  const { loadProfiles, matchProfile } = await import('../device/profiles.js');
  const { readFacts } = await import('../device/facts.js');
  const { runSuite, suiteExitCode } = await import('../run/suite.js');
  const { terminalSafe } = await import('./terminal-text.js');
  const { writeLaunchFiles, gatherLaunchEnvironment } = await import('../report/allure-results.js');
  const { executorFromEnv } = await import('../report/launch-info.js');

  const scenarios = (
    o.scenario?.length ? o.scenario.flatMap((s) => s.split(',')) : SCENARIOS.map((s) => s.name)
  ).map((n) => {
    const s = scenarioNamed(n);
    if (!s) throw new UsageError(`no scenario "${n}" (known: ${SCENARIOS.map((x) => x.name).join(', ')})`);
    return s;
  });
  const speed = positiveInt('--speed', o.speed, 1);
  const adbPort = positiveInt('--adb-port', o.adbPort, 1);
  const capture = o.capture ?? 'tcpdump';
  if (!['tcpdump', 'cap', 'pcapdroid'].includes(capture))
    throw new UsageError(`--capture: tcpdump, cap or pcapdroid, not ${capture}`);
  const chosen = [o.all, o.device?.length, o.profile?.length, o.sim?.length].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('choose phones one way: --device, --profile, --all or --sim');
  if (chosen === 0)
    throw new UsageError('which phones? give --device SERIAL, --profile NAME, --all, or --sim PROFILE');

  const profiles = await loadProfiles(o.devicesDir);
  const labs: SimLab[] = [];
  try {
    let phones: SuitePhone[] = [];
    if (o.sim?.length) {
      if (process.getuid?.() !== 0) throw new UsageError('--sim needs root to create network namespaces');
      const groups = new Map<string, string[]>();
      for (const spec of o.sim.flatMap((s) => s.split(','))) {
        const { profile, misbehave } = parseSimSpec(spec);
        const key = misbehave.sort().join(',');
        groups.set(key, [...(groups.get(key) ?? []), profile]);
      }
      for (const [key, profs] of groups) {
        const lab = await simUp(profs, key ? key.split(',') : [], speed, adbPort);
        labs.push(lab);
        phones.push(
          ...lab.state.phones.map((p) => ({
            serial: p.adbSerial,
            captureInterface: p.captureInterface,
            speed,
          })),
        );
      }
    }
    const client = await ensureAdbServer({
      host: o.adbHost,
      port: adbPort,
      bin: process.env.PHONEHOME_ADB ?? 'adb',
    });
    if (!o.sim?.length) {
      const found = (await discoverDevices(client)).filter((d) => d.usable);
      let serials = found.map((d) => d.serial);
      if (o.device?.length) {
        const want = o.device.flatMap((d) => d.split(','));
        for (const w of want)
          if (!serials.includes(w)) throw new UsageError(`no usable phone ${w} (see phonehome devices)`);
        serials = want;
      } else if (o.profile?.length) {
        const want = new Set(o.profile.flatMap((p) => p.split(',')));
        const keep: string[] = [];
        for (const s of serials) {
          const f = await readFacts(client.device(s), { deadlineMs: 15_000 });
          const m = matchProfile(profiles, f.properties);
          if (m.profile && want.has(m.profile.name)) keep.push(s);
        }
        serials = keep;
      }
      if (serials.length === 0) throw new UsageError('no usable phone attached (see phonehome devices)');
      phones = serials.map((serial) => ({
        serial,
        speed: 1,
        ...(o.interface ? { captureInterface: o.interface } : {}),
      }));
    }

    const runId = new Date().toISOString().replace(/[:.]/g, '-');
    const summary = await runSuite({
      client,
      phones,
      profiles,
      scenarios,
      capture: {
        backend: capture as 'tcpdump' | 'cap' | 'pcapdroid',
        ...(o.interface ? { interface: o.interface } : {}),
      },
      outDir: o.out,
      runId,
      retries: positiveInt('--retries', o.retries),
      ...(o.grep ? { grep: o.grep } : {}),
      ...(o.bail ? { bail: true } : {}),
      signal,
      onProgress: (serial, line) => {
        process.stderr.write(`[${terminalSafe(serial)}] ${terminalSafe(line)}\n`);
      },
    });
    const executor = executorFromEnv(process.env);
    await writeLaunchFiles(summary.resultsDir, {
      environment: await gatherLaunchEnvironment({}),
      ...(executor ? { executor } : {}),
    });
    return { summary, exit: suiteExitCode(summary) };
  } finally {
    for (const lab of labs) await simDown(lab);
  }
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--scenario <name...>', 'scenarios to run (default: all)')
    .option('--device <serial...>', 'phones by adb serial')
    .option('--profile <name...>', 'every attached phone matching these device profiles')
    .option('--all', 'every attached phone')
    .option('--sim <profile...>', 'simulated phones (PROFILE or PROFILE+misbehaviour+…); needs root')
    .option('--speed <n>', 'time compression for simulated phones', '60')
    .option('--retries <n>', 'run a broken scenario again up to N times', '0')
    .option('--grep <re>', 'only tests whose title matches (mocha --grep)')
    .option('--bail', 'stop after the first failure')
    .option('--out <dir>', 'output folder (runs/, allure-results/)', 'reports')
    .option('--capture <backend>', "tcpdump, cap or pcapdroid (default: the device profile's)")
    .option('--interface <if>', "the lab access point's interface to capture on")
    .option('--adb-host <host>', 'adb server host', '127.0.0.1')
    .option('--adb-port <port>', 'adb server port', process.env.ANDROID_ADB_SERVER_PORT ?? '5037')
    .option('--devices-dir <dir>', 'folder of device profiles', 'devices');
}

/** Ctrl-C and SIGTERM stop the runs cleanly (captures flushed, results written); a second Ctrl-C exits at once. */
function interruptible(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  // Every phone's operations listen on this one signal.
  setMaxListeners(1000, ac.signal);
  let count = 0;
  const on = () => {
    count += 1;
    if (count > 1) process.exit(130);
    process.stderr.write(
      'phonehome: stopping: captures are flushed and results written (Ctrl-C again to quit at once)\n',
    );
    ac.abort(new Error('interrupted'));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return {
    signal: ac.signal,
    done: () => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
    },
  };
}

export function register(program: Command): void {
  addRunOptions(
    program.command('run').description('run scenarios on phones, in parallel, with results for Allure'),
  ).action(async (o: RunCommandOptions) => {
    const { signal, done } = interruptible();
    try {
      const { summary, exit } = await runCommand(o, signal);
      process.stdout.write(
        `\n${summary.passed} passed, ${summary.failed} failed, ${summary.broken} broken, ${summary.skipped} skipped\nresults: ${summary.resultsDir}\n`,
      );
      process.exitCode = signal.aborted ? 130 : exit;
    } finally {
      done();
    }
  });

  program
    .command('demo')
    .description(
      'simulated Xiaomi (misbehaving) and Pixel phones through the built-in scenarios, then the Allure report',
    )
    .option('--out <dir>', 'output folder', 'reports/demo')
    .option('--speed <n>', 'time compression', '60')
    .option('--adb-port <port>', 'adb server port for the simulated phones', '5137')
    .action(async (d: { out: string; speed: string; adbPort: string }) => {
      if (process.getuid?.() !== 0) {
        throw new UsageError(
          'the demo needs root: simulated phones live in their own network namespaces (run it with sudo)',
        );
      }
      const { signal, done } = interruptible();
      try {
        await rm(join(d.out, 'allure-results'), { recursive: true, force: true });
        const { summary } = await runCommand(
          {
            sim: ['xiaomi-redmi-note-13+unknown-host+leak-ids', 'pixel-7'],
            speed: d.speed,
            retries: '0',
            out: d.out,
            adbHost: '127.0.0.1',
            adbPort: d.adbPort,
            devicesDir: 'devices',
          },
          signal,
        );
        const { generateReport } = await import('../report/allure-generate.js');
        const report = await generateReport({
          resultsDir: summary.resultsDir,
          outDir: join(d.out, 'allure-report'),
        });
        const { killAdbServer } = await import('../device/adb-server.js');
        await killAdbServer({
          host: '127.0.0.1',
          port: Number(d.adbPort),
          bin: process.env.PHONEHOME_ADB ?? 'adb',
        });
        process.stdout.write(
          `\n${summary.passed} passed, ${summary.failed} failed, ${summary.broken} broken, ${summary.skipped} skipped on simulated phones\n` +
            `Allure report: ${report.indexHtml}\n`,
        );
      } finally {
        done();
      }
    });
}
