/**
 * The suite runner: every chosen phone through every chosen scenario, phones in parallel and one
 * scenario at a time per phone, with mocha as the runner (describe per phone, it per scenario, so
 * mocha's grep, retries, bail and reporters work as lab engineers know them) and allure-mocha writing
 * the results.
 */
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
import { outcomeError, reportToAllureRuntime } from '../report/allure-runtime.js';
import { readAllowlist } from '../verdict/read-allowlist.js';
import type { CaptureBackend } from './capture.js';
import { type RunResult, runOne } from './run-one.js';
import { type Scenario, scaled } from './scenario.js';
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
}

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
  grep?: string;
  bail?: boolean;
  signal?: AbortSignal;
  /** Live progress per phone. */
  onProgress?: (serial: string, line: string) => void;
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
  return backend === 'cap' ? new CapCapture({ interface: iface }) : new TcpdumpCapture({ interface: iface });
}

/** One phone's scenarios, run one after the other; each result is a promise the mocha test awaits. */
interface PhonePlan {
  phone: SuitePhone;
  title: string;
  /** The matched device profile's name, which keys the report's history. */
  profile?: string;
  results: Map<string, Promise<RunResult | { skipped: string }>>;
}

/** Runs the suite. */
export async function runSuite(opts: SuiteOptions): Promise<SuiteSummary> {
  const runsDir = join(opts.outDir, 'runs');
  const resultsDir = resolve(opts.outDir, 'allure-results');
  await mkdir(resultsDir, { recursive: true });
  const summary: SuiteSummary = { passed: 0, failed: 0, broken: 0, skipped: 0, results: [], resultsDir };

  // Facts and profiles first, so that every phone's describe block has its real title.
  const plans: PhonePlan[] = [];
  for (const phone of opts.phones) {
    const device = opts.client.device(phone.serial);
    const facts = await readFacts(device, {
      deadlineMs: 20_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const m = matchProfile(opts.profiles, facts.properties);
    const title = `${facts.manufacturer} ${facts.model} (${phone.serial})`;
    const plan: PhonePlan = {
      phone,
      title,
      results: new Map(),
      ...(m.profile ? { profile: m.profile.name } : {}),
    };
    plans.push(plan);
    const profile = m.profile;
    let chain: Promise<unknown> = Promise.resolve();
    let ui: Ui | undefined;
    let uiTried = false;
    for (const scenario of opts.scenarios) {
      const p = chain.then(async (): Promise<RunResult | { skipped: string }> => {
        if (!profile) return { skipped: (m as { reason: string }).reason };
        const prof = profile;
        if (!uiTried && opts.uiFor) {
          uiTried = true;
          ui = await opts.uiFor(phone, facts, profile).catch(() => undefined);
        }
        const why = skipReason(scenario, facts, profile, ui !== undefined);
        if (why) return { skipped: why };
        const allowlistFile = allowlistFor(profile, scenario.allowlist ?? scenario.name);
        let allowlist: ReturnType<typeof readAllowlist>;
        try {
          allowlist = readAllowlist(allowlistFile);
        } catch (err) {
          if ((err as { expected?: string }).expected?.startsWith('cannot read')) {
            return { skipped: `no allowlist for ${scenario.name} in ${profile.allowlistDir}` };
          }
          throw err;
        }
        if (opts.signal?.aborted) return { skipped: 'interrupted before it started' };
        // Retries are for the lab's hiccups: a broken run is tried again, a policy failure is not.
        let last: RunResult | undefined;
        for (let attempt = 0; attempt <= (opts.retries ?? 0); attempt++) {
          if (attempt > 0)
            opts.onProgress?.(phone.serial, `${scenario.name}: retry ${attempt} after: ${last?.reason}`);
          last = await runOnce();
          if (last.outcome !== 'broken' || opts.signal?.aborted) break;
        }
        return last!;
        function runOnce() {
          return runOne(
            {
              runId: opts.runId,
              outRoot: runsDir,
              device,
              capture: captureFor(opts.capture, phone, device, prof),
              allowlist,
              profile: prof,
              ...(ui ? { ui } : {}),
              ...(opts.signal ? { signal: opts.signal } : {}),
              onProgress: (line) => opts.onProgress?.(phone.serial, `${scenario.name}: ${line}`),
            },
            scaled(scenario, phone.speed),
          );
        }
      });
      // A scenario that throws (a bug or bad config) must not stop the phone's later scenarios.
      chain = p.catch(() => undefined);
      plan.results.set(scenario.name, p);
      p.catch(() => {});
    }
  }

  const mocha = new Mocha({
    reporter: 'allure-mocha',
    reporterOptions: { resultsDir, extraReporters: 'spec' },
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
  return summary;
}
