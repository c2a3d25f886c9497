/**
 * One phone × one scenario: prepare → capture start → canary → steps → wait → canary → capture stop →
 * analyse → verdict → artifacts. Artifacts are written as they happen, so a crash or Ctrl-C keeps
 * everything up to that point. Failures inside the run are outcomes (failed, broken), not exceptions.
 */
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Analysis, analyzeFile } from '../analyze.js';
import { type OpOptions, sleep } from '../deadline.js';
import type { AdbDevice } from '../device/adb.js';
import { type DeviceFacts, phoneAddrs, readFacts, readPackageUids } from '../device/facts.js';
import { type PrepareStep, prepare } from '../device/prepare.js';
import type { DeviceProfile } from '../device/profiles.js';
import { CaptureError, DeviceLostError } from '../errors.js';
import type { Flow } from '../flows/flow.js';
import type { Allowlist } from '../verdict/allowlist.js';
import { judge, type Verdict } from '../verdict/verdict.js';
import type { CaptureBackend, CaptureStats } from './capture.js';
import type { ScenarioStep } from './scenario.js';
import type { Ui } from './ui.js';

/** Saved formats carry a version so nightly results stay comparable across releases. */
export const RUN_FORMAT_VERSION = 1;

/** The part of a scenario this pipeline runs (a Scenario from scenario.ts fits). */
export interface RunScenario {
  name: string;
  steps: ScenarioStep[];
  /** Preparation before the capture starts. */
  prepare?: PrepareStep[];
}

/** What happened in one step, on the host's clock. */
export interface StepRecord {
  name: string;
  kind: string;
  /** Start, seconds since the epoch. */
  tsStart: number;
  /** End, seconds since the epoch. */
  tsEnd: number;
  ok: boolean;
  /** True when the step could not run here (e.g. a UI step with no UI and no adb equivalent). */
  skipped?: boolean;
  detail: string;
  /** Screenshot file (in the run folder) taken after a UI step. */
  screenshot?: string;
}

/** Outcome of a run: passed, failed (the allowlist was broken) or broken (the infrastructure was). */
export type RunOutcome = 'passed' | 'failed' | 'broken';

/** A violation with the step during which it first happened. */
export interface LocatedViolation {
  subject: string;
  ruleText: string;
  /** The step during which the first offending flow started, or "before the first step"/"after the last step". */
  step: string;
}

/** The result of one run, saved as result.json. */
export interface RunResult {
  formatVersion: number;
  runId: string;
  serial: string;
  scenario: string;
  outcome: RunOutcome;
  /** Why, in one line. */
  reason: string;
  /** The run folder. */
  dir: string;
  steps: StepRecord[];
  canaries: { start: string; end: string; startSeen: boolean; endSeen: boolean };
  capture?: CaptureStats;
  verdict?: Verdict;
  violations: LocatedViolation[];
  facts?: DeviceFacts;
}

/** Everything a run needs. */
export interface RunContext {
  runId: string;
  /** reports/runs: the run folder is OUT/RUN_ID/SERIAL/SCENARIO. */
  outRoot: string;
  device: AdbDevice;
  capture: CaptureBackend;
  allowlist: Allowlist;
  /** The canary domain: canaries are start-RUNID.DOMAIN and end-RUNID.DOMAIN. */
  canaryDomain?: string;
  /** How long to wait after the last step for traffic to land in the capture, ms. */
  settleMs?: number;
  /** Deadline for each adb operation, ms. */
  stepDeadlineMs?: number;
  signal?: AbortSignal;
  /** Progress lines for a person. */
  onProgress?: (line: string) => void;
  /** The device profile: named actions and UI selectors. */
  profile?: DeviceProfile;
  /** The phone's UI (Appium), when available; actions fall back to their adb command without it. */
  ui?: Ui;
}

const SAFE_PART = /[^A-Za-z0-9._-]+/g;

/** A path component from an untrusted string (a serial like 127.0.0.1:5601 becomes 127.0.0.1_5601). */
export function pathPart(s: string): string {
  return s.replace(SAFE_PART, '_').replace(/^\.+/, '_') || '_';
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(tmp, file);
}

/** True when the flow exists only because of a canary (its names are under the canary domain). */
function isCanaryFlow(f: Flow, domain: string): boolean {
  return f.names.some((n) => n.name === domain || n.name.endsWith(`.${domain}`));
}

/** Names seen in the capture: flow names and DNS queries. */
function namesIn(analysis: Analysis): Set<string> {
  const out = new Set<string>();
  for (const f of analysis.flows) for (const n of f.names) out.add(n.name);
  for (const d of analysis.dns) out.add(d.query);
  return out;
}

/** Which step a moment falls in. */
export function stepAt(steps: StepRecord[], ts: number): string {
  if (steps.length === 0 || ts < steps[0]!.tsStart) return 'before the first step';
  for (const s of steps) if (ts >= s.tsStart && ts <= s.tsEnd) return s.name;
  for (let i = steps.length - 1; i >= 0; i--) if (ts > steps[i]!.tsEnd) return `after ${steps[i]!.name}`;
  return 'unknown';
}

/** Runs one scenario on one phone. Never throws for run failures: they are the result's outcome. */
export async function runOne(ctx: RunContext, scenario: RunScenario): Promise<RunResult> {
  const domain = ctx.canaryDomain ?? 'canary.phonehome.test';
  const dir = join(ctx.outRoot, pathPart(ctx.runId), pathPart(ctx.device.serial), pathPart(scenario.name));
  await mkdir(dir, { recursive: true });
  const logFile = join(dir, 'run.log');
  const log = async (line: string) => {
    await appendFile(logFile, `${new Date().toISOString()} ${line}\n`);
    ctx.onProgress?.(line);
  };
  const op = { deadlineMs: ctx.stepDeadlineMs ?? 20_000, ...(ctx.signal ? { signal: ctx.signal } : {}) };
  const canaries = {
    start: `start-${pathPart(ctx.runId).toLowerCase()}.${domain}`,
    end: `end-${pathPart(ctx.runId).toLowerCase()}.${domain}`,
    startSeen: false,
    endSeen: false,
  };
  const result: RunResult = {
    formatVersion: RUN_FORMAT_VERSION,
    runId: ctx.runId,
    serial: ctx.device.serial,
    scenario: scenario.name,
    outcome: 'broken',
    reason: '',
    dir,
    steps: [],
    canaries,
    violations: [],
  };
  const save = () => writeJson(join(dir, 'result.json'), result);
  const broken = async (reason: string) => {
    result.outcome = 'broken';
    result.reason = reason;
    await log(`broken: ${reason}`);
    await screenshot(ctx, dir, log);
    await save();
    return result;
  };

  await log(`run ${ctx.runId}: ${scenario.name} on ${ctx.device.serial}`);
  let session: Awaited<ReturnType<CaptureBackend['start']>> | undefined;
  const logcatAbort = new AbortController();
  try {
    result.facts = await readFacts(ctx.device, op);
    await writeJson(join(dir, 'device.json'), result.facts);
    await log(
      `device: ${result.facts.manufacturer} ${result.facts.model}, Android ${result.facts.androidVersion}`,
    );

    for (const step of scenario.prepare ?? []) {
      const r = await prepare(ctx.device, step, op);
      await log(`prepare ${r.step}: ${r.detail}`);
      if (!r.ok) return await broken(`preparation failed: ${r.step}: ${r.detail}`);
    }

    const target = {
      addrs: phoneAddrs(result.facts),
      ...(result.facts.wifiMac ? { mac: result.facts.wifiMac } : {}),
    };
    try {
      session = await ctx.capture.start({ file: join(dir, 'capture.pcap'), target, ...op });
    } catch (err) {
      if (err instanceof CaptureError) return await broken(`capture not working: ${err.reason}`);
      throw err;
    }
    await log(`capture: ${ctx.capture.name} started`);
    void recordLogcat(ctx, join(dir, 'logcat.txt'), logcatAbort.signal);

    await canary(ctx, canaries.start, op, log);
    for (const step of scenario.steps) {
      const rec: StepRecord = {
        name: step.name,
        kind: step.kind,
        tsStart: Date.now() / 1000,
        tsEnd: 0,
        ok: true,
        detail: '',
      };
      result.steps.push(rec);
      await log(`step ${step.name}`);
      if (step.kind === 'wait') {
        await sleep(step.ms, ctx.signal);
        rec.detail = `waited ${step.ms} ms`;
      } else if (step.kind === 'action') {
        const done = await runAction(ctx, step.action, dir, result.steps.length, op);
        rec.detail = done.detail;
        if (done.skipped) rec.skipped = true;
        if (done.screenshot) rec.screenshot = done.screenshot;
        if (!done.ok) {
          rec.ok = false;
          rec.tsEnd = Date.now() / 1000;
          return await broken(`step "${step.name}" failed: ${done.detail}`);
        }
      } else {
        const r = await ctx.device.shell(step.command, op);
        rec.detail = `exit ${r.exitCode}`;
        if (step.expectExit !== undefined && r.exitCode !== step.expectExit) {
          rec.ok = false;
          rec.tsEnd = Date.now() / 1000;
          await writeFile(join(dir, `step-${result.steps.length}.out.txt`), r.output);
          return await broken(`step "${step.name}" exited ${r.exitCode}, expected ${step.expectExit}`);
        }
      }
      rec.tsEnd = Date.now() / 1000;
      await save();
    }
    await canary(ctx, canaries.end, op, log);
    await sleep(ctx.settleMs ?? 1_000, ctx.signal);
  } catch (err) {
    if (err instanceof DeviceLostError) {
      if (session) result.capture = await session.stop().catch(() => undefined);
      logcatAbort.abort();
      return await broken(`phone lost: ${err.message}`);
    }
    if (ctx.signal?.aborted) {
      if (session) result.capture = await session.stop().catch(() => undefined);
      logcatAbort.abort();
      return await broken('interrupted');
    }
    logcatAbort.abort();
    if (session) result.capture = await session.stop().catch(() => undefined);
    return await broken(`infrastructure error: ${err instanceof Error ? err.message : String(err)}`);
  }

  logcatAbort.abort();
  try {
    result.capture = await session.stop(op);
  } catch (err) {
    if (err instanceof CaptureError) return await broken(`capture not working: ${err.reason}`);
    if (err instanceof DeviceLostError) return await broken(`phone lost: ${err.message}`);
    throw err;
  }
  await log(`capture: ${result.capture.packets} packets, drops ${result.capture.dropped}`);
  await save();

  let analysis: Analysis;
  try {
    analysis = await analyzeFile(join(dir, 'capture.pcap'), {
      ...(result.facts ? { deviceAddrs: phoneAddrs(result.facts) } : {}),
    });
  } catch (err) {
    return await broken(
      `capture not working: the capture file cannot be read (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (analysis.flows.some((f) => f.app)) {
    // The capture knows apps by UID (PCAPdroid's trailer): name them by package, as the phone does.
    try {
      const uids = await readPackageUids(ctx.device, op);
      for (const f of analysis.flows) {
        const pkgs = f.app ? uids.get(f.app.uid) : undefined;
        if (f.app && pkgs) f.app.package = pkgs.join(',');
      }
    } catch (err) {
      await log(`cannot map app UIDs to packages: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  await writeJson(join(dir, 'flows.json'), analysis);
  const seen = namesIn(analysis);
  canaries.startSeen = seen.has(canaries.start);
  canaries.endSeen = seen.has(canaries.end);
  if (!canaries.startSeen || !canaries.endSeen) {
    const missing = [canaries.startSeen ? '' : 'start', canaries.endSeen ? '' : 'end']
      .filter(Boolean)
      .join(' and ');
    return await broken(
      `capture not working: the ${missing} canary is not in the capture (${analysis.flows.length} flows seen)`,
    );
  }

  const flows = analysis.flows.filter((f) => !isCanaryFlow(f, domain));
  // Connections the phone had open when the capture began show up midstream, their names unseen; a
  // capture that dropped nothing tells them apart from connections whose start was lost.
  const verdict = judge(flows, ctx.allowlist, { captureComplete: result.capture?.dropped === 0 });
  result.verdict = verdict;
  await writeJson(join(dir, 'verdict.json'), { formatVersion: RUN_FORMAT_VERSION, ...verdict });
  result.violations = verdict.violations.map((v) => ({
    subject: v.subject,
    ruleText: v.ruleText,
    step: stepAt(result.steps, v.firstSeen),
  }));
  const policyBroken = verdict.violations.length > 0 || verdict.budgets.some((b) => b.exceeded);
  if (verdict.outcome === 'allowed') {
    result.outcome = 'passed';
    result.reason = `${flows.length} flows, all allowed`;
  } else if (!policyBroken) {
    // Expectations are positive controls: a run that never reached them did not do what it says.
    const missing = verdict.unmetExpectations.map((u) => u.ruleText).join('; ');
    await save();
    return await broken(`the scenario did not prove it ran: never seen: ${missing}`);
  } else {
    result.outcome = 'failed';
    const parts = [
      verdict.violations.length ? `${verdict.violations.length} violations` : '',
      verdict.unmetExpectations.length ? `${verdict.unmetExpectations.length} unmet expectations` : '',
      verdict.budgets.some((b) => b.exceeded) ? 'budget exceeded' : '',
    ].filter(Boolean);
    result.reason = parts.join(', ');
    await screenshot(ctx, dir, log);
  }
  await log(`${result.outcome}: ${result.reason}`);
  for (const v of result.violations) await log(`violation: ${v.subject} during ${v.step}: ${v.ruleText}`);
  for (const w of verdict.warnings) await log(`warning: ${w}`);
  await save();
  return result;
}

/** Runs a named action of the device profile: UI steps when a UI is there, else its adb command. */
async function runAction(
  ctx: RunContext,
  name: string,
  dir: string,
  stepNo: number,
  op: OpOptions,
): Promise<{ ok: boolean; skipped?: boolean; detail: string; screenshot?: string }> {
  const action = ctx.profile?.actions[name];
  if (!action) return { ok: false, detail: `the device profile has no action "${name}"` };
  if (ctx.ui && action.ui.length > 0) {
    const ui = ctx.ui;
    const sel = (n: string) => ctx.profile!.ui[n]!;
    const details: string[] = [];
    let shot: Uint8Array | undefined;
    try {
      for (const st of action.ui) {
        const r =
          'tap' in st
            ? await ui.tap(sel(st.tap), op)
            : 'toggle' in st
              ? await ui.setToggle(sel(st.toggle), st.on, op)
              : 'scrollTo' in st
                ? await ui.scrollTo(st.scrollTo, op)
                : 'back' in st
                  ? await ui.back(op)
                  : await ui.home(op);
        details.push(r.detail);
        if (r.screenshot) shot = r.screenshot;
      }
    } catch (err) {
      return {
        ok: false,
        detail: `UI: ${[...details, err instanceof Error ? err.message : String(err)].join('; ')}`,
      };
    }
    let screenshot: string | undefined;
    if (shot) {
      screenshot = `step-${stepNo}.png`;
      await writeFile(join(dir, screenshot), shot);
    }
    return { ok: true, detail: `UI: ${details.join('; ')}`, ...(screenshot ? { screenshot } : {}) };
  }
  if (action.adb !== undefined) {
    const r = await ctx.device.shell(action.adb, op);
    const why = ctx.ui ? 'the action has no UI steps' : 'no UI automation in this run';
    return r.exitCode === 0
      ? { ok: true, detail: `over adb (${why}): ${action.adb}` }
      : {
          ok: false,
          detail: `over adb: ${action.adb} exited ${r.exitCode}: ${r.output.toString().trim().slice(0, 200)}`,
        };
  }
  return {
    ok: true,
    skipped: true,
    detail: 'skipped: this action has only UI steps and the run has no UI automation (Appium)',
  };
}

/** Makes the phone resolve and contact a unique name, so the capture can prove it saw the phone. */
async function canary(
  ctx: RunContext,
  name: string,
  op: OpOptions,
  log: (l: string) => Promise<void>,
): Promise<void> {
  // ping resolves the name through the phone's resolver (a DNS query in the capture) and sends ICMP;
  // its exit status does not matter: a lab DNS may not answer the name.
  const r = await ctx.device.shell(`ping -c 1 -W 2 ${name}`, op);
  await log(`canary ${name}: ping exit ${r.exitCode}`);
}

async function recordLogcat(ctx: RunContext, file: string, signal: AbortSignal): Promise<void> {
  const out = createWriteStream(file);
  try {
    const stream = await ctx.device.shellStream('logcat -v threadtime', { signal, deadlineMs: 10_000 });
    stream.pipe(out);
    await new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.once('end', resolve);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } catch {
    // A phone without logcat or gone: the run reports the phone itself.
  } finally {
    out.end();
  }
}

async function screenshot(ctx: RunContext, dir: string, log: (l: string) => Promise<void>): Promise<void> {
  try {
    const png = await ctx.device.screencap({ deadlineMs: 10_000 });
    await writeFile(join(dir, 'screenshot.png'), png);
    await log('screenshot saved');
  } catch (err) {
    await log(`no screenshot: ${err instanceof Error ? err.message : String(err)}`);
  }
}
