/**
 * Baseline files on disk: reading one for a run (a missing file is "no baseline yet"; a file that
 * cannot be read or is not a baseline is bad input, UsageError naming the file and the field), and
 * accepting runs into them. Each file is written whole (atomic rename): a crash leaves the old one.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic-write.js';
import { UsageError } from '../errors.js';
import {
  acceptRun,
  type Baseline,
  BaselineError,
  baselinePath,
  checkRunSummary,
  DEFAULT_KEEP,
  parseBaseline,
} from './baseline.js';
import type { RunBaseline } from './drift.js';
import type { RunSummary } from './summary.js';

/** The baseline in `file`, undefined when there is no such file. */
export async function readBaselineFile(file: string): Promise<Baseline | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return parseBaseline(text, file);
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(err.message);
    throw err;
  }
}

/** Where a profile's scenario's baseline lives under `history`; UsageError for a name that cannot be a file name. */
export function baselineFileFor(history: string, profile: string, scenario: string): string {
  try {
    return baselinePath(history, profile, scenario, join);
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(err.message);
    throw err;
  }
}

/** A run's baseline from the history folder: its accepted runs, none when nothing was accepted yet. */
export async function loadRunBaseline(
  history: string,
  profile: string,
  scenario: string,
): Promise<RunBaseline> {
  const file = baselineFileFor(history, profile, scenario);
  const b = await readBaselineFile(file);
  if (b && (b.profile !== profile || b.scenario !== scenario))
    throw new UsageError(
      `${file}: profile and scenario: the file is for ${b.profile} › ${b.scenario}, not ${profile} › ${scenario}`,
    );
  return { file, label: `${profile} › ${scenario}`, runs: b?.runs ?? [] };
}

/** A run to accept: its summary and its device profile. */
export interface ToAccept {
  profile: string;
  summary: RunSummary;
}

/**
 * Accepts runs into their baselines under `history` (the last `keep` per profile and scenario).
 * Every file is read before any is written: a file that cannot be read leaves all of them as they were.
 */
export async function acceptIntoHistory(
  history: string,
  runs: readonly ToAccept[],
  keep = DEFAULT_KEEP,
): Promise<{ file: string; baseline: Baseline; accepted: RunSummary[] }[]> {
  const files = new Map<string, { baseline: Baseline | undefined; accepted: RunSummary[] }>();
  for (const r of runs) {
    const file = baselineFileFor(history, r.profile, r.summary.scenario);
    let entry = files.get(file);
    if (!entry) {
      entry = { baseline: await readBaselineFile(file), accepted: [] };
      files.set(file, entry);
    }
    entry.baseline = acceptRun(entry.baseline, r.profile, r.summary, keep);
    entry.accepted.push(r.summary);
  }
  const out = [];
  for (const [file, { baseline, accepted }] of files) {
    await mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(baseline, null, 2)}\n`);
    out.push({ file, baseline: baseline!, accepted });
  }
  return out;
}

/** A run folder's summary.json (what the run did, reduced), checked as a baseline's runs are. */
export async function readSummaryFile(dir: string): Promise<RunSummary> {
  const file = join(dir, 'summary.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not JSON: ${(err as Error).message}`);
  }
  // The same checks a baseline file's runs get.
  return checkRunSummary(run, '', (path, want) => {
    throw new UsageError(`${file}: ${path}: expected ${want}`);
  });
}
