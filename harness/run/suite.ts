/**
 * The suite runner: every chosen phone through every chosen scenario, phones in parallel and one
 * scenario at a time per phone, with mocha as the runner (describe per phone, it per scenario, so
 * mocha's grep, retries, bail and reporters work as lab engineers know them) and allure-mocha writing
 * the results.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Mocha from 'mocha';
import { CapCapture } from '../capture/cap-capture.js';
import { PcapdroidCapture } from '../capture/pcapdroid-capture.js';
import { TcpdumpCapture } from '../capture/tcpdump-capture.js';
import type { AdbClient, AdbDevice } from '../device/adb.js';
import { type DeviceFacts, readFacts } from '../device/facts.js';
import { allowlistFor, type DeviceProfile, matchProfile } from '../device/profiles.js';
import { UsageError } from '../errors.js';
import type { Flow } from '../flows/flow.js';
import { FlowTable } from '../flows/flow-table.js';
import { CaptureParser } from '../packets/capture-parser.js';
import { PacketDecoder } from '../packets/packet-decoder.js';
import { allureWithSkipReasons } from '../report/allure-mocha-reporter.js';
import { activeAllureRuntime, outcomeError, reportToAllureRuntime } from '../report/allure-runtime.js';
import { runIdentity } from '../report/run-report.js';
import type { Allowlist } from '../verdict/allowlist.js';
import { readAllowlist } from '../verdict/read-allowlist.js';
import { judge } from '../verdict/verdict.js';
import type { CaptureBackend, CaptureSession } from './capture.js';
import { type RunResult, runOne } from './run-one.js';
import { type Scenario, type ScenarioStep, scaled } from './scenario.js';
import type { Ui } from './ui.js';

/** A phone chosen for the suite. */
export interface SuitePhone {
  serial: string;
  /** Interface to capture on (a simulated phone's own lab interface; the lab AP for real phones). */
  captureInterface?: string;
  /** Time compression: simulated phones run compressed time. */
  speed: number;
}

/** How captures are made. */
export interface CaptureConfig {
  backend: 'tcpdump' | 'cap' | 'pcapdroid';
  /** Default interface for phones that bring none. */
  interface?: string;
  /** Bytes kept of each packet by tcpdump (0 or unset: whole packets). */
  snaplen?: number;
}

/** What the capture has shown so far of one run, for a person watching. */
export interface LiveStats {
  /** Connections (flows) seen, canaries left out. */
  connections: number;
  /** Distinct names (SNI, Host, DNS) seen, canaries left out. */
  names: number;
  /** Violations of the allowlist so far (grouped per subject and rule, as the verdict groups them). */
  violations: number;
  /** Bytes of capture read. */
  bytes: number;
}

/** What happens in a suite, for the terminal. Text from the phone is untrusted: print it through terminalSafe. */
export type SuiteEvent =
  /** A scenario begins on a phone; `steps` are as the phone runs them (waits scaled by the speed). */
  | { type: 'start'; serial: string; phone: string; scenario: string; steps: ScenarioStep[] }
  /** A line of the run's log (a step began, the capture started, a retry…). */
  | { type: 'progress'; serial: string; scenario: string; line: string }
  /** The capture's figures so far (about once a second while traffic comes in). */
  | { type: 'live'; serial: string; scenario: string; stats: LiveStats }
  /** A scenario ended on a phone: its outcome and reason, or why it was skipped. */
  | {
      type: 'end';
      serial: string;
      phone: string;
      scenario: string;
      outcome: RunResult['outcome'] | 'skipped';
      reason: string;
    };

/** Settings of one suite run. */
export interface SuiteOptions {
  client: AdbClient;
  phones: SuitePhone[];
  profiles: DeviceProfile[];
  scenarios: Scenario[];
  capture: CaptureConfig;
  /** reports/: runs go to OUT/runs, Allure results to OUT/allure-results. */
  outDir: string;
  runId: string;
  retries?: number;
  /** Only the tests whose full title ("PHONE TITLE scenario") matches run (mocha --grep). */
  grep?: string;
  bail?: boolean;
  signal?: AbortSignal;
  /** Canary domain (default canary.phonehome.test). */
  canaryDomain?: string;
  /** At most this many phones run at once (default: all). */
  parallelism?: number;
  /** mocha's spec reporter on stdout as well as allure-mocha (default true). */
  specReporter?: boolean;
  /** What happens, as it happens. */
  onEvent?: (event: SuiteEvent) => void;
  /** A UI for a phone (Appium), when the lab has one. */
  uiFor?: (phone: SuitePhone, facts: DeviceFacts, profile: DeviceProfile) => Promise<Ui | undefined>;
}

/** What a suite run did, by outcome. */
export interface SuiteSummary {
  passed: number;
  failed: number;
  broken: number;
  skipped: number;
  results: RunResult[];
  resultsDir: string;
}

/** Exit code: 0 all passed, 1 any failed, 3 any broken without failures. */
export function suiteExitCode(s: SuiteSummary): number {
  if (s.failed > 0) return 1;
  if (s.broken > 0) return 3;
  return 0;
}

/** Why a scenario cannot run on this phone, or undefined when it can. */
export function skipReason(
  scenario: Scenario,
  facts: DeviceFacts,
  profile: DeviceProfile,
  hasUi: boolean,
): string | undefined {
  for (const need of scenario.needs) {
    if (need === 'appium' && !hasUi) return 'needs Appium (UI automation), which this run does not have';
    if (need === 'root' && !facts.rooted) return 'needs a rooted phone';
    if (need === 'pcapdroid' && !facts.pcapdroidInstalled) return 'needs PCAPdroid installed on the phone';
  }
  for (const st of scenario.steps) {
    if (st.kind === 'action' && !profile.actions[st.action]) {
      return `the ${profile.name} profile has no action "${st.action}"`;
    }
  }
  return undefined;
}

function captureFor(
  cfg: CaptureConfig,
  phone: SuitePhone,
  device: AdbDevice,
  profile: DeviceProfile,
): CaptureBackend {
  const backend = cfg.backend;
  if (backend === 'pcapdroid') {
    const env = profile.capture.pcapdroidApiKeyEnv;
    const key = env ? process.env[env] : undefined;
    if (!key)
      throw new UsageError(
        `pcapdroid capture needs PCAPdroid's api_key in $${env ?? 'PHONEHOME_PCAPDROID_API_KEY'}`,
      );
    return new PcapdroidCapture(device, { apiKey: key });
  }
  const iface = phone.captureInterface ?? profile.capture.interface ?? cfg.interface;
  if (!iface)
    throw new UsageError(
      `no capture interface for ${phone.serial}: give --interface (the lab access point's)`,
    );
  return backend === 'cap'
    ? new CapCapture({ interface: iface })
    : new TcpdumpCapture({ interface: iface, ...(cfg.snaplen ? { snaplen: cfg.snaplen } : {}) });
}

/** Live figures are judged at most this often: judging is cheap, but not per chunk. */
const LIVE_EVERY_MS = 1_000;

/**
 * Reads a capture's bytes as they are written and keeps the flows so far: what a person watching
 * the run sees (connections, names, violations). Errors in the stream only stop the live figures.
 */
export class LiveTraffic {
  private readonly decoder = new PacketDecoder();
  private readonly table = new FlowTable();
  private readonly parser = new CaptureParser((frame) => {
    const p = this.decoder.decode(frame);
    if (p !== undefined) this.table.add(p);
  });
  private bytes = 0;
  private broken = false;

  constructor(
    private readonly allowlist: Allowlist,
    private readonly canaryDomain: string,
    private readonly deviceAddrs: readonly string[],
  ) {}

  /** Feeds the next bytes of the capture. */
  push(chunk: Uint8Array): void {
    if (this.broken) return;
    this.bytes += chunk.length;
    try {
      this.parser.push(chunk);
    } catch {
      this.broken = true;
    }
  }

  /** The figures so far. */
  stats(): LiveStats {
    const flows = this.table.flows(new Set(this.deviceAddrs)).filter((f) => !isUnder(f, this.canaryDomain));
    const names = new Set<string>();
    for (const f of flows) for (const n of f.names) names.add(n.name);
    // Drops are only counted when the capture stops: judge as the final verdict will when there are none.
    const verdict = judge(flows, this.allowlist, { captureComplete: true });
    return {
      connections: flows.length,
      names: names.size,
      violations: verdict.violations.length,
      bytes: this.bytes,
    };
  }
}

function isUnder(f: Flow, domain: string): boolean {
  return f.names.some((n) => n.name === domain || n.name.endsWith(`.${domain}`));
}

/**
 * The backend with live figures: the session it starts feeds its bytes to a LiveTraffic, and
 * `onLive` gets the figures about once a second while bytes come in, and once more at stop().
 */
export function withLiveStats(
  backend: CaptureBackend,
  allowlist: Allowlist,
  canaryDomain: string,
  onLive: (stats: LiveStats) => void,
): CaptureBackend {
  return {
    name: backend.name,
    async start(o): Promise<CaptureSession> {
      const session = await backend.start(o);
      const live = new LiveTraffic(allowlist, canaryDomain, o.target.addrs);
      let dirty = false;
      const report = () => {
        if (!dirty) return;
        dirty = false;
        try {
          onLive(live.stats());
        } catch {
          // The live figures are a courtesy: the run's verdict comes from the file.
        }
      };
      session.onBytes((chunk) => {
        live.push(chunk);
        dirty = true;
      });
      const timer = setInterval(report, LIVE_EVERY_MS);
      timer.unref();
      return {
        file: session.file,
        onBytes: (l) => session.onBytes(l),
        async stop(so) {
          try {
            return await session.stop(so);
          } finally {
            clearInterval(timer);
            report();
          }
        },
      };
    },
  };
}

/** At most `max` holders at once; the others wait in order. */
export function slots(max: number): { acquire(): Promise<void>; release(): void } {
  let active = 0;
  const waiting: (() => void)[] = [];
  return {
    acquire() {
      if (active < max) {
        active += 1;
        return Promise.resolve();
      }
      return new Promise<void>((r) => waiting.push(r));
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else active -= 1;
    },
  };
}

/** One phone's scenarios, run one after the other; each result is a promise the mocha test awaits. */
interface PhonePlan {
  phone: SuitePhone;
  title: string;
  /** The matched device profile's name, which keys the report's history. */
  profile?: string;
  facts: DeviceFacts;
  results: Map<string, Promise<RunResult | { skipped: string }>>;
}

/**
 * A skipped scenario's place in the report: the name, labels and history identity a run of it would
 * have had, so that it sits beside that phone's other scenarios and keeps its history.
 */
async function reportSkipToAllureRuntime(
  serial: string,
  scenario: string,
  facts: DeviceFacts,
  profile: string | undefined,
): Promise<void> {
  const runtime = await activeAllureRuntime();
  if (!runtime) return;
  const fullName = runIdentity({ result: { serial, scenario } as RunResult, facts }, profile);
  await runtime.sendMessage({
    type: 'metadata',
    data: {
      displayName: `${scenario} on ${facts.model || 'unknown model'} (${serial})`,
      testCaseId: fullName,
      historyId: createHash('md5').update(fullName).digest('hex'),
      labels: [
        { name: 'parentSuite', value: 'phonehome' },
        { name: 'suite', value: facts.model || 'unknown model' },
        { name: 'epic', value: facts.manufacturer || 'unknown maker' },
        { name: 'feature', value: scenario },
      ],
      parameters: [{ name: 'serial', value: serial, excluded: true }],
    },
  } as Parameters<typeof runtime.sendMessage>[0]);
}

/** Runs the suite. */
export async function runSuite(opts: SuiteOptions): Promise<SuiteSummary> {
  const runsDir = join(opts.outDir, 'runs');
  const resultsDir = resolve(opts.outDir, 'allure-results');
  await mkdir(resultsDir, { recursive: true });
  const summary: SuiteSummary = { passed: 0, failed: 0, broken: 0, skipped: 0, results: [], resultsDir };
  const canaryDomain = opts.canaryDomain ?? 'canary.phonehome.test';
  const grep = opts.grep ? new RegExp(opts.grep) : undefined;
  // Runs still going when mocha ends early (--bail) are stopped, as Ctrl-C stops them.
  const stopRest = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopRest.signal]) : stopRest.signal;
  const phoneSlots = slots(opts.parallelism ?? Math.max(1, opts.phones.length));
  const emit = (e: SuiteEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // A display that throws must not break a run.
    }
  };

  // Facts and profiles first, so that every phone's describe block has its real title.
  const plans: PhonePlan[] = [];
  const chains: Promise<unknown>[] = [];
  for (const phone of opts.phones) {
    const device = opts.client.device(phone.serial);
    const facts = await readFacts(device, { deadlineMs: 20_000, signal });
    const m = matchProfile(opts.profiles, facts.properties);
    const title = `${facts.manufacturer} ${facts.model} (${phone.serial})`;
    const plan: PhonePlan = {
      phone,
      title,
      facts,
      results: new Map(),
      ...(m.profile ? { profile: m.profile.name } : {}),
    };
    const chosen = opts.scenarios.filter((s) => !grep || grep.test(`${title} ${s.name}`));
    if (chosen.length === 0) continue;
    plans.push(plan);
    const profile = m.profile;
    let chain: Promise<unknown> = phoneSlots.acquire();
    let ui: Ui | undefined;
    let uiTried = false;
    for (const scenario of chosen) {
      const run = scaled(scenario, phone.speed);
      const outcome = async (): Promise<RunResult | { skipped: string }> => {
        if (!profile) return { skipped: (m as { reason: string }).reason };
        const prof = profile;
        if (signal.aborted) return { skipped: 'interrupted before it started' };
        if (!uiTried && opts.uiFor) {
          uiTried = true;
          ui = await opts.uiFor(phone, facts, profile).catch((err) => {
            emit({
              type: 'progress',
              serial: phone.serial,
              scenario: scenario.name,
              line: `no UI automation: ${err instanceof Error ? err.message : String(err)}`,
            });
            return undefined;
          });
        }
        const allowlistFile = allowlistFor(profile, scenario.allowlist ?? scenario.name);
        let allowlist: ReturnType<typeof readAllowlist>;
        try {
          allowlist = readAllowlist(allowlistFile);
        } catch (err) {
          if ((err as { expected?: string }).expected?.startsWith('cannot read')) {
            return { skipped: `the ${profile.name} profile has no allowlist for ${scenario.name}` };
          }
          throw err;
        }
        const why = skipReason(scenario, facts, profile, ui !== undefined);
        if (why) return { skipped: why };
        emit({
          type: 'start',
          serial: phone.serial,
          phone: title,
          scenario: scenario.name,
          steps: run.steps,
        });
        const progress = (line: string) =>
          emit({ type: 'progress', serial: phone.serial, scenario: scenario.name, line });
        // Retries are for the lab's hiccups: a broken run is tried again, a policy failure is not.
        let last: RunResult | undefined;
        for (let attempt = 0; attempt <= (opts.retries ?? 0); attempt++) {
          if (attempt > 0) progress(`retry ${attempt} after: ${last?.reason}`);
          last = await runOne(
            {
              runId: opts.runId,
              outRoot: runsDir,
              device,
              capture: withLiveStats(
                captureFor(opts.capture, phone, device, prof),
                allowlist,
                canaryDomain,
                (stats) => emit({ type: 'live', serial: phone.serial, scenario: scenario.name, stats }),
              ),
              allowlist,
              profile: prof,
              canaryDomain,
              ...(ui ? { ui } : {}),
              signal,
              onProgress: progress,
            },
            run,
          );
          if (last.outcome !== 'broken' || signal.aborted) break;
        }
        return last!;
      };
      const p = chain.then(async () => {
        let r: RunResult | { skipped: string };
        try {
          r = await outcome();
        } catch (err) {
          emit({
            type: 'end',
            serial: phone.serial,
            phone: title,
            scenario: scenario.name,
            outcome: 'broken',
            reason: err instanceof Error ? err.message : String(err),
          });
          throw err;
        }
        emit({
          type: 'end',
          serial: phone.serial,
          phone: title,
          scenario: scenario.name,
          ...('skipped' in r
            ? { outcome: 'skipped', reason: r.skipped }
            : { outcome: r.outcome, reason: r.reason }),
        });
        return r;
      });
      // A scenario that throws (a bug or bad config) must not stop the phone's later scenarios.
      chain = p.catch(() => undefined);
      plan.results.set(scenario.name, p);
      p.catch(() => {});
    }
    chains.push(chain.finally(() => phoneSlots.release()));
  }
  if (plans.length === 0) {
    throw new UsageError(grep ? `no phone and scenario match --grep ${opts.grep}` : 'no scenario to run');
  }

  const skipReasons = new WeakMap<Mocha.Runnable, string>();
  const mocha = new Mocha({
    reporter: allureWithSkipReasons(skipReasons),
    reporterOptions: { resultsDir, ...(opts.specReporter === false ? {} : { extraReporters: 'spec' }) },
    timeout: 0,
    ...(opts.grep ? { grep: opts.grep } : {}),
    ...(opts.bail ? { bail: true } : {}),
  });
  for (const plan of plans) {
    const suite = Mocha.Suite.create(mocha.suite, plan.title);
    const profileName = plan.profile;
    for (const [name, pending] of plan.results) {
      const test = new Mocha.Test(name, async function (this: Mocha.Context) {
        const r = await pending;
        if ('skipped' in r) {
          summary.skipped += 1;
          await reportSkipToAllureRuntime(plan.phone.serial, name, plan.facts, profileName).catch(() => {});
          if (this.test) skipReasons.set(this.test, r.skipped);
          this.skip();
          return;
        }
        summary.results.push(r);
        summary[r.outcome] += 1;
        await reportToAllureRuntime(r.dir, profileName ? { profile: profileName } : {}).catch(() => false);
        const err = outcomeError(r);
        if (err) throw err;
      });
      // Reporters (allure-mocha among them) take the test's file for its package label.
      test.file = resolve('scenarios', `${name}.ts`);
      suite.addTest(test);
    }
  }
  await new Promise<void>((resolveRun) => {
    mocha.run(() => resolveRun());
  });
  stopRest.abort(new Error('the suite ended'));
  await Promise.allSettled(chains);
  return summary;
}
