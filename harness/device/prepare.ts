/**
 * Preparation steps a scenario can ask for, to put a phone in a known state. Each is idempotent, takes
 * a deadline, and says what it did (or why the phone is not fit to run).
 */

import type { OpOptions } from '../deadline.js';
import { sleep } from '../deadline.js';
import { AdbCommandError, DeviceLostError } from '../errors.js';
import { type AdbDevice, shellQuote } from './adb.js';
import { parseBattery, parseIpAddr } from './facts.js';
import { installCa } from './install-ca.js';

/** One thing to do before a scenario. */
export type PrepareStep =
  | { kind: 'wake-unlock' }
  | { kind: 'stay-awake' }
  | { kind: 'wifi-on' }
  | { kind: 'set-clock' }
  | { kind: 'reset-packages'; packages: string[]; clearData: boolean }
  | { kind: 'setting'; namespace: 'global' | 'secure' | 'system'; key: string; value: string }
  | { kind: 'reboot' }
  | { kind: 'battery-gate'; minLevel: number; maxTemperature: number }
  /** The lab's interception CA (PEM) into the system store as `fileName` (`<hash>.0`); root needed. */
  | { kind: 'install-ca'; pem: string; fileName: string }
  /**
   * The phone is fresh from a factory reset, in its setup wizard: Android's device_provisioned is 0.
   * A phone already set up is not fit (the scenario would measure something else).
   */
  | { kind: 'setup-wizard' };

/** What a step did. */
export interface PrepareResult {
  step: PrepareStep['kind'];
  /** True when the phone is in the wanted state afterwards. */
  ok: boolean;
  /** What was done or found, in words. */
  detail: string;
}

const PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)+$/;
const SETTING_KEY = /^[A-Za-z0-9_.:-]+$/;

/** A setting's value as the phone printed it, safe for a terminal (it is the phone's text). */
function shown(value: string): string {
  return /^[\w.-]{1,20}$/.test(value) ? value : `"${value.slice(0, 20).replace(/[^\x20-\x7e]/g, '?')}"`;
}

/** True when `dumpsys window` / `dumpsys power` say the screen is locked or off. */
export function isLockedOrOff(windowText: string, powerText: string): boolean {
  if (/mShowingLockscreen=true|mDreamingLockscreen=true/.test(windowText)) return true;
  if (/mCurrentFocus.+Keyguard/i.test(windowText)) return true;
  const fully = /mScreenOnFully=(\w+)/.exec(windowText)?.[1];
  if (fully !== undefined && fully !== 'true') return true;
  return /^[\s\w]+wakefulness[^=]*=(Asleep|Dozing)$/im.test(powerText);
}

/** Runs one preparation step. */
export async function prepare(
  device: AdbDevice,
  step: PrepareStep,
  opts: OpOptions = {},
): Promise<PrepareResult> {
  const o = { deadlineMs: 15_000, ...opts };
  switch (step.kind) {
    case 'wake-unlock': {
      const state = async () =>
        isLockedOrOff(await device.sh('dumpsys window', o), await device.sh('dumpsys power', o));
      if (!(await state())) return { step: step.kind, ok: true, detail: 'screen already on and unlocked' };
      await device.sh('input keyevent 224', o);
      await device.shell('wm dismiss-keyguard', o);
      await device.shell('input keyevent 82', o);
      const ok = !(await state());
      return {
        step: step.kind,
        ok,
        detail: ok
          ? 'woke the screen and dismissed the keyguard'
          : 'the screen stays locked: is a secure lock set?',
      };
    }
    case 'stay-awake':
      await device.sh('settings put global stay_on_while_plugged_in 7', o);
      return { step: step.kind, ok: true, detail: 'stays awake while charging (stay_on_while_plugged_in=7)' };
    case 'wifi-on': {
      await device.sh('svc wifi enable', o);
      const until = Date.now() + (opts.deadlineMs ?? 20_000);
      while (Date.now() < until) {
        const r = await device.shell('ip addr show wlan0', o);
        const { ip } = parseIpAddr(r.output.toString());
        if (ip) return { step: step.kind, ok: true, detail: `Wi-Fi on, address ${ip}` };
        await sleep(500, opts.signal);
      }
      return { step: step.kind, ok: false, detail: 'Wi-Fi did not get an address in time' };
    }
    case 'set-clock': {
      const r = await device.shell('date +%s', o);
      const phone = Number.parseInt(r.output.toString().trim(), 10);
      const skew = Number.isFinite(phone) ? phone - Math.floor(Date.now() / 1000) : Number.NaN;
      if (Math.abs(skew) <= 2)
        return { step: step.kind, ok: true, detail: `clock within ${Math.abs(skew)} s` };
      const su = await device.shell(`su -c 'date @${Math.floor(Date.now() / 1000)}'`, o);
      if (su.exitCode === 0) return { step: step.kind, ok: true, detail: `clock set (was ${skew} s off)` };
      return {
        step: step.kind,
        ok: true,
        detail: `clock is ${skew} s off and cannot be set without root; timestamps from the phone are shifted by that`,
      };
    }
    case 'reset-packages': {
      const done: string[] = [];
      for (const pkg of step.packages) {
        if (!PACKAGE.test(pkg))
          throw new AdbCommandError('prepare reset-packages', undefined, `not a package name: ${pkg}`);
        await device.sh(`am force-stop ${pkg}`, o);
        if (step.clearData) {
          const r = await device.shell(`pm clear ${pkg}`, o);
          done.push(`${pkg}${/Success/.test(r.output.toString()) ? ' cleared' : ' stopped (clear failed)'}`);
        } else done.push(`${pkg} stopped`);
      }
      return { step: step.kind, ok: true, detail: done.join(', ') || 'nothing to reset' };
    }
    case 'setting': {
      if (!SETTING_KEY.test(step.key))
        throw new AdbCommandError('prepare setting', undefined, `not a setting key: ${step.key}`);
      await device.sh(`settings put ${step.namespace} ${step.key} ${shellQuote(step.value)}`, o);
      const now = (await device.sh(`settings get ${step.namespace} ${step.key}`, o)).trim();
      return {
        step: step.kind,
        ok: now === step.value,
        detail: `${step.namespace} ${step.key} = ${now}${now === step.value ? '' : ` (wanted ${step.value})`}`,
      };
    }
    case 'reboot':
      await device.reboot(o);
      await sleep(1_000, opts.signal);
      await device.waitBootCompleted({
        deadlineMs: opts.deadlineMs ?? 180_000,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      return { step: step.kind, ok: true, detail: 'rebooted and boot completed' };
    case 'setup-wizard': {
      const provisioned = (await device.sh('settings get global device_provisioned', o)).trim();
      const complete = (await device.sh('settings get secure user_setup_complete', o)).trim();
      if (provisioned === '0')
        return {
          step: step.kind,
          ok: true,
          detail: `in its setup wizard (device_provisioned 0, user_setup_complete ${shown(complete)})`,
        };
      return {
        step: step.kind,
        ok: false,
        detail: `the phone is already set up (device_provisioned ${shown(provisioned)}): this scenario starts in the setup wizard after a factory reset, which the lab's phone.reset hook (or a person, following the lab's procedure) does first`,
      };
    }
    case 'install-ca': {
      if (!/^[0-9a-f]{8}\.\d$/.test(step.fileName))
        return { step: step.kind, ok: false, detail: `not a CA file name: ${step.fileName}` };
      const sdk = Number.parseInt((await device.sh('getprop ro.build.version.sdk', o)).trim(), 10) || 0;
      try {
        const r = await installCa(device, step.pem, step.fileName, sdk, o);
        return {
          step: step.kind,
          ok: true,
          detail: r.installed ? `installed ${r.file} (until the phone reboots)` : `${r.file} already there`,
        };
      } catch (err) {
        if (err instanceof DeviceLostError) throw err;
        return { step: step.kind, ok: false, detail: (err as Error).message };
      }
    }
    case 'battery-gate': {
      const b = parseBattery(await device.sh('dumpsys battery', o));
      const problems: string[] = [];
      if (b.level !== undefined && b.level < step.minLevel)
        problems.push(`battery at ${b.level}% (< ${step.minLevel}%)`);
      if (b.temperature !== undefined && b.temperature > step.maxTemperature) {
        problems.push(`battery at ${b.temperature} °C (> ${step.maxTemperature} °C)`);
      }
      return {
        step: step.kind,
        ok: problems.length === 0,
        detail: problems.length
          ? problems.join('; ')
          : `battery ${b.level ?? '?'}%, ${b.temperature ?? '?'} °C`,
      };
    }
  }
}
