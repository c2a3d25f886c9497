/**
 * The scenario model: what a scenario needs, how it prepares the phone, its steps, and which allowlist
 * judges it. Scenarios live in scenarios/*.ts, one exported Scenario each.
 */
import type { LabHook } from '../config/lab-hooks.js';
import type { PrepareStep } from '../device/prepare.js';

/** Something a phone (or the lab) must offer for a scenario to run; otherwise it is skipped with the reason. */
export type ScenarioNeed = 'appium' | 'root' | 'account' | 'pcapdroid' | 'sim-card';

/** One step of a scenario. */
export type ScenarioStep =
  /** An adb shell command; `expectExit` makes another exit status break the run. */
  | { kind: 'adb'; name: string; command: string; expectExit?: number }
  /**
   * A named action of the device profile (`actions:` in devices/NAME/profile.yaml): UI steps through
   * Appium when a UI is available, else the profile's adb equivalent, else the step is skipped.
   * With `ifCapability`, only on phones whose profile declares that capability (a consent the maker
   * offers, e.g. cloud-messaging); on the others the step is skipped and the scenario goes on.
   */
  | { kind: 'action'; name: string; action: string; ifCapability?: string }
  /** Wait; on simulated phones the duration is divided by the speed factor. */
  | { kind: 'wait'; name: string; ms: number }
  /**
   * Something done to the phone from outside it, by the lab: a SIM card put in or taken out (a SIM
   * switch), … The lab gives the command for each hook (`hooks:` in the config; simulated phones have
   * their own); a phone whose lab gives none for it skips the scenario, naming the hook.
   */
  | { kind: 'lab'; name: string; hook: LabHook };

export { LAB_HOOKS, type LabHook } from '../config/lab-hooks.js';

/** A scenario. */
export interface Scenario {
  /** Short name; also the allowlist file name (devices/PROFILE/allowlists/NAME.yaml) unless `allowlist` says otherwise. */
  name: string;
  /** One paragraph for the report. */
  description: string;
  /** What it needs; a phone without it is skipped with the reason. */
  needs: ScenarioNeed[];
  /**
   * Capabilities the phone's device profile must declare (`capabilities:` in its profile.yaml, e.g.
   * themes-app), each with what it is, for the skip reason: a phone without one is skipped with it.
   */
  requires?: Record<string, string>;
  /**
   * A lab hook run before anything is read from the phone, which leaves it in the state the scenario
   * starts from (a factory reset: the phone back on adb in its setup wizard). Its facts and identifiers
   * are read after it (a reset gives a new Android ID). A lab that gives no command for it skips the
   * scenario, naming the hook.
   */
  start?: { name: string; hook: LabHook };
  /** Preparation before the capture starts (settings, consent toggles, packages to reset). */
  prepare: PrepareStep[];
  /** The steps, in order, while the capture runs. */
  steps: ScenarioStep[];
  /** The allowlist to judge by, when not the scenario's own name. */
  allowlist?: string;
  /**
   * The consent-off twin of this (consent-on) scenario: the same steps with one consent toggled.
   * When both run on a phone, the second one's report shows the pair side by side.
   */
  twin?: { scenario: string; consent: string };
  /**
   * Why it runs only when named (--scenario, the config's scenarios): e.g. a night of phone time,
   * which a run of "all scenarios" should not take by surprise.
   */
  onlyWhenNamed?: string;
}

/** The scenario with its waits divided by the speed factor (simulated phones run compressed time). */
export function scaled(s: Scenario, speed: number): Scenario {
  if (speed === 1) return s;
  return {
    ...s,
    steps: s.steps.map((st) =>
      st.kind === 'wait' ? { ...st, ms: Math.max(100, Math.round(st.ms / speed)) } : st,
    ),
  };
}
