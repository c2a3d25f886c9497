/**
 * The things a run does on the phone besides capturing: a scenario step (an adb command, a profile
 * action through the UI or its adb equivalent, a wait), the canaries, the phone's log and screenshots.
 */

import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Transform } from 'node:stream';
import { type OpOptions, sleep } from '../deadline.js';
import type { DeviceProfile } from '../device/profiles.js';
import { errorMessage } from '../errors.js';
import type { StepProvider } from '../record/run-record.js';
import type { DeviceControl } from './device-control.js';
import type { LabHook, ScenarioStep } from './scenario.js';
import type { Ui, UiSelector, UiStepResult } from './ui.js';

/** What carrying out a step needs. */
export interface StepContext {
  device: DeviceControl;
  /** The device profile: named actions and UI selectors. */
  profile?: DeviceProfile;
  /** The phone's UI (Appium), when available. */
  ui?: Ui;
  /** The run folder, for screenshots and a failed command's output. */
  dir: string;
  signal?: AbortSignal;
  /** Masks the phone's identifiers in text the run keeps (a failed command's output). */
  redact?: (text: string) => string;
  /** Values of the variables UI steps type (accounts, passwords); never written anywhere. */
  typed?: Readonly<Record<string, string | undefined>>;
  /** The lab's command for each hook (argv; `{serial}` stands for the phone's adb serial). */
  hooks?: Readonly<Partial<Record<LabHook, readonly string[]>>>;
  /** The phone's adb serial, for `{serial}` in a hook's command. */
  serial?: string;
}

/** What a step did. */
export interface StepDone {
  ok: boolean;
  /** It could not run here (a UI step with no UI and no adb equivalent). */
  skipped?: boolean;
  /**
   * It is not for this phone (an action only for phones with a capability this one lacks): left out,
   * and the scenario goes on.
   */
  notForThisPhone?: boolean;
  /** Who carried it out. */
  provider: StepProvider;
  /** One line for the record. */
  detail: string;
  /** Screenshot file written to the run folder after a UI step. */
  screenshot?: string;
}

/** Carries out one scenario step; `stepNo` (from 1) names its files. */
export async function runStep(
  ctx: StepContext,
  step: ScenarioStep,
  stepNo: number,
  op: OpOptions,
): Promise<StepDone> {
  if (step.kind === 'wait') {
    await sleep(step.ms, ctx.signal);
    return { ok: true, provider: 'wait', detail: `waited ${step.ms} ms` };
  }
  if (step.kind === 'action') {
    if (
      step.ifCapability !== undefined &&
      ctx.profile &&
      !ctx.profile.capabilities.includes(step.ifCapability)
    )
      return {
        ok: true,
        notForThisPhone: true,
        provider: 'none',
        detail: `left out: only for phones with ${step.ifCapability}, which the ${ctx.profile.name} profile does not declare`,
      };
    return runAction(ctx, step.action, stepNo, op);
  }
  if (step.kind === 'lab') return runLabHook(ctx, step.hook, `step-${stepNo}.out.txt`, op);
  const r = await ctx.device.shell(step.command, op);
  if (step.expectExit !== undefined && r.exitCode !== step.expectExit) {
    const text = r.output.toString('utf8');
    await writeFile(join(ctx.dir, `step-${stepNo}.out.txt`), ctx.redact ? ctx.redact(text) : text);
    return { ok: false, provider: 'adb', detail: `exited ${r.exitCode}, expected ${step.expectExit}` };
  }
  return { ok: true, provider: 'adb', detail: `exit ${r.exitCode}` };
}

/**
 * Runs the lab's command for a hook (no shell: the argv as configured, `{serial}` replaced by the
 * phone's adb serial), up to the deadline. Its output (masked) goes to `outFile` in the run folder.
 */
export async function runLabHook(
  ctx: Pick<StepContext, 'hooks' | 'serial' | 'dir' | 'redact' | 'signal'>,
  hook: LabHook,
  outFile: string,
  op: OpOptions,
): Promise<StepDone> {
  const argv = ctx.hooks?.[hook];
  if (!argv || argv.length === 0)
    return { ok: false, provider: 'lab', detail: `the lab gives no command for the hook ${hook}` };
  const [file, ...args] = argv.map((a) => a.split('{serial}').join(ctx.serial ?? ''));
  const timeout = op.deadlineMs ?? 60_000;
  const r = await new Promise<{ code: number | null; out: string; error?: string }>((done) => {
    execFile(
      file!,
      args,
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 1024 * 1024,
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (!err) return done({ code: 0, out });
        const e = err as NodeJS.ErrnoException & { code?: unknown; killed?: boolean };
        if (typeof e.code === 'number') return done({ code: e.code, out });
        done({ code: null, out, error: e.killed ? `did not end within ${timeout} ms` : e.message });
      },
    );
  });
  const text = ctx.redact ? ctx.redact(r.out) : r.out;
  if (text.trim()) await writeFile(join(ctx.dir, outFile), text);
  const shown = `${hook}: ${basename(file!)}`;
  // The lab's own words, but they reach a terminal: no control characters.
  const first = (text.trim().split('\n')[0] ?? '')
    .slice(0, 200)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  if (r.code === 0)
    return { ok: true, provider: 'lab', detail: `lab hook ${shown} exit 0${first ? `: ${first}` : ''}` };
  return {
    ok: false,
    provider: 'lab',
    detail: `lab hook ${shown} ${r.code === null ? r.error : `exited ${r.code}`}${first ? `: ${first}` : ''}`,
  };
}

/** Types a variable's value into a field; the detail names the variable, never its value. */
async function typeFrom(
  ui: Ui,
  selector: UiSelector,
  variable: string,
  value: string | undefined,
  op: OpOptions,
): Promise<UiStepResult> {
  if (value === undefined || value === '') throw new Error(`$${variable} is not set: nothing to type`);
  const r = await ui.typeText(selector, value, op);
  return { ...r, detail: `${r.detail.replace(/^typed/, `typed $${variable}`)}` };
}

/** Types text the profile gives (nothing secret) into a field; the detail shows it. */
async function typeLiteral(ui: Ui, selector: UiSelector, text: string, op: OpOptions): Promise<UiStepResult> {
  const r = await ui.typeText(selector, text, { ...op, secret: false });
  return { ...r, detail: r.detail.replace(/^typed/, `typed ${JSON.stringify(text)}`) };
}

/** Runs a named action of the device profile: UI steps when a UI is there, else its adb command. */
async function runAction(ctx: StepContext, name: string, stepNo: number, op: OpOptions): Promise<StepDone> {
  const action = ctx.profile?.actions[name];
  if (!action) return { ok: false, provider: 'none', detail: `the device profile has no action "${name}"` };
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
                : 'type' in st
                  ? 'env' in st
                    ? await typeFrom(ui, sel(st.type), st.env, ctx.typed?.[st.env], op)
                    : await typeLiteral(ui, sel(st.type), st.text, op)
                  : 'back' in st
                    ? await ui.back(op)
                    : await ui.home(op);
        details.push(r.detail);
        if (r.screenshot) shot = r.screenshot;
      }
    } catch (err) {
      // An error may quote what was typed (a field that would not take it): the variable's name instead.
      let why = errorMessage(err);
      for (const st of action.ui) {
        const value = 'env' in st ? ctx.typed?.[st.env] : undefined;
        if (value) why = why.split(value).join(`$${(st as { env: string }).env}`);
      }
      return { ok: false, provider: 'ui', detail: `UI: ${[...details, why].join('; ')}` };
    }
    let screenshot: string | undefined;
    // A screen after typing an account may show it: no picture of it goes into the report.
    if (action.ui.some((st) => 'env' in st)) shot = undefined;
    if (shot) {
      screenshot = `step-${stepNo}.png`;
      await writeFile(join(ctx.dir, screenshot), shot);
    }
    return {
      ok: true,
      provider: 'ui',
      detail: `UI: ${details.join('; ')}`,
      ...(screenshot ? { screenshot } : {}),
    };
  }
  if (action.adb !== undefined) {
    const r = await ctx.device.shell(action.adb, op);
    const why = ctx.ui ? 'the action has no UI steps' : 'no UI automation in this run';
    return r.exitCode === 0
      ? { ok: true, provider: 'adb', detail: `over adb (${why}): ${action.adb}` }
      : {
          ok: false,
          provider: 'adb',
          detail: `over adb: ${action.adb} exited ${r.exitCode}: ${r.output.toString().trim().slice(0, 200)}`,
        };
  }
  return {
    ok: true,
    skipped: true,
    provider: 'none',
    detail: 'skipped: this action has only UI steps and the run has no UI automation (Appium)',
  };
}

/**
 * Makes the phone resolve and contact a unique name, so the capture can prove it saw the phone.
 * ping resolves the name through the phone's resolver (a DNS query in the capture) and sends ICMP;
 * its exit status does not matter: a lab DNS may not answer the name. Returns what happened.
 */
export async function sendCanary(device: DeviceControl, name: string, op: OpOptions): Promise<string> {
  const r = await device.shell(`ping -c 1 -W 2 ${name}`, op);
  return `ping exit ${r.exitCode}`;
}

/** Records the phone's log into `file` until the signal aborts. */
export async function recordLog(
  device: DeviceControl,
  file: string,
  signal: AbortSignal,
  redact: (line: string) => string = (l) => l,
): Promise<void> {
  const out = createWriteStream(file);
  try {
    const stream = await device.log({ signal, deadlineMs: 10_000 });
    // Line by line, so that a value is never cut in two between chunks before it is masked.
    let rest = '';
    const lines = new Transform({
      transform(chunk: Buffer, _enc, done) {
        const text = rest + chunk.toString('utf8');
        const nl = text.lastIndexOf('\n');
        rest = nl < 0 ? text : text.slice(nl + 1);
        done(
          null,
          nl < 0
            ? ''
            : text
                .slice(0, nl + 1)
                .split('\n')
                .map(redact)
                .join('\n'),
        );
      },
      flush(done) {
        done(null, rest ? redact(rest) : '');
      },
    });
    stream.pipe(lines).pipe(out);
    // The listener goes with the log, or a suite's long signal would collect one per run.
    let onAbort = () => {};
    await new Promise<void>((resolve) => {
      onAbort = resolve;
      stream.once('close', resolve);
      stream.once('end', resolve);
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', onAbort, { once: true });
    }).finally(() => signal.removeEventListener('abort', onAbort));
  } catch {
    // A phone without logcat or gone: the run reports the phone itself.
  } finally {
    out.end();
  }
}

/** Saves a screenshot of the phone as screenshot.png; returns the run.log line. */
export async function saveScreenshot(device: DeviceControl, dir: string): Promise<string> {
  try {
    await writeFile(join(dir, 'screenshot.png'), await device.screenshot({ deadlineMs: 10_000 }));
    return 'screenshot saved';
  } catch (err) {
    return `no screenshot: ${errorMessage(err)}`;
  }
}

const BOOT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The kernel's id of the phone's current boot (/proc/sys/kernel/random/boot_id, readable by the adb
 * shell), or undefined when the phone does not tell it. A different id later means it rebooted.
 */
export async function readBootId(device: DeviceControl, op: OpOptions): Promise<string | undefined> {
  const r = await device.shell('cat /proc/sys/kernel/random/boot_id', op);
  const id = r.output.toString('utf8').trim();
  return r.exitCode === 0 && BOOT_ID.test(id) ? id : undefined;
}
