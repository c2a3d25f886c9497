/**
 * Baselines: for one device profile and scenario, the summaries of the runs a person accepted, the
 * newest last, kept to the last `keep`. One plain JSON file per profile and scenario in a history
 * folder (HISTORY/PROFILE/SCENARIO.json), which the nightly workflow carries from night to night.
 * Parsing is pure; reading and writing are the callers' (atomically).
 */
import { type RunSummary, SUMMARY_FORMAT_VERSION } from './summary.js';

export const BASELINE_FORMAT_VERSION = 1;
/** Accepted runs kept per profile and scenario. */
export const DEFAULT_KEEP = 10;

export interface Baseline {
  formatVersion: typeof BASELINE_FORMAT_VERSION;
  profile: string;
  scenario: string;
  /** Accepted runs, oldest first. */
  runs: RunSummary[];
}

/** A baseline file is not what this version writes: the message names the file and the field. */
export class BaselineError extends Error {
  override name = 'BaselineError';
}

const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** The file of a profile's scenario under a history folder: path parts checked, never a path from outside it. */
export function baselinePath(
  history: string,
  profile: string,
  scenario: string,
  join: (...p: string[]) => string,
): string {
  for (const [what, v] of [
    ['profile', profile],
    ['scenario', scenario],
  ] as const)
    if (!SAFE.test(v)) throw new BaselineError(`${what} ${JSON.stringify(v)} cannot name a baseline file`);
  return join(history, profile, `${scenario}.json`);
}

/** Parses a baseline file's text; throws BaselineError naming `file` and the field that is wrong. */
export function parseBaseline(text: string, file: string): Baseline {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new BaselineError(`${file}: not JSON: ${(err as Error).message}`);
  }
  const bad = (path: string, want: string): never => {
    throw new BaselineError(`${file}: ${path}: expected ${want}`);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data)) bad('(top)', 'an object');
  const d = data as Record<string, unknown>;
  if (d.formatVersion !== BASELINE_FORMAT_VERSION)
    bad('formatVersion', `${BASELINE_FORMAT_VERSION} (this file says ${JSON.stringify(d.formatVersion)})`);
  if (typeof d.profile !== 'string') bad('profile', 'a string');
  if (typeof d.scenario !== 'string') bad('scenario', 'a string');
  if (!Array.isArray(d.runs)) bad('runs', 'a list of run summaries');
  (d.runs as unknown[]).forEach((r, i) => {
    checkRunSummary(r, `runs[${i}].`, bad);
  });
  return d as unknown as Baseline;
}

/**
 * Checks a run summary as read from JSON; `bad(path, want)` throws, with `prefix` before each field
 * path ("runs[2]." in a baseline file, "" in a run folder's summary.json).
 */
export function checkRunSummary(
  r: unknown,
  prefix: string,
  bad: (path: string, want: string) => never,
): RunSummary {
  if (typeof r !== 'object' || r === null) bad(prefix.replace(/\.$/, '') || '(top)', 'an object');
  const s = r as Record<string, unknown>;
  if (s.formatVersion !== SUMMARY_FORMAT_VERSION)
    bad(`${prefix}formatVersion`, String(SUMMARY_FORMAT_VERSION));
  if (typeof s.runId !== 'string') bad(`${prefix}runId`, 'a string');
  if (typeof s.scenario !== 'string') bad(`${prefix}scenario`, 'a string');
  if (typeof s.started !== 'number' || !Number.isFinite(s.started))
    bad(`${prefix}started`, 'a time in seconds');
  if (typeof s.hosts !== 'object' || s.hosts === null || Array.isArray(s.hosts))
    bad(`${prefix}hosts`, 'an object');
  for (const [host, h] of Object.entries(s.hosts as Record<string, unknown>)) {
    const hp = `${prefix}hosts[${JSON.stringify(host)}]`;
    if (typeof h !== 'object' || h === null) bad(hp, 'an object');
    const hh = h as Record<string, unknown>;
    for (const k of ['connections', 'bytesUp', 'bytesDown'])
      if (typeof hh[k] !== 'number' || !Number.isFinite(hh[k] as number) || (hh[k] as number) < 0)
        bad(`${hp}.${k}`, 'a number ≥ 0');
    if (hh.firstStep !== undefined && typeof hh.firstStep !== 'string') bad(`${hp}.firstStep`, 'a string');
    for (const k of ['provenance', 'countries', 'orgs'])
      if (!Array.isArray(hh[k]) || !(hh[k] as unknown[]).every((x) => typeof x === 'string'))
        bad(`${hp}.${k}`, 'a list of strings');
  }
  for (const k of ['countries', 'orgs', 'leaks', 'apps'])
    if (!Array.isArray(s[k]) || !(s[k] as unknown[]).every((x) => typeof x === 'string'))
      bad(`${prefix}${k}`, 'a list of strings');
  return r as RunSummary;
}

/** The baseline with `run` accepted: a run already in it (same run id) is replaced; the oldest drop past `keep`. */
export function acceptRun(
  baseline: Baseline | undefined,
  profile: string,
  run: RunSummary,
  keep = DEFAULT_KEEP,
): Baseline {
  const runs = (baseline?.runs ?? []).filter((r) => r.runId !== run.runId);
  runs.push(run);
  runs.sort((a, b) => a.started - b.started);
  return {
    formatVersion: BASELINE_FORMAT_VERSION,
    profile,
    scenario: run.scenario,
    runs: runs.slice(-keep),
  };
}
