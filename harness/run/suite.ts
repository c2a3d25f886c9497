/**
 * The suite runner: every chosen phone through every chosen scenario, phones in parallel and one
 * scenario at a time per phone, with mocha as the runner (describe per phone, it per scenario, so
 * mocha's grep, retries, bail and reporters work as lab engineers know them). The reporter and the
 * report sinks come from the lab (allure-mocha and the Allure sink, harness/lab/allure-reporting.ts).
 */
import { AssertionError } from 'node:assert';
import { setMaxListeners } from 'node:events';
import { existsSync } from 'node:fs';
import { appendFile, mkdir, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import Mocha from 'mocha';
import { type DeviceFacts, phoneSpeed } from '../device/facts.js';
import { allowlistFor, type DeviceProfile, matchProfile, typedVariables } from '../device/profiles.js';
import { readSummaryFile } from '../drift/baseline-file.js';
import { findingLine, type RunBaseline } from '../drift/drift.js';
import { compareTwins } from '../drift/twins.js';
import { errorMessage, UsageError } from '../errors.js';
import type { Locator } from '../geo/locate.js';
import type { Inventory } from '../identifiers/inventory.js';
import { fingerprintKey, phoneLabel } from '../identifiers/mask.js';
import { type EarlierAttempt, type RunResult, recordLine } from '../record/run-record.js';
import { DEFAULT_CANARY_DOMAIN } from '../verdict/judged-flows.js';
import { readAllowlist } from '../verdict/read-allowlist.js';
import type { CaptureBackend } from './capture.js';
import type { DeviceControl } from './device-control.js';
import type { Interceptor } from './intercept.js';
import { type LiveStats, withLiveStats } from './live-traffic.js';
import { writeJsonFile } from './phase-recorder.js';
import { fanOut, type ReportSink } from './report-sink.js';
import { runOne } from './run-one.js';
import { LAB_HOOKS, type LabHook, type Scenario, type ScenarioStep, scaled } from './scenario.js';
import type { Ui } from './ui.js';

/** A phone chosen for the suite. */
export interface SuitePhone {
  serial: string;
  /** Interface to capture on (a simulated phone's own lab interface; the lab AP for real phones). */
  captureInterface?: string;
  /**
   * Time compression: simulated phones run compressed time. When not given, the phone's own: a
   * simulated phone tells it (ro.phonehome.sim.speed), a real one runs at 1.
   */
  speed?: number;
  /**
   * Where the lab routes this phone's traffic, for TLS interception: a namespace (a simulated lab's
   * router) or the host, and the interface the phone's packets come in on.
   */
  gateway?: { netns?: string; lanInterface: string; upstreamInsecure?: boolean };
  /**
   * Values for the variables the profile's UI steps type (an account, a password) for this phone
   * alone, over the suite's `typed`: a simulated phone's made-up account.
   */
  typed?: Record<string, string>;
  /** The lab's command for each hook for this phone alone, over the suite's `hooks`: a simulated phone's own. */
  hooks?: Partial<Record<LabHook, string[]>>;
}

/**
 * What happens in a suite, for the terminal. Text from the phone is untrusted: print it through
 * terminalSafe. `serial` is the phone as the output names it (phoneLabel): a USB serial masked.
 */
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

/**
 * The mocha reporter a suite runs with, made for the suite's own notes on its tests: why a test was
 * skipped, and a passed test's status details (its drift).
 */
export type MochaReporterFactory = (notes: {
  skipReasons: WeakMap<Mocha.Runnable, string>;
  passNotes: WeakMap<Mocha.Runnable, { message: string; trace: string }>;
}) => {
  reporter: Mocha.ReporterConstructor;
  reporterOptions: Record<string, unknown>;
};

/** Settings of one suite run. The lab (harness/lab/) wires the parts: phones, captures, UI, reports. */
export interface SuiteOptions {
  /**
   * Values of the variables UI steps type (accounts, passwords): the lab host's environment. Never
   * written anywhere; a scenario whose steps need one that is not set is skipped, naming it.
   */
  typed?: Readonly<Record<string, string | undefined>>;
  /** The lab's command for each hook (the config's `hooks:`); a scenario using one it lacks is skipped. */
  hooks?: Partial<Record<LabHook, string[]>>;
  /** A phone by its serial, as the pipeline drives it. */
  deviceFor: (serial: string) => DeviceControl;
  phones: SuitePhone[];
  profiles: DeviceProfile[];
  scenarios: Scenario[];
  /** How one phone's traffic is recorded. */
  captureFor: (phone: SuitePhone, device: DeviceControl, profile: DeviceProfile) => CaptureBackend;
  /** TLS interception for a phone, when the suite intercepts. Throws UsageError when it cannot be had. */
  interceptFor?: (phone: SuitePhone) => Interceptor;
  /** reports/: runs go to OUT/runs, reporters write to OUT/allure-results. */
  outDir: string;
  runId: string;
  /**
   * Runs a broken scenario again up to this many times. Before trying again after the phone was lost,
   * waits up to reconnectWaitMs for it to come back (asking adb to reconnect that phone alone).
   */
  retries?: number;
  /** How long a lost phone is waited for before its scenario is tried again (default 60 s). */
  reconnectWaitMs?: number;
  /** Only the tests whose full title ("PHONE TITLE scenario") matches run (mocha --grep). */
  grep?: string;
  bail?: boolean;
  signal?: AbortSignal;
  /** Canary domain (default canary.phonehome.test). */
  canaryDomain?: string;
  /** At most this many phones run at once (default: all). */
  parallelism?: number;
  /** mocha's reporter (default: mocha's spec reporter). */
  mochaReporter?: MochaReporterFactory;
  /** Told of every run and skip, inside its mocha test. */
  sinks?: ReportSink[];
  /** What happens, as it happens. */
  onEvent?: (event: SuiteEvent) => void;
  /** The lab's inventory of identifiers phones will not tell. */
  inventory?: Inventory;
  /** Where endpoints are (harness/geo), for a phone of this profile; no lookups without it. */
  locatorFor?: (profile: DeviceProfile) => Locator;
  /**
   * A profile's scenario's baseline (the history folder's accepted runs) for drift; without it
   * drift is not looked for. A baseline that cannot be read makes the run's test broken.
   */
  baselineFor?: (profile: string, scenario: string) => Promise<RunBaseline>;
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

/**
 * Why a scenario cannot apply to phones of this profile whatever the run: a capability it requires
 * that the profile does not declare, or an action the profile does not have. Undefined when it applies.
 */
export function profileSkipReason(scenario: Scenario, profile: DeviceProfile): string | undefined {
  for (const [capability, what] of Object.entries(scenario.requires ?? {}))
    if (!profile.capabilities.includes(capability))
      return `the ${profile.name} profile does not declare ${capability} (${what}) among its capabilities`;
  for (const st of scenario.steps)
    if (st.kind === 'action' && stepApplies(st, profile) && !profile.actions[st.action])
      return `the ${profile.name} profile has no action "${st.action}"`;
  return undefined;
}

/** Whether an action step is for phones of this profile (its ifCapability, when it has one, declared). */
export function stepApplies(step: ScenarioStep & { kind: 'action' }, profile: DeviceProfile): boolean {
  return step.ifCapability === undefined || profile.capabilities.includes(step.ifCapability);
}

/** Why a scenario cannot run on this phone, or undefined when it can. */
export function skipReason(
  scenario: Scenario,
  facts: DeviceFacts,
  profile: DeviceProfile,
  hasUi: boolean,
  typed: Readonly<Record<string, string | undefined>> = {},
  hooks: Partial<Record<LabHook, readonly string[]>> = {},
): string | undefined {
  const unfit = profileSkipReason(scenario, profile);
  if (unfit) return unfit;
  for (const need of scenario.needs) {
    if (need === 'appium' && !hasUi) return 'needs Appium (UI automation), which this run does not have';
    if (need === 'root' && !facts.rooted) return 'needs a rooted phone';
    if (need === 'pcapdroid' && !facts.pcapdroidInstalled) return 'needs PCAPdroid installed on the phone';
    if (need === 'sim-card' && !facts.simCard)
      return 'needs a SIM card in the phone (gsm.sim.state shows none loaded)';
  }
  if (scenario.start && !hooks[scenario.start.hook]?.length)
    return `it starts with "${scenario.start.name}", the lab hook ${scenario.start.hook}, a command that will ${LAB_HOOKS[scenario.start.hook]} (hooks: in the config), which this lab does not give`;
  for (const st of scenario.steps) {
    if (st.kind === 'lab' && !hooks[st.hook]?.length)
      return `step "${st.name}" needs the lab hook ${st.hook}, a command that will ${LAB_HOOKS[st.hook]} (hooks: in the config), which this lab does not give`;
    if (st.kind !== 'action' || !stepApplies(st, profile)) continue;
    // profileSkipReason has made sure the profile has the action.
    const action = profile.actions[st.action]!;
    // A step this run cannot do would leave the scenario half done: skipped before anything runs,
    // never a pass that did not do what it says.
    if (!hasUi && action.adb === undefined)
      return `step "${st.name}" (${action.description ?? st.action}) needs UI automation (Appium), which this run does not have, and the ${profile.name} profile has no adb equivalent`;
    if (hasUi) {
      const unset = typedVariables(action).filter((v) => !typed[v]);
      if (unset.length > 0)
        return `step "${st.name}" (${action.description ?? st.action}) types ${unset.map((v) => `$${v}`).join(' and ')}, which ${unset.length > 1 ? 'are' : 'is'} not set on this lab host`;
    }
  }
  return undefined;
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
  /** The phone as the output names it (phoneLabel). */
  label: string;
  title: string;
  /** The matched device profile's name, which keys the report's history. */
  profile?: string;
  facts: DeviceFacts;
  results: Map<string, Promise<RunResult | { skipped: string }>>;
}

/**
 * The error a scenario's mocha test throws so that reporters give the run's status: an AssertionError
 * for failed (a test failure), a plain Error for broken, nothing for passed. The message is the run's
 * reason; the trace is the run's record line, which the Allure categories match, and the evidence,
 * not a stack trace: nothing crashed.
 */
export function outcomeError(
  result: Pick<RunResult, 'outcome' | 'reason' | 'broken' | 'verdict' | 'violations' | 'drift'>,
): Error | undefined {
  if (result.outcome === 'passed') return undefined;
  const err =
    result.outcome === 'failed' ? new AssertionError({ message: result.reason }) : new Error(result.reason);
  const evidence = [
    ...result.violations.map((v) => `${v.subject} during ${v.step}: ${v.ruleText}`),
    // Drift the policy only warns about is shown beside them (under drift: fail it is among them).
    ...(result.drift?.policy === 'warn' ? result.drift.findings.map((f) => `drift: ${findingLine(f)}`) : []),
  ];
  err.stack = [recordLine(result), ...evidence].join('\n');
  return err;
}

/**
 * When a scenario's consent twin already ran on this phone (both analysed), the pair side by side
 * goes into this run's folder as twin.json, for the report. A pair that cannot be compared is said
 * in a progress line; the run stands as it is.
 */
async function compareWithTwin(
  scenario: Scenario,
  result: RunResult,
  done: ReadonlyMap<string, RunResult>,
  all: readonly Scenario[],
  progress: (line: string) => void,
): Promise<void> {
  const onSide = scenario.twin ? scenario : all.find((s) => s.twin?.scenario === scenario.name);
  if (!onSide?.twin) return;
  const partner = done.get(onSide === scenario ? onSide.twin.scenario : onSide.name);
  if (!partner || partner.outcome === 'broken' || result.outcome === 'broken') return;
  const [on, off] = onSide === scenario ? [result, partner] : [partner, result];
  try {
    const [onSummary, offSummary] = await Promise.all([readSummaryFile(on.dir), readSummaryFile(off.dir)]);
    const pair = compareTwins(
      onSide.twin.consent,
      { ...onSummary, dir: on.dir },
      { ...offSummary, dir: off.dir },
    );
    await writeJsonFile(join(result.dir, 'twin.json'), pair);
    progress(
      `consent twin ${on.scenario} / ${off.scenario}: ${pair.onlyOn.hosts.length} hosts only with ${onSide.twin.consent} on`,
    );
  } catch (err) {
    progress(`consent twin ${on.scenario} / ${off.scenario} not compared: ${errorMessage(err)}`);
  }
}

/** Runs the suite. */
export async function runSuite(opts: SuiteOptions): Promise<SuiteSummary> {
  const runsDir = join(opts.outDir, 'runs');
  const resultsDir = resolve(opts.outDir, 'allure-results');
  await mkdir(resultsDir, { recursive: true });
  const summary: SuiteSummary = { passed: 0, failed: 0, broken: 0, skipped: 0, results: [], resultsDir };
  const canaryDomain = opts.canaryDomain ?? DEFAULT_CANARY_DOMAIN;
  const grep = opts.grep ? new RegExp(opts.grep) : undefined;
  // Runs still going when mocha ends early (--bail) are stopped, as Ctrl-C stops them.
  const stopRest = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stopRest.signal]) : stopRest.signal;
  // Every phone's run listens on it at once (waits, capture, logcat, adb commands): a farm host's
  // phones pass Node's default of 10 without any leak, and its warning would reach the terminal.
  setMaxListeners(1000, signal);
  const phoneSlots = slots(opts.parallelism ?? Math.max(1, opts.phones.length));
  const emit = (e: SuiteEvent) => {
    try {
      opts.onEvent?.(e);
    } catch {
      // A display that throws must not break a run.
    }
  };
  const sink = fanOut(opts.sinks ?? []);

  // Facts and profiles first, so that every phone's describe block has its real title.
  const plans: PhonePlan[] = [];
  const chains: Promise<unknown>[] = [];
  // A USB phone's adb serial is its hardware serial, an identifier: the output names it masked.
  const idKey = fingerprintKey();
  for (const phone of opts.phones) {
    const label = phoneLabel(phone.serial, idKey);
    const device = opts.deviceFor(phone.serial);
    const facts = await device.facts({ deadlineMs: 20_000, signal });
    const m = matchProfile(opts.profiles, facts.properties);
    const title = `${facts.manufacturer} ${facts.model} (${label})`;
    const plan: PhonePlan = {
      phone,
      label,
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
    /** Set once this phone was lost and not back in time: later scenarios do not wait for it again. */
    const lost = { gone: false };
    /** This phone's finished runs, by scenario: a consent twin's partner is looked up here. */
    const done = new Map<string, RunResult>();
    // A simulated phone attached by serial tells its speed: its waits are scaled as for the phones
    // phonehome starts itself, or its compressed traffic would pour into real-time waits.
    const speed = phone.speed ?? phoneSpeed(facts.properties);
    for (const scenario of chosen) {
      const run = scaled(scenario, speed);
      const outcome = async (): Promise<RunResult | { skipped: string }> => {
        if (!profile) return { skipped: (m as { reason: string }).reason };
        const prof = profile;
        if (signal.aborted) return { skipped: 'interrupted before it started' };
        if (!uiTried && opts.uiFor) {
          uiTried = true;
          ui = await opts.uiFor(phone, facts, profile).catch((err) => {
            emit({
              type: 'progress',
              serial: label,
              scenario: scenario.name,
              line: `no UI automation: ${errorMessage(err)}`,
            });
            return undefined;
          });
        }
        // Whether the scenario applies comes from the profile's capabilities and the run's means
        // (UI, root …), never from a missing file.
        const typed = { ...(opts.typed ?? {}), ...(phone.typed ?? {}) };
        const hooks = { ...(opts.hooks ?? {}), ...(phone.hooks ?? {}) };
        const why = skipReason(scenario, facts, profile, ui !== undefined, typed, hooks);
        if (why) return { skipped: why };
        // A scenario that applies is judged by its allowlist: one that is missing, cannot be read or
        // is wrong is bad input (readAllowlist throws ConfigError), and the test is broken.
        const allowlistFile = allowlistFor(profile, scenario.allowlist ?? scenario.name);
        if (!existsSync(allowlistFile))
          throw new UsageError(
            `the ${profile.name} profile has no allowlist for ${scenario.name} (${allowlistFile}); a scenario that cannot apply to this phone is left out by the capabilities it requires`,
          );
        const allowlist = readAllowlist(allowlistFile);
        const baseline = opts.baselineFor ? await opts.baselineFor(prof.name, scenario.name) : undefined;
        emit({
          type: 'start',
          serial: label,
          phone: title,
          scenario: scenario.name,
          steps: run.steps,
        });
        const progress = (line: string) =>
          emit({ type: 'progress', serial: label, scenario: scenario.name, line });
        // Retries are for the lab's hiccups: a broken run is tried again, a policy failure is not.
        let last: RunResult | undefined;
        const earlier: EarlierAttempt[] = [];
        const retries = opts.retries ?? 0;
        for (let attempt = 0; attempt <= retries; attempt++) {
          if (attempt > 0) progress(`retry ${attempt} after: ${last?.reason}`);
          last = await runOne(
            {
              runId: opts.runId,
              ...(earlier.length ? { earlierAttempts: [...earlier] } : {}),
              outRoot: runsDir,
              device,
              capture: withLiveStats(opts.captureFor(phone, device, prof), allowlist, canaryDomain, (stats) =>
                emit({ type: 'live', serial: label, scenario: scenario.name, stats }),
              ),
              allowlist,
              profile: prof,
              canaryDomain,
              ...(ui ? { ui, typed } : {}),
              hooks,
              ...(opts.inventory ? { inventory: opts.inventory } : {}),
              ...(baseline ? { baseline } : {}),
              ...(opts.locatorFor ? { locator: opts.locatorFor(prof) } : {}),
              ...(opts.interceptFor ? { intercept: opts.interceptFor(phone) } : {}),
              label,
              signal,
              onProgress: progress,
            },
            run,
          );
          if (last.outcome !== 'broken' || signal.aborted || attempt === retries) break;
          const tried: EarlierAttempt = {
            attempt: attempt + 1,
            reason: last.reason,
            ...(last.broken ? { kind: last.broken.kind } : {}),
            dir: `${last.dir}.attempt-${attempt + 1}`,
          };
          // A backend that cannot tell whether the phone is back (none today) tries again at once.
          if (last.broken?.kind === 'device-lost' && device.waitForReturn) {
            const back = await awaitPhone(
              device.waitForReturn.bind(device),
              lost,
              opts.reconnectWaitMs ?? 60_000,
              signal,
              progress,
            );
            if (!back.back) {
              // Not back: this attempt is the scenario's result, its reason saying how long it was waited for.
              await amendReason(last, `; it did not come back within ${back.waited} (${back.detail})`);
              break;
            }
            tried.phoneReturn = back.detail;
          }
          // The broken attempt's folder is evidence too: kept beside the next one, named for its attempt.
          try {
            await rename(last.dir, tried.dir);
          } catch (err) {
            progress(`could not keep the broken attempt's folder as ${tried.dir}: ${errorMessage(err)}`);
            tried.dir = `(lost: ${errorMessage(err)})`;
          }
          earlier.push(tried);
        }
        done.set(scenario.name, last!);
        await compareWithTwin(scenario, last!, done, opts.scenarios, progress);
        return last!;
      };
      const p = chain.then(async () => {
        let r: RunResult | { skipped: string };
        try {
          r = await outcome();
        } catch (err) {
          emit({
            type: 'end',
            serial: label,
            phone: title,
            scenario: scenario.name,
            outcome: 'broken',
            reason: errorMessage(err),
          });
          throw err;
        }
        emit({
          type: 'end',
          serial: label,
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
  const passNotes = new WeakMap<Mocha.Runnable, { message: string; trace: string }>();
  const reporting = opts.mochaReporter?.({ skipReasons, passNotes });
  const mocha = new Mocha({
    ...(reporting ? { reporter: reporting.reporter, reporterOptions: reporting.reporterOptions } : {}),
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
          await sink.runSkipped({
            serial: plan.label,
            scenario: name,
            facts: plan.facts,
            reason: r.skipped,
            ...(profileName ? { profile: profileName } : {}),
          });
          if (this.test) skipReasons.set(this.test, r.skipped);
          this.skip();
          return;
        }
        summary.results.push(r);
        summary[r.outcome] += 1;
        await sink.runFinished(r, { dir: r.dir, ...(profileName ? { profile: profileName } : {}) });
        const err = outcomeError(r);
        if (err) throw err;
        // A passed run's drift is still news: its record line and findings as the test's details.
        if (this.test && r.drift?.findings.length)
          passNotes.set(this.test, {
            message: r.reason,
            trace: [recordLine(r), ...r.drift.findings.map(findingLine)].join('\n'),
          });
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

/**
 * Waits for a lost phone before its scenario is tried again: up to waitMs, or only a moment when it
 * was waited for in vain before (its later scenarios would each wait the whole time again).
 */
async function awaitPhone(
  waitForReturn: NonNullable<DeviceControl['waitForReturn']>,
  lost: { gone: boolean },
  waitMs: number,
  signal: AbortSignal,
  progress: (line: string) => void,
): Promise<{ back: boolean; detail: string; waited: string }> {
  const deadlineMs = lost.gone ? Math.min(waitMs, 2_000) : waitMs;
  const waited = `${Math.round(deadlineMs / 1000)} s`;
  progress(`phone lost: waiting up to ${waited} for it to come back`);
  const r = await waitForReturn({ deadlineMs, signal });
  lost.gone = !r.back;
  progress(r.back ? `phone ${r.detail}` : `phone not back within ${waited}: ${r.detail}`);
  return { back: r.back, detail: r.detail, waited };
}

/** Adds to a finished run's reason, in its result.json and run.log too. */
async function amendReason(result: RunResult, more: string): Promise<void> {
  result.reason += more;
  if (result.broken) result.broken.detail += more;
  await writeJsonFile(join(result.dir, 'result.json'), result).catch(() => undefined);
  await appendFile(
    join(result.dir, 'run.log'),
    `${new Date().toISOString()} ${more.replace(/^; /, '')}\n`,
  ).catch(() => undefined);
}
