/**
 * What changed: a run against the runs before it (its baseline, or one other run). New hosts,
 * countries, organisations, identifier leaks and apps; hosts every earlier run contacted that this
 * one did not; and a host's connections or bytes outside the range the earlier runs spanned,
 * widened so that one quiet or busy night is not news (noise-aware: the range of the runs, not a
 * fixed percentage of one). Pure.
 */

import { formatBytes } from '../format/bytes.js';
import type { RunSummary } from './summary.js';

export type DriftKind =
  | 'new-host'
  | 'gone-host'
  | 'new-country'
  | 'new-org'
  | 'new-leak'
  | 'new-app'
  | 'volume';

/** One change. */
export interface DriftFinding {
  kind: DriftKind;
  /** The host, country, organisation, leak ("imei → host") or app. Untrusted text. */
  subject: string;
  /** In words: "first seen; 3 connections, 2.4 kB up" or "12.0 MB down, the baseline's range 1.0–1.4 MB". */
  detail: string;
  /** The scenario step during which a new host was first contacted, when the run knew its steps. */
  step?: string;
  /** A new host's countries (or special range), when destinations were located. */
  countries?: string[];
}

/** How far outside the baseline's range a host's volume may go before it is news. */
export interface VolumeTolerance {
  /** The range is widened to [min / factor, max × factor] (default 3). */
  factor: number;
  /** And a change smaller than this many bytes is never news (default 10,000). */
  minBytes: number;
  /** Nor one of fewer connections than this (default 5). */
  minConnections: number;
}

const DEFAULT_TOLERANCE: VolumeTolerance = { factor: 3, minBytes: 10_000, minConnections: 5 };

/**
 * The findings of `run` against `baseline` (earlier runs of the same profile and scenario, any
 * order). With no baseline there is nothing to compare: an empty list (the caller says so).
 */
export function drift(
  baseline: readonly RunSummary[],
  run: RunSummary,
  tolerance: Partial<VolumeTolerance> = {},
): DriftFinding[] {
  if (baseline.length === 0) return [];
  const tol = { ...DEFAULT_TOLERANCE, ...tolerance };
  const out: DriftFinding[] = [];
  const seen = (pick: (s: RunSummary) => readonly string[]) => new Set(baseline.flatMap(pick));

  const knownHosts = seen((s) => Object.keys(s.hosts));
  for (const [host, h] of Object.entries(run.hosts)) {
    if (knownHosts.has(host)) continue;
    out.push({
      kind: 'new-host',
      subject: host,
      detail: `first seen${h.firstStep ? ` during step "${h.firstStep}"` : ''}: ${h.connections} connection${h.connections === 1 ? '' : 's'}, ${formatBytes(h.bytesUp)} up, ${formatBytes(h.bytesDown)} down${h.countries.length ? `, ${h.countries.join('/')}` : ''}${h.orgs.length ? `, ${h.orgs.join('; ')}` : ''}`,
      ...(h.firstStep ? { step: h.firstStep } : {}),
      ...(h.countries.length ? { countries: [...h.countries] } : {}),
    });
  }
  for (const [kind, pick] of [
    ['new-country', (s: RunSummary) => s.countries],
    ['new-org', (s: RunSummary) => s.orgs],
    ['new-leak', (s: RunSummary) => s.leaks],
    ['new-app', (s: RunSummary) => s.apps],
  ] as const) {
    const known = seen(pick);
    for (const x of pick(run)) {
      if (known.has(x)) continue;
      const hosts =
        kind === 'new-country'
          ? Object.entries(run.hosts).filter(([, h]) => h.countries.includes(x))
          : kind === 'new-org'
            ? Object.entries(run.hosts).filter(([, h]) => h.orgs.includes(x))
            : [];
      out.push({
        kind,
        subject: x,
        detail: hosts.length ? `first seen, for ${hosts.map(([name]) => name).join(', ')}` : 'first seen',
      });
    }
  }
  // Expected hosts that vanished: every earlier run had them.
  const always = Object.keys(baseline[0]!.hosts).filter((h) =>
    baseline.every((s) => s.hosts[h] !== undefined),
  );
  for (const host of always) {
    if (run.hosts[host]) continue;
    out.push({
      kind: 'gone-host',
      subject: host,
      detail: `not contacted; every one of the ${baseline.length} earlier run${baseline.length === 1 ? '' : 's'} did`,
    });
  }
  // Volume: outside the earlier runs' range, widened.
  for (const [host, h] of Object.entries(run.hosts)) {
    const before = baseline.map((s) => s.hosts[host]).filter((x) => x !== undefined);
    if (before.length === 0) continue;
    const bytes = (x: { bytesUp: number; bytesDown: number }) => x.bytesUp + x.bytesDown;
    const lo = Math.min(...before.map(bytes));
    const hi = Math.max(...before.map(bytes));
    const now = bytes(h);
    const far =
      (now > hi * tol.factor && now - hi >= tol.minBytes) ||
      (now < lo / tol.factor && lo - now >= tol.minBytes);
    const cLo = Math.min(...before.map((x) => x.connections));
    const cHi = Math.max(...before.map((x) => x.connections));
    const cFar =
      (h.connections > cHi * tol.factor && h.connections - cHi >= tol.minConnections) ||
      (h.connections < cLo / tol.factor && cLo - h.connections >= tol.minConnections);
    if (!far && !cFar) continue;
    const parts: string[] = [];
    if (far)
      parts.push(
        `${formatBytes(now)} (the earlier run${before.length === 1 ? '' : 's'}: ${lo === hi ? formatBytes(lo) : `${formatBytes(lo)}–${formatBytes(hi)}`})`,
      );
    if (cFar) parts.push(`${h.connections} connections (earlier: ${cLo === cHi ? cLo : `${cLo}–${cHi}`})`);
    out.push({ kind: 'volume', subject: host, detail: parts.join('; ') });
  }
  return out;
}

/** What drift does to a run (an allowlist's `drift:`): fail it, warn, or not look. */
export type DriftPolicyName = 'fail' | 'warn' | 'off';

/** A run's drift, as verdict.json and result.json keep it. */
export interface DriftSection {
  policy: DriftPolicyName;
  /** The baseline compared against: its file and its accepted runs' ids, oldest first. */
  baseline?: { file: string; runs: string[] };
  /** Why nothing was compared, when nothing was (no history folder, no baseline yet, policy off). */
  note?: string;
  findings: DriftFinding[];
}

/** A baseline as a run is handed it: the file it came from and its accepted runs (none: no baseline yet). */
export interface RunBaseline {
  file: string;
  /** "PROFILE › SCENARIO", for what a missing baseline says. */
  label: string;
  runs: readonly RunSummary[];
}

/**
 * The drift section of a run: `run` against `baseline`'s runs other than itself; notes say why
 * nothing was compared (policy off, no history folder given, no accepted run yet).
 */
export function driftSection(
  policy: DriftPolicyName,
  baseline: RunBaseline | undefined,
  run: RunSummary,
  tolerance: Partial<VolumeTolerance> = {},
): DriftSection {
  if (policy === 'off')
    return { policy, note: 'not looked for: the allowlist says drift: off', findings: [] };
  if (!baseline) return { policy, note: 'not looked for: no history folder', findings: [] };
  const earlier = baseline.runs.filter((r) => r.runId !== run.runId);
  if (earlier.length === 0)
    return {
      policy,
      note: `no baseline for ${baseline.label} yet (${baseline.file}): accept runs with phonehome baseline accept`,
      findings: [],
    };
  return {
    policy,
    baseline: { file: baseline.file, runs: earlier.map((r) => r.runId) },
    findings: drift(earlier, run, tolerance),
  };
}

/** A finding in one line: "new-host tracker.example (during step "open store"): first seen …". */
export function findingLine(f: DriftFinding): string {
  return `${f.kind} ${f.subject}: ${f.detail}`;
}
