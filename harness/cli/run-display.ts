/**
 * What a person at the terminal sees of a run: one live line per phone redrawn in place (on a
 * terminal outside CI), or plain progress lines, and the summary at the end. Text from phones and
 * captures goes through terminalSafe.
 */
import { findingLine } from '../drift/drift.js';
import { terminalSafe, terminalSafeClipped } from '../format/terminal-text.js';
import type { LiveStats } from '../run/live-traffic.js';
import type { ScenarioStep } from '../run/scenario.js';
import type { SuiteEvent, SuiteSummary } from '../run/suite.js';

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

export function plural(n: number, one: string, many = `${one}s`): string {
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
export interface Display {
  event(e: SuiteEvent): void;
  /** A line that stays (above the live lines, when there are any). */
  print(line: string): void;
  close(): void;
}

/** Plain lines on stderr: for logs, pipes and CI. */
export function plainDisplay(write: (s: string) => void): Display {
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
export function liveDisplay(stream: NodeJS.WriteStream): Display {
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

/** What a finished run tells the person at the terminal: counts, skips with reasons, violations. */
export function summaryText(summary: SuiteSummary, skipped: Extract<SuiteEvent, { type: 'end' }>[]): string {
  const lines = [
    '',
    `${summary.passed} passed, ${summary.failed} failed, ${summary.broken} broken, ${summary.skipped} skipped`,
  ];
  for (const r of summary.results) {
    if (r.outcome !== 'passed') {
      lines.push(
        `${r.outcome}: ${terminalSafe(r.serial)} › ${terminalSafe(r.scenario)}: ${terminalSafe(r.reason)}`,
      );
      // Every violation, one line each: the count in the reason and the lines agree.
      for (const v of r.violations)
        lines.push(
          `  ${terminalSafe(v.subject)} during ${terminalSafe(v.step)}: ${terminalSafe(v.ruleText)}`,
        );
    }
    // What changed since the baseline, whatever the outcome (under drift: fail the findings are
    // among the violations above).
    const d = r.drift;
    if (d && d.findings.length > 0 && d.policy !== 'fail') {
      const against = d.baseline
        ? ` against ${d.baseline.runs.length} accepted run${d.baseline.runs.length === 1 ? '' : 's'}`
        : '';
      lines.push(
        `drift: ${terminalSafe(r.serial)} › ${terminalSafe(r.scenario)}: ${d.findings.length} change${d.findings.length === 1 ? '' : 's'}${against}`,
      );
      for (const f of d.findings) lines.push(`  ${terminalSafe(findingLine(f))}`);
    }
  }
  for (const e of skipped)
    lines.push(`skipped: ${terminalSafe(e.phone)} › ${terminalSafe(e.scenario)}: ${terminalSafe(e.reason)}`);
  lines.push(`results: ${summary.resultsDir}`);
  return `${lines.join('\n')}\n`;
}
