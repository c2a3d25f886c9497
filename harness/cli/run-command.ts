/**
 * `phonehome run`: the chosen phones through the chosen scenarios, results for Allure.
 * `phonehome demo`: the same on simulated phones (one of them misbehaving), then the report.
 * Settings come from the command line, then phonehome.config (--config FILE, or
 * ./phonehome.config.{js,mjs,json,ts}), then defaults. On a terminal (outside CI) each phone has one
 * live line redrawn in place; elsewhere progress is plain lines.
 */
import { setMaxListeners } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { ConfigError, UsageError } from '../errors.js';
import { parseSimSpec, type SimLab, simDown, simGroups, simLabsUp, simUp } from '../lab/sim-lab.js';
import { bundledDevicesDir } from '../project-dir.js';
import type { ScenarioStep } from '../run/scenario.js';
import type { LiveStats, SuiteEvent, SuiteOptions, SuitePhone, SuiteSummary } from '../run/suite.js';
import type { Command } from './commander.js';
import { terminalSafe, terminalSafeClipped } from './terminal-text.js';

/** Exit status of `phonehome run` when Ctrl-C or SIGTERM stopped it. */
export const EXIT_INTERRUPTED = 130;

/** Options of `phonehome run` as commander gives them; unset ones come from the config, then defaults. */
export interface RunCommandOptions {
  config?: string;
  /** Ignore phonehome.config files (the demo runs the same everywhere). */
  noConfig?: boolean;
  scenario?: string[];
  device?: string[];
  profile?: string[];
  all?: boolean;
  sim?: string[];
  speed: string;
  retries: string;
  grep?: string;
  bail?: boolean;
  out?: string;
  capture?: string;
  interface?: string;
  adbHost?: string;
  adbPort?: string;
  devicesDir?: string;
  parallelism?: string;
  report?: boolean;
  /** Plain progress lines even on a terminal (default: live lines on a terminal outside CI). */
  plain?: boolean;
}

function positiveInt(name: string, v: string, min = 0): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name}: not a whole number ≥ ${min}: ${v}`);
  return n;
}

const BACKENDS = ['tcpdump', 'cap', 'pcapdroid'] as const;

/** What one phone is doing, for its live line. */
export interface PhoneProgress {
  /** "Google Pixel 7 (127.0.0.1:5601)". Untrusted: the phone says what it is. */
  phone: string;
  scenario: string;
  /** The scenario's steps as the phone runs them. */
  steps: ScenarioStep[];
  /** Index of the step running, -1 before the first (preparation, capture start, canary). */
  step: number;
  /** When the scenario began, ms since the epoch. */
  startedAt: number;
  /** When the current step began. */
  stepStartedAt: number;
  /** The capture's figures so far. */
  stats?: LiveStats;
  /** A retry, the end canary, the verdict: the last thing said after the steps. */
  note?: string;
}

/** The waiting left in a scenario, ms: the waits not begun, and what is left of the one running. */
export function remainingWaitMs(
  p: Pick<PhoneProgress, 'steps' | 'step' | 'stepStartedAt'>,
  now: number,
): number {
  let left = 0;
  p.steps.forEach((st, i) => {
    if (st.kind !== 'wait') return;
    if (i > p.step) left += st.ms;
    else if (i === p.step) left += Math.max(0, st.ms - (now - p.stepStartedAt));
  });
  return left;
}

/** 75000 → "1:15"; an hour or more → "1:02:03". */
export function clock(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * One phone's live line: phone, scenario, step, elapsed and remaining time, connections and
 * violations so far; terminal-safe and at most `width` characters.
 */
export function formatProgressLine(p: PhoneProgress, now: number, width: number): string {
  const step =
    p.step < 0
      ? (p.note ?? 'preparing')
      : p.step >= p.steps.length
        ? (p.note ?? 'finishing')
        : `step ${p.step + 1}/${p.steps.length} ${p.steps[p.step]!.name}`;
  const parts = [
    p.phone,
    p.scenario,
    step,
    `${clock(now - p.startedAt)} elapsed, ~${clock(remainingWaitMs(p, now))} left`,
  ];
  if (p.stats) {
    parts.push(plural(p.stats.connections, 'connection'));
    parts.push(plural(p.stats.violations, 'violation'));
  }
  return terminalSafeClipped(parts.join(' · '), Math.max(20, width));
}

/** The line kept on screen when a scenario ends. */
export function formatEndLine(e: Extract<SuiteEvent, { type: 'end' }>): string {
  const mark = { passed: '✔', failed: '✘', broken: '!', skipped: '-' }[e.outcome];
  return `${mark} ${terminalSafe(e.phone)} › ${terminalSafe(e.scenario)}: ${e.outcome}: ${terminalSafe(e.reason)}`;
}

/** Follows the suite's events into per-phone progress (shared by the live and plain displays). */
export function applyEvent(phones: Map<string, PhoneProgress>, e: SuiteEvent, now: number): void {
  if (e.type === 'start') {
    phones.set(e.serial, {
      phone: e.phone,
      scenario: e.scenario,
      steps: e.steps,
      step: -1,
      startedAt: now,
      stepStartedAt: now,
    });
    return;
  }
  const p = phones.get(e.serial);
  if (!p || p.scenario !== e.scenario) return;
  if (e.type === 'end') {
    phones.delete(e.serial);
  } else if (e.type === 'live') {
    p.stats = e.stats;
  } else if (e.line.startsWith('step ')) {
    const name = e.line.slice(5);
    const i = p.steps.findIndex((st, k) => k > p.step && st.name === name);
    if (i >= 0) {
      p.step = i;
      p.stepStartedAt = now;
      delete p.note;
    }
  } else if (e.line.startsWith('canary end-')) {
    p.step = p.steps.length;
    p.note = 'end canary, then the verdict';
  } else if (e.line.startsWith('retry ')) {
    p.step = -1;
    p.startedAt = now;
    delete p.stats;
    p.note = e.line.split(' after:')[0];
  }
}

/** Where the suite's progress goes on the terminal. */
interface Display {
  event(e: SuiteEvent): void;
  /** A line that stays (above the live lines, when there are any). */
  print(line: string): void;
  close(): void;
}

/** Plain lines on stderr: for logs, pipes and CI. */
function plainDisplay(write: (s: string) => void): Display {
  return {
    event(e) {
      if (e.type === 'progress')
        write(`[${terminalSafe(e.serial)}] ${terminalSafe(e.scenario)}: ${terminalSafe(e.line)}\n`);
      else if (e.type === 'end' && e.outcome === 'skipped')
        write(
          `[${terminalSafe(e.serial)}] ${terminalSafe(e.scenario)}: skipped: ${terminalSafe(e.reason)}\n`,
        );
    },
    print: (line) => write(`${line}\n`),
    close() {},
  };
}

/** One line per phone, redrawn in place; finished scenarios scroll up above them. */
function liveDisplay(stream: NodeJS.WriteStream): Display {
  const phones = new Map<string, PhoneProgress>();
  let drawn = 0;
  const clear = () => {
    // Up to the first live line, then erase everything below.
    if (drawn > 0) stream.write(`\x1b[${drawn}F\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    const now = Date.now();
    const width = (stream.columns || 100) - 1;
    let out = '';
    for (const p of phones.values()) out += `${formatProgressLine(p, now, width)}\n`;
    clear();
    stream.write(out);
    drawn = phones.size;
  };
  const timer = setInterval(draw, 500);
  timer.unref();
  return {
    event(e) {
      applyEvent(phones, e, Date.now());
      if (e.type === 'end') {
        clear();
        stream.write(`${formatEndLine(e)}\n`);
      }
      draw();
    },
    print(line) {
      clear();
      stream.write(`${line}\n`);
      draw();
    },
    close() {
      clearInterval(timer);
      clear();
    },
  };
}

/** True when progress should be live lines: a terminal on both outputs, and not CI. */
export function wantsLiveDisplay(env: NodeJS.ProcessEnv, stdoutTty: boolean, stderrTty: boolean): boolean {
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false' && env.CI !== '0';
  return stdoutTty && stderrTty && !ci;
}

/** The settings of a run: the command line over the config over the defaults. */
export interface RunSettings {
  scenarios: string[];
  out: string;
  capture: (typeof BACKENDS)[number];
  interface?: string;
  snaplen?: number;
  adb: { host: string; port: number; bin: string };
  devicesDir: string;
  parallelism?: number;
  canaryDomain: string;
  /** Appium for UI steps, when the config names one. */
  appium?: NonNullable<LoadedConfig['appium']>;
}

/** Merges the command line, the config and the defaults; throws UsageError or ConfigError. */
export function resolveSettings(
  o: RunCommandOptions,
  config: LoadedConfig,
  configFile: string | undefined,
  known: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): RunSettings {
  let scenarios: string[];
  if (o.scenario?.length) {
    scenarios = o.scenario.flatMap((s) => s.split(',')).filter(Boolean);
    for (const n of scenarios)
      if (!known.includes(n)) throw new UsageError(`no scenario "${n}" (known: ${known.join(', ')})`);
  } else if (config.scenarios) {
    scenarios = config.scenarios;
    scenarios.forEach((n, i) => {
      if (!known.includes(n))
        throw new ConfigError(
          configFile ?? 'config',
          0,
          0,
          `scenarios[${i}]`,
          `no scenario "${n}" (known: ${known.join(', ')})`,
        );
    });
  } else {
    scenarios = [...known];
  }
  const capture = o.capture ?? config.capture?.backend ?? 'tcpdump';
  if (!(BACKENDS as readonly string[]).includes(capture))
    throw new UsageError(`--capture: tcpdump, cap or pcapdroid, not ${capture}`);
  const iface = o.interface ?? config.capture?.interface;
  const snaplen = config.capture?.snaplen;
  const parallelism =
    o.parallelism !== undefined ? positiveInt('--parallelism', o.parallelism, 1) : config.parallelism;
  return {
    scenarios,
    out: o.out ?? config.out ?? 'reports',
    capture: capture as RunSettings['capture'],
    ...(iface ? { interface: iface } : {}),
    ...(snaplen ? { snaplen } : {}),
    adb: {
      host: o.adbHost ?? config.adb?.host ?? '127.0.0.1',
      port:
        o.adbPort !== undefined
          ? positiveInt('--adb-port', o.adbPort, 1)
          : (config.adb?.port ??
            positiveInt('ANDROID_ADB_SERVER_PORT', env.ANDROID_ADB_SERVER_PORT ?? '5037', 1)),
      bin: config.adb?.bin ?? env.PHONEHOME_ADB ?? 'adb',
    },
    devicesDir: o.devicesDir ?? config.devicesDir ?? bundledDevicesDir(),
    ...(parallelism !== undefined ? { parallelism } : {}),
    canaryDomain: config.canaryDomain ?? 'canary.phonehome.test',
    ...(config.appium ? { appium: config.appium } : {}),
  };
}

/** Appium for the suite's phones: a UI per phone through one session pool, and a way to end it all. */
async function appiumFor(
  cfg: NonNullable<RunSettings['appium']>,
  adb: RunSettings['adb'],
  outDir: string,
  signal: AbortSignal,
): Promise<{ uiFor: NonNullable<SuiteOptions['uiFor']>; close(): Promise<void> }> {
  const { AppiumServer, remoteAppium } = await import('../appium/appium-server.js');
  const { PhoneSessions, uiautomator2Capabilities } = await import('../appium/session.js');
  const { AppiumUi } = await import('../appium/appium-ui.js');
  const server =
    'local' in cfg
      ? await AppiumServer.start({
          logFile: join(outDir, 'appium.log'),
          adb,
          signal,
          ...(cfg.local.port ? { port: cfg.local.port } : {}),
        })
      : undefined;
  const pool = new PhoneSessions(server ?? remoteAppium((cfg as { url: string }).url));
  return {
    async uiFor(phone, _facts, profile) {
      const spec = {
        serial: phone.serial,
        capabilities: uiautomator2Capabilities(phone.serial, {
          profile: profile.appium,
          profileFile: profile.file,
          adb,
        }),
      };
      // A session now, so that a phone Appium cannot drive skips its UI scenarios with the reason.
      await pool.get(spec, { deadlineMs: 180_000, signal });
      return AppiumUi.forPhone(pool, spec);
    },
    async close() {
      await pool.closeAll({ deadlineMs: 20_000 });
      await server?.stop({ deadlineMs: 20_000 });
    },
  };
}

/** What a finished run tells the person at the terminal: counts, skips with reasons, violations. */
export function summaryText(summary: SuiteSummary, skipped: Extract<SuiteEvent, { type: 'end' }>[]): string {
  const lines = [
    '',
    `${summary.passed} passed, ${summary.failed} failed, ${summary.broken} broken, ${summary.skipped} skipped`,
  ];
  for (const r of summary.results) {
    if (r.outcome === 'passed') continue;
    lines.push(
      `${r.outcome}: ${terminalSafe(r.serial)} › ${terminalSafe(r.scenario)}: ${terminalSafe(r.reason)}`,
    );
    // A name asked of the resolver and then contacted are two violations that read alike here: say it once.
    const seen = new Set<string>();
    for (const v of r.violations) {
      const line = `  ${terminalSafe(v.subject)} during ${terminalSafe(v.step)}: ${terminalSafe(v.ruleText)}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  }
  for (const e of skipped)
    lines.push(`skipped: ${terminalSafe(e.phone)} › ${terminalSafe(e.scenario)}: ${terminalSafe(e.reason)}`);
  lines.push(`results: ${summary.resultsDir}`);
  return `${lines.join('\n')}\n`;
}

/** Runs the suite as the options say; returns the summary and the exit code. */
export async function runCommand(
  o: RunCommandOptions,
  signal: AbortSignal,
): Promise<{ summary: SuiteSummary; exit: number; skipped: Extract<SuiteEvent, { type: 'end' }>[] }> {
  const { SCENARIOS, scenarioNamed } = await import('../../scenarios/index.js');
  const { loadConfig } = await import('../config/load-config.js');
  const { ensureAdbServer } = await import('../device/adb-server.js');
  const { discoverDevices } = await import('../device/discovery.js');
  const { loadProfiles, matchProfile } = await import('../device/profiles.js');
  const { readFacts } = await import('../device/facts.js');
  const { runSuite, suiteExitCode } = await import('../run/suite.js');
  const { writeLaunchFiles, gatherLaunchEnvironment } = await import('../report/allure-results.js');
  const { executorFromEnv } = await import('../report/launch-info.js');

  const { file: configFile, config } = o.noConfig
    ? { file: undefined, config: {} }
    : await loadConfig(o.config);
  const settings = resolveSettings(
    o,
    config,
    configFile,
    SCENARIOS.map((s) => s.name),
  );
  const scenarios = settings.scenarios.map((n) => scenarioNamed(n)!);
  const speed = positiveInt('--speed', o.speed, 1);
  const retries = positiveInt('--retries', o.retries);
  if (o.grep !== undefined) {
    try {
      new RegExp(o.grep);
    } catch (err) {
      throw new UsageError(`--grep: not a regular expression: ${(err as Error).message}`);
    }
  }
  const chosen = [o.all, o.device?.length, o.profile?.length, o.sim?.length].filter(Boolean).length;
  if (chosen > 1) throw new UsageError('choose phones one way: --device, --profile, --all or --sim');
  if (chosen === 0)
    throw new UsageError('which phones? give --device SERIAL, --profile NAME, --all, or --sim PROFILE');
  const simSpecs = (o.sim ?? []).flatMap((s) => s.split(',')).map(parseSimSpec);
  if (simSpecs.length && process.getuid?.() !== 0)
    throw new UsageError('--sim needs root to create network namespaces');

  const profiles = await loadProfiles(settings.devicesDir);
  const live =
    !o.plain && wantsLiveDisplay(process.env, process.stdout.isTTY === true, process.stderr.isTTY === true);
  const display = live ? liveDisplay(process.stderr) : plainDisplay((s) => process.stderr.write(s));
  const skipped: Extract<SuiteEvent, { type: 'end' }>[] = [];
  const labs: SimLab[] = [];
  let appium: Awaited<ReturnType<typeof appiumFor>> | undefined;
  try {
    let phones: SuitePhone[] = [];
    if (simSpecs.length) {
      for (const group of simGroups(simSpecs)) {
        if (signal.aborted) break;
        const lab = await simUp(group.profiles, group.misbehave, speed, settings.adb.port);
        labs.push(lab);
        display.print(
          `phonehome: simulated lab ${lab.state.labId} up (${plural(lab.state.phones.length, 'phone')}; namespaces ${lab.state.namespaces.join(' ')}; state dir ${lab.dir})`,
        );
        phones.push(
          ...lab.state.phones.map((p) => ({
            serial: p.adbSerial,
            captureInterface: p.captureInterface,
            speed,
          })),
        );
      }
    }
    const client = await ensureAdbServer(settings.adb);
    if (!simSpecs.length) {
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
          const f = await readFacts(client.device(s), { deadlineMs: 15_000, signal });
          const m = matchProfile(profiles, f.properties);
          if (m.profile && want.has(m.profile.name)) keep.push(s);
        }
        serials = keep;
      }
      if (serials.length === 0) throw new UsageError('no usable phone attached (see phonehome devices)');
      phones = serials.map((serial) => ({
        serial,
        speed: 1,
        ...(settings.interface ? { captureInterface: settings.interface } : {}),
      }));
    }

    if (settings.appium) {
      await mkdir(settings.out, { recursive: true });
      appium = await appiumFor(settings.appium, settings.adb, settings.out, signal);
    }
    const runId = new Date().toISOString().replace(/[:.]/g, '-');
    const summary = await runSuite({
      client,
      phones,
      profiles,
      scenarios,
      capture: {
        backend: settings.capture,
        ...(settings.interface ? { interface: settings.interface } : {}),
        ...(settings.snaplen ? { snaplen: settings.snaplen } : {}),
      },
      outDir: settings.out,
      runId,
      retries,
      ...(o.grep ? { grep: o.grep } : {}),
      ...(o.bail ? { bail: true } : {}),
      ...(settings.parallelism ? { parallelism: settings.parallelism } : {}),
      canaryDomain: settings.canaryDomain,
      ...(appium ? { uiFor: appium.uiFor } : {}),
      // The live lines say what the spec reporter would, and the two would garble each other.
      specReporter: !live,
      signal,
      onEvent: (e) => {
        if (e.type === 'end' && e.outcome === 'skipped') skipped.push(e);
        display.event(e);
      },
    });
    const executor = executorFromEnv(process.env);
    await writeLaunchFiles(summary.resultsDir, {
      environment: await gatherLaunchEnvironment({}),
      ...(executor ? { executor } : {}),
    });
    return { summary, exit: signal.aborted ? EXIT_INTERRUPTED : suiteExitCode(summary), skipped };
  } finally {
    display.close();
    await appium?.close().catch(() => {});
    for (const lab of labs) await simDown(lab);
  }
}

function addRunOptions(cmd: Command): Command {
  return cmd
    .option('--config <file>', 'settings file (default: ./phonehome.config.{js,mjs,json,ts} if present)')
    .option('--scenario <name...>', "scenarios to run (default: the config's, else all)")
    .option('--device <serial...>', 'phones by adb serial')
    .option('--profile <name...>', 'every attached phone matching these device profiles')
    .option('--all', 'every attached phone')
    .option('--sim <profile...>', 'simulated phones (PROFILE or PROFILE+misbehaviour+…); needs root')
    .option('--speed <n>', 'time compression for simulated phones', '60')
    .option('--retries <n>', 'run a broken scenario again up to N times', '0')
    .option('--grep <re>', 'only tests whose title ("PHONE scenario") matches (mocha --grep)')
    .option('--bail', 'stop after the first failure')
    .option('--parallelism <n>', 'at most N phones at once (default: all)')
    .option('--out <dir>', 'output folder (runs/, allure-results/) (default: reports)')
    .option('--capture <backend>', 'tcpdump, cap or pcapdroid (default: tcpdump)')
    .option('--interface <if>', "the lab access point's interface to capture on")
    .option('--adb-host <host>', 'adb server host (default: 127.0.0.1)')
    .option('--adb-port <port>', 'adb server port (default: $ANDROID_ADB_SERVER_PORT or 5037)')
    .option(
      '--devices-dir <dir>',
      "folder of device profiles (default: the config's, else phonehome's own devices/)",
    )
    .option('--plain', 'plain progress lines even on a terminal');
}

/** Ctrl-C and SIGTERM stop the runs cleanly (captures flushed, results written, simulated phones put away); a second Ctrl-C exits at once. */
function interruptible(): { signal: AbortSignal; done: () => void } {
  const ac = new AbortController();
  // Every phone's operations listen on this one signal.
  setMaxListeners(1000, ac.signal);
  let count = 0;
  const on = () => {
    count += 1;
    if (count > 1) {
      const left = [...simLabsUp].map((d) => `phonehome sim down --state-dir ${d}`);
      process.stderr.write(
        `phonehome: quitting at once${left.length ? `; simulated phones are still up: ${left.join('; ')}` : ''}\n`,
      );
      process.exit(EXIT_INTERRUPTED);
    }
    process.stderr.write(
      'phonehome: stopping: captures are flushed, results written and simulated phones put away (Ctrl-C again to quit at once)\n',
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
      const { summary, exit, skipped } = await runCommand(o, signal);
      process.stdout.write(summaryText(summary, skipped));
      process.exitCode = exit;
    } catch (err) {
      // Stopped before the suite could report (while the phones came up, say): still an interruption.
      if (!signal.aborted) throw err;
      process.stderr.write(`phonehome: interrupted (${err instanceof Error ? err.message : String(err)})\n`);
      process.exitCode = EXIT_INTERRUPTED;
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
        const { summary, skipped } = await runCommand(
          {
            sim: ['xiaomi-redmi-note-13+unknown-host+leak-ids', 'pixel-7'],
            speed: d.speed,
            retries: '0',
            out: d.out,
            adbHost: '127.0.0.1',
            adbPort: d.adbPort,
            devicesDir: 'devices',
            // The demo is the same everywhere, whatever the lab's config says.
            noConfig: true,
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
        process.stdout.write(summaryText(summary, skipped));
        process.stdout.write(`Allure report: ${report.indexHtml}\n`);
        if (signal.aborted) process.exitCode = EXIT_INTERRUPTED;
      } finally {
        done();
      }
    });
}
