/**
 * One phone × one scenario: prepare → capture start → canary → steps → canary → capture stop →
 * analyse → verdict. Each phase is recorded as it happens (result.json, with run.log for people), so
 * a crash or Ctrl-C keeps everything up to that point. Failures inside the run are outcomes (failed,
 * broken with a record of where and why), not exceptions.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Analysis, analyzeFile, nothingToJudge } from '../analyze.js';
import { writeFileAtomic } from '../atomic-write.js';
import { type OpOptions, sleep } from '../deadline.js';
import { phoneAddrs, phoneSpeed, SIM_SPEED_PROPERTY } from '../device/facts.js';
import type { PrepareStep } from '../device/prepare.js';
import type { DeviceProfile } from '../device/profiles.js';
import { driftSection, findingLine, type RunBaseline } from '../drift/drift.js';
import { BASELINE_COPY_FORMAT_VERSION, summarizeRun } from '../drift/summary.js';
import { CaptureError, DeviceLostError, errorMessage } from '../errors.js';
import type { Locator } from '../geo/locate.js';
import type { SoughtIdentifier } from '../identifiers/find-leaks.js';
import { type Inventory, withSupplied } from '../identifiers/inventory.js';
import { fingerprintKey } from '../identifiers/mask.js';
import { maskedIdentifiers } from '../identifiers/masked-identifiers.js';
import { type PhoneIdentifiers, readIdentifiers } from '../identifiers/read-identifiers.js';
import { identifierRedactor, redactIdentifiers } from '../identifiers/redact.js';
import { maskedExchangeLines, parseExchanges } from '../intercept/exchanges.js';
import {
  type EarlierAttempt,
  RUN_FORMAT_VERSION,
  type RunResult,
  scenarioSteps,
  stepAt,
  VERDICT_FORMAT_VERSION,
} from '../record/run-record.js';
import type { Allowlist } from '../verdict/allowlist.js';
import { DEFAULT_CANARY_DOMAIN, judgedFlows } from '../verdict/judged-flows.js';
import { judge, type LeakJudgement, unmetText } from '../verdict/verdict.js';
import type { CaptureBackend, CaptureSession } from './capture.js';
import type { DeviceControl } from './device-control.js';
import { InterceptError, type Interceptor, type InterceptSession } from './intercept.js';
import { PhaseRecorder, writeJsonFile } from './phase-recorder.js';
import type { LabHook, ScenarioStep } from './scenario.js';
import { readBootId, recordLog, runLabHook, runStep, saveScreenshot, sendCanary } from './scenario-steps.js';
import type { Ui } from './ui.js';

/** The part of a scenario this pipeline runs (a Scenario from scenario.ts fits). */
export interface RunScenario {
  name: string;
  steps: ScenarioStep[];
  /** Preparation before the capture starts. */
  prepare?: PrepareStep[];
  /** A lab hook run before the phone is read (a factory reset), leaving the state the scenario starts from. */
  start?: { name: string; hook: LabHook };
}

/** Everything a run needs. */
export interface RunContext {
  runId: string;
  /** The broken attempts before this one (--retries), recorded in its result. */
  earlierAttempts?: EarlierAttempt[];
  /** reports/runs: the run folder is OUT/RUN_ID/SERIAL/SCENARIO. */
  outRoot: string;
  device: DeviceControl;
  capture: CaptureBackend;
  allowlist: Allowlist;
  /** The canary domain: canaries are start-RUNID.DOMAIN and end-RUNID.DOMAIN. */
  canaryDomain?: string;
  /** How long to wait after the last step for traffic to land in the capture, ms. */
  settleMs?: number;
  /** Deadline for each phone operation, ms. */
  stepDeadlineMs?: number;
  signal?: AbortSignal;
  /** Progress lines for a person. */
  onProgress?: (line: string) => void;
  /** The device profile: named actions and UI selectors. */
  profile?: DeviceProfile;
  /** The phone's UI (Appium), when available; actions fall back to their adb command without it. */
  ui?: Ui;
  /** Values of the variables UI steps type (accounts, passwords); never written anywhere. */
  typed?: Readonly<Record<string, string | undefined>>;
  /** The lab's command for each hook a step may use. */
  hooks?: Readonly<Partial<Record<LabHook, readonly string[]>>>;
  /** The lab's inventory: identifiers the phone will not tell, supplied per serial. */
  inventory?: Inventory;
  /** The phone as the output names it (phoneLabel: a USB serial masked); default its adb serial. */
  label?: string;
  /** Says where each endpoint is (harness/geo); without it flows carry no resp.geo. */
  locator?: Locator;
  /**
   * This profile and scenario's baseline from the history folder (its runs empty when none was
   * accepted yet); without it drift is not looked for.
   */
  baseline?: RunBaseline;
  /** TLS interception for this phone (harness/intercept), when the run intercepts. */
  intercept?: Interceptor;
}

/** Where Android keeps the system CAs apps trust: the Conscrypt APEX from Android 14. */
export function systemCaDir(sdk: number): string {
  return sdk >= 34 ? '/apex/com.android.conscrypt/cacerts' : '/system/etc/security/cacerts';
}

const SAFE_PART = /[^A-Za-z0-9._-]+/g;

/** How long a scenario's start hook (a factory reset and the boot after it) may take, ms. */
const START_HOOK_MS = 10 * 60_000;

/** A path component from an untrusted string (a serial like 127.0.0.1:5601 becomes 127.0.0.1_5601). */
export function pathPart(s: string): string {
  return s.replace(SAFE_PART, '_').replace(/^\.+/, '_') || '_';
}

/**
 * The identifiers a phone tells now, with what the inventory supplies for it: for masking what a start
 * hook prints before the run reads the phone as the hook leaves it. None when they cannot be read.
 */
async function identifiersBefore(ctx: RunContext, op: OpOptions): Promise<SoughtIdentifier[]> {
  let told: PhoneIdentifiers | undefined;
  try {
    const f = await ctx.device.facts(op);
    told = await readIdentifiers(ctx.device, { sdk: f.sdk, rooted: f.rooted, op });
  } catch (err) {
    if (err instanceof DeviceLostError) throw err;
  }
  return [...(told?.found ?? []), ...(ctx.inventory?.valuesFor(ctx.device.serial, told) ?? [])];
}

/** Names seen in the capture: flow names and DNS queries. */
function namesIn(analysis: Analysis): Set<string> {
  const out = new Set<string>();
  for (const f of analysis.flows) for (const n of f.names) out.add(n.name);
  for (const d of analysis.dns) out.add(d.query);
  return out;
}

/** Runs one scenario on one phone. Never throws for run failures: they are the result's outcome. */
export async function runOne(ctx: RunContext, scenario: RunScenario): Promise<RunResult> {
  const domain = ctx.canaryDomain ?? DEFAULT_CANARY_DOMAIN;
  const shown = ctx.label ?? ctx.device.serial;
  const dir = join(ctx.outRoot, pathPart(ctx.runId), pathPart(shown), pathPart(scenario.name));
  await mkdir(dir, { recursive: true });
  const op: OpOptions = {
    deadlineMs: ctx.stepDeadlineMs ?? 20_000,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  };
  const canaries = {
    start: `start-${pathPart(ctx.runId).toLowerCase()}.${domain}`,
    end: `end-${pathPart(ctx.runId).toLowerCase()}.${domain}`,
    startSeen: false,
    endSeen: false,
  };
  const result: RunResult = {
    formatVersion: RUN_FORMAT_VERSION,
    runId: ctx.runId,
    serial: shown,
    scenario: scenario.name,
    ...(ctx.profile ? { profile: ctx.profile.name } : {}),
    outcome: 'broken',
    reason: '',
    dir,
    phases: [],
    canaries,
    violations: [],
    ...(ctx.earlierAttempts?.length ? { earlierAttempts: ctx.earlierAttempts } : {}),
  };
  const rec = new PhaseRecorder(result, ctx.onProgress);
  let phoneIds: PhoneIdentifiers | undefined;
  let idKey = '';
  const log = (line: string) => rec.log(line);
  let session: CaptureSession | undefined;
  let interception: InterceptSession | undefined;
  let interceptFile: string | undefined;
  const interceptProblems: string[] = [];
  /** Stops interception (the proxy, its firewall rules); what went wrong goes to the log. */
  const stopInterception = async () => {
    const running = interception;
    if (!running) return;
    interception = undefined;
    const problems = await running.stop();
    for (const p of problems) await log(`interception: ${p}`);
    interceptProblems.push(...problems);
  };
  const logAbort = new AbortController();
  /** The capture, when a break left it running: stopped, with its figures, as the last phase. */
  const stopAfterBreak = async () => {
    logAbort.abort();
    const running = session;
    if (!running) return;
    session = undefined;
    const last = result.phases[result.phases.length - 1];
    const phase = last?.phase === 'capture stop' ? last : rec.begin('capture stop', 'capture stop');
    const stats = await running.stop().catch((err: unknown) => errorMessage(err));
    if (typeof stats === 'string') {
      if (phase.tsEnd === 0) rec.end(phase, 'broken', `the capture did not stop cleanly: ${stats}`);
      return;
    }
    result.capture = stats;
    phase.figures = { packets: stats.packets, dropped: stats.dropped, bytes: stats.bytes };
    if (phase.tsEnd === 0) rec.end(phase, 'passed', stats.notes.join('\n'));
  };
  /** The run broke in the phase under way: recorded, the capture stopped, a screenshot taken. */
  const broken = async (kind: Parameters<PhaseRecorder['broke']>[0], reason: string) => {
    await rec.broke(kind, reason);
    await stopAfterBreak();
    await stopInterception();
    await rec.save();
    await log(await saveScreenshot(ctx.device, dir));
    return result;
  };

  await log(`run ${ctx.runId}: ${scenario.name} on ${shown}`);
  try {
    const prepare = rec.begin('prepare', 'prepare');
    if (scenario.start) {
      // The state the scenario starts from is the lab's to make (a factory reset): done first, so
      // that everything read below is the phone as it left it.
      const startPart = rec.part(prepare, `lab hook ${scenario.start.hook}`);
      // What the lab's command prints may name the phone (its serial): masked with the identifiers the
      // phone has before the hook (a reset changes the Android ID, not the IMEI, serial or MACs).
      const hookRedact = await identifiersBefore(ctx, op).then(identifierRedactor);
      const r = await runLabHook(
        { ...ctx, dir, serial: ctx.device.serial, redact: hookRedact },
        scenario.start.hook,
        'start.out.txt',
        { ...op, deadlineMs: START_HOOK_MS },
      );
      if (!r.ok) {
        rec.end(startPart, 'broken', r.detail);
        return await broken('preparation', `${scenario.start.name} failed: ${r.detail}`);
      }
      // The hook returns once the phone is back; a phone reached over the network may need the adb
      // server to connect it again.
      const back = ctx.device.waitForReturn
        ? await ctx.device.waitForReturn({
            deadlineMs: START_HOOK_MS,
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          })
        : undefined;
      if (back && !back.back) {
        rec.end(startPart, 'broken', `${r.detail}; the phone did not come back: ${back.detail}`);
        return await broken(
          'device-lost',
          `after ${scenario.start.name} the phone did not come back: ${back.detail}`,
        );
      }
      // The phone restarted: its UI automation went with it.
      await ctx.ui?.renew?.(op);
      rec.end(startPart, 'passed', back ? `${r.detail}; phone ${back.detail}` : r.detail);
      await log(`${scenario.start.name}: ${startPart.detail}`);
    }
    const factsPart = rec.part(prepare, 'read device facts');
    // The facts as read (raw: the capture filter needs the MAC); the record gets them masked below.
    const f = await ctx.device.facts(op);
    result.facts = f;
    rec.end(factsPart, 'passed', `${f.manufacturer} ${f.model}, Android ${f.androidVersion}`);
    await log(`device: ${factsPart.detail}`);
    const speed = phoneSpeed(f.properties);
    if (speed !== 1)
      await log(`simulated phone: its time runs ${speed}× the wall clock's (${SIM_SPEED_PROPERTY})`);
    // A reboot between two adb commands goes unseen by them: the boot id at the end tells.
    const bootId = await readBootId(ctx.device, op);
    if (!bootId) await log('the phone does not tell its boot id: a reboot during the run would go unnoticed');
    // The identifiers the capture is searched for, read now; the raw values stay in memory.
    const idPart = rec.part(prepare, 'read identifiers');
    const inventory = ctx.inventory;
    try {
      const told = await readIdentifiers(ctx.device, { sdk: f.sdk, rooted: f.rooted, op });
      const supplied = inventory?.valuesFor(ctx.device.serial, told) ?? [];
      phoneIds = inventory ? withSupplied(told, supplied, inventory.file) : told;
      idKey = fingerprintKey();
      result.identifiers = maskedIdentifiers(phoneIds, idKey);
      rec.end(
        idPart,
        'passed',
        `${told.found.length} read, ${phoneIds.unread.length} not told` +
          (phoneIds.found.length > told.found.length
            ? `, ${phoneIds.found.length - told.found.length} supplied by the inventory`
            : ''),
      );
    } catch (err) {
      if (err instanceof DeviceLostError) throw err;
      // What the lab wrote down for this phone is still searched for.
      const supplied = inventory?.valuesFor(ctx.device.serial) ?? [];
      if (inventory && supplied.length > 0) {
        phoneIds = withSupplied({ found: [], unread: [], packages: [] }, supplied, inventory.file);
        idKey = fingerprintKey();
        result.identifiers = { ...maskedIdentifiers(phoneIds, idKey), error: errorMessage(err) };
        rec.end(
          idPart,
          'passed',
          `could not be read (${errorMessage(err)}): only the ${supplied.length} the inventory supplies are searched for`,
        );
      } else {
        result.identifiers = { read: [], unread: [], packages: 0, error: errorMessage(err) };
        rec.end(
          idPart,
          'passed',
          `could not be read (${errorMessage(err)}): the capture is not searched for them`,
        );
      }
    }
    await writeJsonFile(join(dir, 'identifiers.json'), result.identifiers);
    await log(`identifiers: ${idPart.detail}`);
    // The phone's identifiers are secrets in phonehome's own output: its facts are kept masked.
    if (phoneIds) result.facts = redactIdentifiers(structuredClone(f), phoneIds.found);
    await writeJsonFile(join(dir, 'device.json'), result.facts);
    for (const step of scenario.prepare ?? []) {
      const part = rec.part(prepare, step.kind);
      const r = await ctx.device.prepare(step, op);
      if (step.kind === 'reboot') await ctx.ui?.renew?.(op);
      rec.end(part, r.ok ? 'passed' : 'broken', r.detail);
      await log(`prepare ${r.step}: ${r.detail}`);
      if (!r.ok) return await broken('preparation', `preparation failed: ${r.step}: ${r.detail}`);
    }
    if (ctx.intercept) {
      // Whether the phone holds the lab's CA: without it every TLS connection refuses the proxy.
      const part = rec.part(prepare, 'interception CA on the phone');
      const ca = await ctx.intercept.ca().catch((err: unknown) => errorMessage(err));
      if (typeof ca === 'string') {
        rec.end(part, 'broken', ca);
        return await broken('infrastructure', `interception not working: ${ca}`);
      }
      const path = `${systemCaDir(f.sdk)}/${ca.fileName}`;
      const held = await ctx.device.shell(`ls ${path}`, op);
      let detail = `${path} is there`;
      if (held.exitCode !== 0 || !held.output.toString('utf8').includes(ca.fileName)) {
        const r = ctx.intercept.installCa
          ? await ctx.device.prepare({ kind: 'install-ca', pem: ca.pem, fileName: ca.fileName }, op)
          : undefined;
        detail = r?.ok
          ? r.detail
          : `${path} is not there${r ? ` and could not be installed (${r.detail})` : ''}: the phone will refuse mitmproxy's certificates`;
      }
      rec.end(part, 'passed', detail);
      await log(`interception: ${part.detail}`);
    }
    rec.end(prepare, 'passed');

    if (ctx.intercept) {
      const part = rec.begin('intercept start', 'interception start', {
        figures: { tool: ctx.intercept.name },
      });
      try {
        interception = await ctx.intercept.start({ dir, phoneAddrs: phoneAddrs(f), ...op });
      } catch (err) {
        if (err instanceof InterceptError)
          return await broken('infrastructure', `interception not working: ${err.message}`);
        throw err;
      }
      interceptFile = interception.file;
      rec.end(part, 'passed', interception.notes.join('\n'));
      for (const n of interception.notes) await log(`interception: ${n}`);
    }

    const capStart = rec.begin('capture start', 'capture start', { figures: { backend: ctx.capture.name } });
    const target = { addrs: phoneAddrs(f), ...(f.wifiMac ? { mac: f.wifiMac } : {}) };
    try {
      session = await ctx.capture.start({ file: join(dir, 'capture.pcap'), target, ...op });
    } catch (err) {
      if (err instanceof CaptureError) return await broken('capture', `capture not working: ${err.reason}`);
      throw err;
    }
    rec.end(capStart, 'passed');
    await log(`capture: ${ctx.capture.name} started`);
    // One masking function for the log's lines and the steps' output: its pattern is built once.
    const redact = identifierRedactor(phoneIds?.found ?? []);
    void recordLog(ctx.device, join(dir, 'logcat.txt'), logAbort.signal, redact);

    const canary = async (name: string) => {
      const c = rec.begin('canary', name);
      rec.end(c, 'passed', await sendCanary(ctx.device, name, op));
      await log(`canary ${name}: ${c.detail}`);
    };
    await canary(canaries.start);
    for (const step of scenario.steps) {
      const s = rec.begin('step', step.name, { kind: step.kind });
      await log(`step ${step.name}`);
      const done = await runStep(
        { ...ctx, dir, redact, serial: ctx.device.serial },
        step,
        scenarioSteps(result).length,
        op,
      );
      s.provider = done.provider;
      if (done.screenshot) s.screenshot = done.screenshot;
      if (!done.ok) {
        const reason =
          step.kind === 'adb'
            ? `step "${step.name}" ${done.detail}`
            : `step "${step.name}" failed: ${done.detail}`;
        return await broken('step', reason);
      }
      // A step that could not run here (the suite skips such scenarios before they start): the
      // scenario is half done, which is not a pass.
      if (done.skipped) return await broken('step', `step "${step.name}" could not run: ${done.detail}`);
      rec.end(s, done.notForThisPhone ? 'skipped' : 'passed', done.detail);
      await rec.save();
    }
    await canary(canaries.end);
    const bootIdNow = bootId ? await readBootId(ctx.device, op) : undefined;
    if (bootId && bootIdNow !== bootId)
      return await broken(
        'device-lost',
        `phone lost: it rebooted during the run (boot id ${bootId.slice(0, 8)}… ${bootIdNow ? `is now ${bootIdNow.slice(0, 8)}…` : 'can no longer be read'}); the capture does not cover one boot`,
      );
    // The capture stops once the traffic of the last step has had time to land in it.
    rec.begin('capture stop', 'capture stop');
    await sleep(ctx.settleMs ?? 1_000, ctx.signal);
  } catch (err) {
    if (err instanceof DeviceLostError) return await broken('device-lost', `phone lost: ${err.message}`);
    if (ctx.signal?.aborted) {
      const why = errorMessage(ctx.signal.reason);
      return await broken('interrupted', why.startsWith('interrupted') ? why : `interrupted: ${why}`);
    }
    return await broken('infrastructure', `infrastructure error: ${errorMessage(err)}`);
  }

  logAbort.abort();
  const capStop = result.phases[result.phases.length - 1]!;
  const running = session!;
  session = undefined;
  try {
    result.capture = await running.stop(op);
  } catch (err) {
    if (err instanceof CaptureError) return await broken('capture', `capture not working: ${err.reason}`);
    if (err instanceof DeviceLostError) return await broken('device-lost', `phone lost: ${err.message}`);
    throw err;
  }
  await stopInterception();
  const cap = result.capture;
  capStop.figures = { packets: cap.packets, dropped: cap.dropped, bytes: cap.bytes };
  rec.end(capStop, 'passed', cap.notes.join('\n'));
  await log(`capture: ${cap.packets} packets, drops ${cap.dropped}`);
  await rec.save();

  const analyse = rec.begin('analysis', 'analyse');
  let analysis: Analysis;
  let exchanges: ReturnType<typeof parseExchanges> | undefined;
  if (ctx.intercept && interceptFile) {
    try {
      exchanges = parseExchanges(await readFile(interceptFile, 'utf8').catch(() => ''), interceptFile);
    } catch (err) {
      return await broken('infrastructure', `interception not working: ${errorMessage(err)}`);
    }
  }
  try {
    analysis = await analyzeFile(join(dir, 'capture.pcap'), {
      deviceAddrs: phoneAddrs(result.facts!),
      ...(ctx.locator ? { locator: ctx.locator } : {}),
      ...(exchanges && ctx.intercept
        ? { intercept: { log: exchanges, ignore: ctx.intercept.ignoreHosts } }
        : {}),
      ...(phoneIds && phoneIds.found.length > 0
        ? { identifiers: { sought: phoneIds.found, key: idKey, packages: phoneIds.packages } }
        : {}),
    });
  } catch (err) {
    return await broken(
      'capture',
      `capture not working: the capture file cannot be read (${errorMessage(err)})`,
    );
  }
  if (analysis.flows.some((fl) => fl.app)) {
    // The capture knows apps by UID (PCAPdroid's trailer): name them by package, as the phone does.
    try {
      const uids = await ctx.device.packageUids(op);
      for (const fl of analysis.flows) {
        const pkgs = fl.app ? uids.get(fl.app.uid) : undefined;
        if (fl.app && pkgs) fl.app.package = pkgs.join(',');
      }
    } catch (err) {
      await log(`cannot map app UIDs to packages: ${errorMessage(err)}`);
    }
  }
  try {
    await writeJsonFile(join(dir, 'flows.json'), analysis);
  } catch (err) {
    return await broken('infrastructure', `cannot write flows.json: ${errorMessage(err)}`);
  }
  analyse.figures = {
    flows: analysis.flows.length,
    'DNS responses': analysis.dns.length,
    frames: analysis.capture?.frames ?? '',
  };
  const seen = namesIn(analysis);
  canaries.startSeen = seen.has(canaries.start);
  canaries.endSeen = seen.has(canaries.end);
  for (const [which, wasSeen, name] of [
    ['start', canaries.startSeen, canaries.start],
    ['end', canaries.endSeen, canaries.end],
  ] as const) {
    const part = rec.part(analyse, `${which} canary in the capture`);
    rec.end(part, wasSeen ? 'passed' : 'broken', `${name} ${wasSeen ? 'seen' : 'not seen'}`);
  }
  if (!canaries.startSeen || !canaries.endSeen) {
    const missing = [canaries.startSeen ? '' : 'start', canaries.endSeen ? '' : 'end']
      .filter(Boolean)
      .join(' and ');
    // A capture that read nothing says so: the same rule analyze refuses such a capture by.
    const seenText = nothingToJudge(analysis) ?? `${analysis.flows.length} flows seen`;
    return await broken(
      'capture',
      `capture not working: the ${missing} canary is not in the capture (${seenText})`,
    );
  }
  const seenInside = analysis.intercept;
  if (exchanges) {
    // What people see of the exchanges: identifiers masked, bodies left out (the raw file is the evidence).
    try {
      await writeFileAtomic(
        join(dir, 'exchanges.masked.jsonl'),
        maskedExchangeLines(exchanges, identifierRedactor(phoneIds?.found ?? [])),
      );
    } catch (err) {
      return await broken('infrastructure', `cannot write exchanges.masked.jsonl: ${errorMessage(err)}`);
    }
  }
  if (seenInside) {
    analyse.figures = {
      ...analyse.figures,
      'TLS connections read inside': `${seenInside.decryptedFlows} of ${seenInside.tlsFlows}`,
    };
    const part = rec.part(analyse, 'interception');
    const problem = seenInside.problem;
    if (problem && ctx.intercept?.onFailure !== 'warn') {
      rec.end(part, 'broken', problem);
      return await broken('infrastructure', problem);
    }
    rec.end(
      part,
      'passed',
      problem ??
        `${seenInside.exchanges} requests read in ${seenInside.decryptedFlows} of ${seenInside.tlsFlows} TLS connections`,
    );
  }
  rec.end(analyse, 'passed');

  const judging = rec.begin('verdict', 'verdict', { figures: { allowlists: '' } });
  // An ICMP error the phone only received (a QUIC packet rejected while interception runs, a port
  // unreachable) is the network's answer to something the phone sent, judged with that: not a contact.
  const flows = judgedFlows(analysis.flows, domain);
  // Connections the phone had open when the capture began show up midstream, their names unseen; a
  // capture that dropped nothing tells them apart from connections whose start was lost.
  const verdict = judge(flows, ctx.allowlist, {
    captureComplete: cap.dropped === 0,
    ...(analysis.identifiers ? { leaks: analysis.identifiers.leaks } : {}),
    ...(analysis.geo ? { geo: analysis.geo } : {}),
  });
  if (analysis.intercept) {
    verdict.intercept = analysis.intercept;
    if (analysis.intercept.problem) verdict.warnings.push(analysis.intercept.problem);
    verdict.warnings.push(
      ...analysis.intercept.warnings,
      ...interceptProblems.map((p) => `interception: ${p}`),
    );
  }
  if (!analysis.identifiers)
    verdict.warnings.push(
      "the capture was not searched for the phone's identifiers: none could be read from it",
    );
  result.verdict = verdict;
  judging.figures = { allowlists: verdict.allowlistFiles.join(', ') };
  const steps = scenarioSteps(result);
  // What changed against the runs accepted before for this profile and scenario.
  const summary = summarizeRun({ flows }, analysis.identifiers?.leaks ?? [], {
    runId: ctx.runId,
    scenario: scenario.name,
    ...(ctx.profile ? { profile: ctx.profile.name } : {}),
    stepAt: (ts) => stepAt(steps, ts),
  });
  const drifted = driftSection(ctx.allowlist.drift, ctx.baseline, summary);
  result.drift = drifted;
  // What the run was compared with, kept with it: the baseline file changes night by night.
  const files: [string, unknown][] = [
    // What the run did, reduced (harness/drift/summary.ts): for baselines and consent twins.
    ['summary.json', summary],
    ...(ctx.baseline && drifted.policy !== 'off'
      ? [
          [
            'baseline.json',
            {
              formatVersion: BASELINE_COPY_FORMAT_VERSION,
              file: ctx.baseline.file,
              earlier: ctx.baseline.runs.filter((r) => r.runId !== ctx.runId),
              run: summary,
            },
          ] as [string, unknown],
        ]
      : []),
    ['verdict.json', { formatVersion: VERDICT_FORMAT_VERSION, ...verdict, drift: drifted }],
  ];
  for (const [name, value] of files) {
    try {
      await writeJsonFile(join(dir, name), value);
    } catch (err) {
      return await broken('infrastructure', `cannot write ${name}: ${errorMessage(err)}`);
    }
  }
  const leaked = (verdict.identifierLeaks ?? []).filter(
    (j) => j.status === 'forbidden' || j.status === 'unlisted',
  );
  if (verdict.cannotJudge) {
    // Rules about where traffic goes with nothing to answer them: the lab's setup, not the phone.
    return await broken(
      'infrastructure',
      `the allowlist cannot be applied: ${verdict.cannotJudge.join('; ')}`,
    );
  }
  result.violations = [
    ...verdict.violations.map((v) => ({
      // A name asked of the resolver and the same name contacted are two violations: say which.
      subject: v.provenance === 'dns-query' ? `${v.subject} (asked of the resolver)` : v.subject,
      ruleText: v.ruleText,
      step: stepAt(steps, v.firstSeen),
      ts: v.firstSeen,
    })),
    ...verdict.budgets
      .filter((b) => b.exceeded)
      .map((b) => {
        const first = flows.find((f) => f.uid === b.flows[0]);
        const ts = first?.tsStart ?? 0;
        return {
          subject: `budget for ${b.rule.match}`,
          ruleText: `${b.bytes} bytes in ${b.connections} connections: ${b.ruleText}`,
          step: stepAt(steps, ts),
          ts,
        };
      }),
    ...(drifted.policy === 'fail' ? drifted.findings : []).map((d) => ({
      subject: `drift: ${d.kind} ${d.subject}`,
      ruleText: `${d.detail} (drift: fail)`,
      step: d.step ?? 'the whole run',
      // Drift is about the run as a whole: after the moment-bound violations.
      ts: Number.MAX_SAFE_INTEGER,
    })),
    ...leakViolations(leaked).map((g) => ({
      subject: `${g.kind} ${g.masked} sent to ${g.subject}`,
      ruleText: `${g.place} as ${g.encoding} (×${g.count} in ${g.flows} ${g.flows === 1 ? 'flow' : 'flows'}): ${g.ruleText}`,
      step: stepAt(steps, g.firstSeen),
      ts: g.firstSeen,
    })),
  ]
    .sort((a, b) => a.ts - b.ts)
    .map(({ ts: _ts, ...v }) => v);
  const driftFails = drifted.policy === 'fail' && drifted.findings.length > 0;
  const policyBroken =
    verdict.violations.length > 0 ||
    verdict.budgets.some((b) => b.exceeded) ||
    leaked.length > 0 ||
    driftFails;
  if (verdict.outcome === 'allowed' && !driftFails) {
    result.outcome = 'passed';
    result.reason = `${flows.length} flows, all allowed${drifted.findings.length ? `; ${drifted.findings.length} drift finding${drifted.findings.length === 1 ? '' : 's'} (drift: warn)` : ''}`;
    rec.end(judging, 'passed', result.reason);
  } else if (!policyBroken) {
    // Expectations are positive controls: a run that never reached them did not do what it says.
    const missing = verdict.unmetExpectations.map(unmetText).join('; ');
    return await broken('no-proof', `the scenario did not prove it ran: ${missing}`);
  } else {
    result.outcome = 'failed';
    const overBudget = verdict.budgets.filter((b) => b.exceeded);
    result.reason = [
      verdict.violations.length ? `${verdict.violations.length} violations` : '',
      leaked.length ? `${leakViolations(leaked).length} identifier leaks` : '',
      verdict.unmetExpectations.length ? `${verdict.unmetExpectations.length} unmet expectations` : '',
      overBudget.length
        ? `${overBudget.length} budget${overBudget.length === 1 ? '' : 's'} exceeded (${overBudget
            .map((b) => `${b.rule.match}: ${b.connections} connections, ${b.bytes} bytes`)
            .join('; ')})`
        : '',
      driftFails ? `${drifted.findings.length} drift findings` : '',
    ]
      .filter(Boolean)
      .join(', ');
    rec.end(judging, 'failed', result.reason);
    await log(await saveScreenshot(ctx.device, dir));
  }
  if (rec.writeFailure)
    return await broken('infrastructure', `the run's record is not all on disk: ${rec.writeFailure}`);
  await log(`${result.outcome}: ${result.reason}`);
  for (const v of result.violations) await log(`violation: ${v.subject} during ${v.step}: ${v.ruleText}`);
  for (const w of verdict.warnings) await log(`warning: ${w}`);
  if (drifted.note) await log(`drift: ${drifted.note}`);
  for (const d of drifted.findings) await log(`drift (${drifted.policy}): ${findingLine(d)}`);
  await rec.save();
  return result;
}

/** Leaks of one identifier to one host in one place and form, over every flow: one line each. */
function leakViolations(judged: LeakJudgement[]) {
  const groups = new Map<
    string,
    {
      kind: string;
      masked: string;
      subject: string;
      place: string;
      encoding: string;
      ruleText: string;
      count: number;
      flows: number;
      firstSeen: number;
    }
  >();
  for (const j of judged) {
    const l = j.leak;
    const key = [l.kind, l.fingerprint, l.masked, j.subject, l.place, l.encoding, j.ruleText].join('\0');
    const g = groups.get(key);
    if (g) {
      g.count += l.count;
      g.flows += 1;
      g.firstSeen = Math.min(g.firstSeen, l.firstSeen);
    } else
      groups.set(key, {
        kind: l.kind,
        masked: l.masked,
        subject: j.subject,
        place: l.place,
        encoding: l.encoding,
        ruleText: j.ruleText,
        count: l.count,
        flows: 1,
        firstSeen: l.firstSeen,
      });
  }
  return [...groups.values()];
}
