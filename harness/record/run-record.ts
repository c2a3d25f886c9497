/**
 * The run record: what one phone × one scenario did, saved as result.json. The run pipeline
 * (harness/run/) writes it phase by phase; the report (harness/report/) and the Allure categories read
 * it. Plain data, versioned; nobody parses run.log, which stays for people.
 */

import type { DeviceFacts } from '../device/facts.js';
import type { DriftSection } from '../drift/drift.js';
import type { Verdict } from '../verdict/verdict.js';

/** Saved formats carry a version so nightly results stay comparable across releases. */
export const RUN_FORMAT_VERSION = 2;

/** verdict.json's format: the Verdict, unchanged since version 1. */
export const VERDICT_FORMAT_VERSION = 1;

/** The parts of the pipeline a run goes through, in order. */
export type Phase =
  | 'prepare'
  | 'intercept start'
  | 'capture start'
  | 'canary'
  | 'step'
  | 'capture stop'
  | 'analysis'
  | 'verdict';

/** How a phase ended; Allure's statuses. */
export type PhaseStatus = 'passed' | 'failed' | 'broken' | 'skipped';

/** Who carried out a scenario step: Appium's UI automation, an adb shell command, a timer, or nobody. */
export type StepProvider = 'ui' | 'adb' | 'wait' | 'lab' | 'none';

/** One phase of a run (or a part of one), on the host's clock. */
export interface PhaseRecord {
  /** Which part of the pipeline. */
  phase: Phase;
  /** Its title: "read device facts", a preparation or scenario step's name, a canary's name… */
  name: string;
  /** Start, seconds since the epoch. */
  tsStart: number;
  /** End, seconds since the epoch; 0 while it runs (a phase the run broke in may never end). */
  tsEnd: number;
  /** How it ended. */
  status: PhaseStatus;
  /** One line: what it did, or why it failed. */
  detail: string;
  /** Scenario steps: who carried it out. */
  provider?: StepProvider;
  /** Scenario steps: the scenario's step kind (adb, action, wait). */
  kind?: string;
  /** Figures of the phase (packets, flows, the capture backend…), by name. */
  figures?: Record<string, string | number>;
  /** Screenshot file (in the run folder) taken after a UI step. */
  screenshot?: string;
  /** Parts of the phase: the facts and each preparation step; the canaries found in the capture. */
  parts?: PhaseRecord[];
}

/** Outcome of a run: passed, failed (the allowlist was broken) or broken (the infrastructure was). */
export type RunOutcome = 'passed' | 'failed' | 'broken';

/** What kind of trouble broke a run: what a lab engineer looks at first. */
export type BrokenKind =
  /** The capture did not start, could not be read, or missed a canary: the run proves nothing. */
  | 'capture'
  /** The phone went away during the run. */
  | 'device-lost'
  /** The allowlist's expectations (positive controls) were not met: the scenario did not prove it ran. */
  | 'no-proof'
  /** A preparation step failed. */
  | 'preparation'
  /** A scenario step failed. */
  | 'step'
  /** Ctrl-C, SIGTERM or a suite that ended stopped it. */
  | 'interrupted'
  /** Anything else: adb, the host, a bug. */
  | 'infrastructure';

/** Why a run broke: where, what kind of trouble, and the words. */
export interface BrokenRecord {
  /** The phase it broke in. */
  stage: Phase;
  /** What kind of trouble. */
  kind: BrokenKind;
  /** One line. */
  detail: string;
}

/** A violation with the step during which it first happened. */
export interface LocatedViolation {
  subject: string;
  ruleText: string;
  /** The step during which the first offending flow started, or "before the first step"/"after the last step". */
  step: string;
}

/** Figures of a finished capture. */
export interface CaptureRecord {
  /** Packets written to the capture file. */
  packets: number;
  /** Packets the capture tool says it lost, or "unknown" when the backend cannot tell. */
  dropped: number | 'unknown';
  /** Bytes of the capture file. */
  bytes: number;
  /** Anything the tool said that a person should see. */
  notes: string[];
}

/** The result of one run, saved as result.json. */
export interface RunResult {
  formatVersion: number;
  runId: string;
  serial: string;
  scenario: string;
  /** The device profile the phone matched, when it matched one. */
  profile?: string;
  outcome: RunOutcome;
  /** Why, in one line. */
  reason: string;
  /** The run folder. */
  dir: string;
  /** The pipeline's phases, in the order they began. */
  phases: PhaseRecord[];
  /** When broken: where and why. */
  broken?: BrokenRecord;
  canaries: { start: string; end: string; startSeen: boolean; endSeen: boolean };
  capture?: CaptureRecord;
  verdict?: Verdict;
  violations: LocatedViolation[];
  facts?: DeviceFacts;
  /** The identifiers read from the phone at run start, masked (identifiers.json holds the same). */
  identifiers?: RunIdentifiers;
  /** What changed against the run's baseline (verdict.json holds the same). */
  drift?: DriftSection;
  /**
   * The earlier attempts of this scenario on this phone in this run (--retries), oldest first: each
   * was broken, and its folder is kept beside this one as SCENARIO.attempt-N.
   */
  earlierAttempts?: EarlierAttempt[];
}

/** A broken attempt that was tried again. */
export interface EarlierAttempt {
  /** 1 for the first attempt. */
  attempt: number;
  reason: string;
  /** Its kind of breakage (device-lost, capture …). */
  kind?: BrokenKind;
  /** Its folder, as kept. */
  dir: string;
  /** For a lost phone: how it came back before the next attempt. */
  phoneReturn?: string;
}

/** What a run knew of the phone's identifiers: masked values, where each came from, what it would not tell. */
export interface RunIdentifiers {
  read: { kind: string; slot?: number; masked: string; fingerprint: string; source: string }[];
  unread: { kind: string; slot?: number; tried: string[]; why: string }[];
  /** Installed packages read (searched for as an app list). */
  packages: number;
  /** Set when they could not be read: the capture was then not searched for identifiers. */
  error?: string;
}

/** The scenario's steps among a run's phases. */
export function scenarioSteps(result: Pick<RunResult, 'phases'>): PhaseRecord[] {
  return result.phases.filter((p) => p.phase === 'step');
}

/** Which step a moment falls in. */
export function stepAt(
  steps: readonly Pick<PhaseRecord, 'name' | 'tsStart' | 'tsEnd'>[],
  ts: number,
): string {
  if (steps.length === 0 || ts < steps[0]!.tsStart) return 'before the first step';
  for (const s of steps) if (ts >= s.tsStart && ts <= s.tsEnd) return s.name;
  for (let i = steps.length - 1; i >= 0; i--) if (ts > steps[i]!.tsEnd) return `after ${steps[i]!.name}`;
  return 'unknown';
}

/**
 * The record in one bracketed line for Allure's status trace, e.g.
 * "[phonehome outcome=broken stage=analysis kind=capture]" or
 * "[phonehome outcome=failed violations unmet-expectations]": what categories.json matches, so that
 * runs are sorted by their record, never by the words of their reason.
 */
export function recordLine(result: Pick<RunResult, 'outcome' | 'broken' | 'verdict' | 'drift'>): string {
  if (result.outcome === 'broken') {
    const b = result.broken;
    return `[phonehome outcome=broken stage=${(b?.stage ?? 'unknown').replace(/ /g, '-')} kind=${b?.kind ?? 'infrastructure'}]`;
  }
  const v = result.verdict;
  const marks = [
    v?.violations.length ? 'violations' : '',
    v?.unmetExpectations.length ? 'unmet-expectations' : '',
    v?.budgets.some((b) => b.exceeded) ? 'budget-exceeded' : '',
    v?.identifierLeaks?.some((j) => j.status === 'forbidden' || j.status === 'unlisted')
      ? 'identifier-leaks'
      : '',
    result.drift?.findings.length ? 'drift' : '',
  ].filter(Boolean);
  return `[phonehome outcome=${result.outcome}${marks.map((m) => ` ${m}`).join('')}]`;
}
