/**
 * Reading one run folder (reports/runs/RUN_ID/SERIAL/SCENARIO/) as the run pipeline left it. The
 * reader is forgiving: a run that broke early has no flows.json or verdict.json, and a corrupt file
 * becomes a problem line, not an exception. Only a folder without result.json is bad input.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Analysis } from '../analyze.js';
import type { DeviceFacts } from '../device/facts.js';
import type { BaselineCopy } from '../drift/summary.js';
import type { TwinComparison } from '../drift/twins.js';
import { UsageError } from '../errors.js';
import type { PhaseRecord, RunResult } from '../record/run-record.js';
import type { Verdict } from '../verdict/verdict.js';

/** One line of run.log. */
export interface LogLine {
  /** When it was written, ms since the epoch (NaN when the line has no timestamp). */
  ts: number;
  /** The text after the timestamp. */
  text: string;
}

/** An artifact file of the run folder. */
export interface RunFile {
  /** Absolute or caller-relative path. */
  path: string;
  /** Last modification, ms since the epoch: when the pipeline finished writing it. */
  mtimeMs: number;
  /** Size in bytes. */
  size: number;
}

/** Everything the report needs from one run folder, as plain data. */
export interface RunFolder {
  /** The folder. */
  dir: string;
  /** result.json. */
  result: RunResult;
  /** verdict.json (or the verdict inside result.json), absent when the run broke before judging. */
  verdict?: Verdict;
  /** flows.json, absent when the run broke before analysing. */
  analysis?: Analysis;
  /** baseline.json: the baseline's runs the run was compared with, and its own summary. */
  baseline?: BaselineCopy;
  /** twin.json: this run and its consent twin side by side (in the folder of the one that ran second). */
  twin?: TwinComparison;
  /** device.json (or the facts inside result.json). Strings came from the phone: untrusted. */
  facts?: DeviceFacts;
  /** run.log, line by line. */
  log: LogLine[];
  /** The artifacts that exist, by role. */
  files: {
    capture?: RunFile;
    flowsJson?: RunFile;
    verdictJson?: RunFile;
    logcat?: RunFile;
    runLog?: RunFile;
    /** exchanges.masked.jsonl: what interception saw, identifiers masked, bodies left out. */
    exchanges?: RunFile;
    /** screenshot.png and any other *.png, sorted by name. */
    screenshots: RunFile[];
    /** step-N.out.txt: output of a step that exited wrongly. */
    stepOutputs: RunFile[];
  };
  /** Files that exist but could not be read or parsed, one line each. */
  problems: string[];
}

async function fileInfo(path: string): Promise<RunFile | undefined> {
  try {
    const s = await stat(path);
    return s.isFile() ? { path, mtimeMs: s.mtimeMs, size: s.size } : undefined;
  } catch {
    return undefined;
  }
}

async function readJson<T>(file: RunFile | undefined, problems: string[]): Promise<T | undefined> {
  if (!file) return undefined;
  try {
    return JSON.parse(await readFile(file.path, 'utf8')) as T;
  } catch (e) {
    problems.push(`${file.path}: ${(e as Error).message}`);
    return undefined;
  }
}

/** Splits run.log ("ISO-TIMESTAMP text" per line) into timestamped lines. */
export function parseRunLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (.*)$/.exec(line);
    if (m) out.push({ ts: Date.parse(m[1]!), text: m[2]! });
    else out.push({ ts: Number.NaN, text: line });
  }
  return out;
}

/**
 * The phases of a run recorded before result.json had them (formatVersion 1): its scenario steps, as
 * it recorded them. The rest of its pipeline is in its run.log.
 */
function legacyPhases(result: RunResult): PhaseRecord[] {
  const old = (result as { steps?: unknown }).steps;
  if (!Array.isArray(old)) return [];
  return old.map(
    (st: {
      name?: unknown;
      kind?: unknown;
      tsStart?: unknown;
      tsEnd?: unknown;
      ok?: unknown;
      skipped?: unknown;
      detail?: unknown;
      screenshot?: unknown;
    }) => ({
      phase: 'step' as const,
      name: String(st.name ?? ''),
      ...(typeof st.kind === 'string' ? { kind: st.kind } : {}),
      tsStart: Number(st.tsStart) || 0,
      tsEnd: Number(st.tsEnd) || 0,
      status: st.ok === false ? ('broken' as const) : st.skipped ? ('skipped' as const) : ('passed' as const),
      detail: String(st.detail ?? ''),
      ...(typeof st.screenshot === 'string' ? { screenshot: st.screenshot } : {}),
    }),
  );
}

/** Reads a run folder. Throws UsageError when it holds no readable result.json. */
export async function readRunFolder(dir: string): Promise<RunFolder> {
  const problems: string[] = [];
  const resultFile = await fileInfo(join(dir, 'result.json'));
  if (!resultFile) throw new UsageError(`${dir} is not a run folder: it has no result.json`);
  const result = await readJson<RunResult>(resultFile, problems);
  if (!result || typeof result !== 'object' || typeof result.outcome !== 'string') {
    throw new UsageError(`${dir}/result.json is not a run result${problems[0] ? ` (${problems[0]})` : ''}`);
  }
  if (!Array.isArray(result.phases)) result.phases = legacyPhases(result);

  const names = await readdir(dir);
  const files: RunFolder['files'] = { screenshots: [], stepOutputs: [] };
  const pick = async (name: string) => (names.includes(name) ? fileInfo(join(dir, name)) : undefined);
  files.capture = await pick('capture.pcap');
  files.flowsJson = await pick('flows.json');
  files.verdictJson = await pick('verdict.json');
  files.logcat = await pick('logcat.txt');
  files.runLog = await pick('run.log');
  files.exchanges = await pick('exchanges.masked.jsonl');
  for (const name of [...names].sort()) {
    if (name.endsWith('.png')) {
      const f = await fileInfo(join(dir, name));
      if (f) files.screenshots.push(f);
    } else if (/^step-\d+\.out\.txt$/.test(name)) {
      const f = await fileInfo(join(dir, name));
      if (f) files.stepOutputs.push(f);
    }
  }

  const verdictFile = await readJson<Verdict>(files.verdictJson, problems);
  const analysis = await readJson<Analysis>(files.flowsJson, problems);
  const facts = (await readJson<DeviceFacts>(await pick('device.json'), problems)) ?? result.facts;
  const baseline = await readJson<BaselineCopy>(await pick('baseline.json'), problems);
  const twin = await readJson<TwinComparison>(await pick('twin.json'), problems);
  let log: LogLine[] = [];
  if (files.runLog) {
    try {
      log = parseRunLog(await readFile(files.runLog.path, 'utf8'));
    } catch (e) {
      problems.push(`${files.runLog.path}: ${(e as Error).message}`);
    }
  }
  const verdict = verdictFile ?? result.verdict;
  return {
    dir,
    result,
    ...(verdict ? { verdict } : {}),
    ...(analysis ? { analysis } : {}),
    ...(facts ? { facts } : {}),
    ...(baseline && Array.isArray(baseline.earlier) && baseline.run?.hosts ? { baseline } : {}),
    ...(twin && Array.isArray(twin.rows) && twin.onlyOn && twin.on && twin.off ? { twin } : {}),
    log,
    files,
    problems,
  };
}

/** The run folders under a root (reports/runs or reports/runs/RUN_ID): every folder holding result.json. */
export async function findRunFolders(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((e) => e.isFile() && e.name === 'result.json')) {
      out.push(dir);
      return;
    }
    if (depth >= 4) return;
    for (const e of entries) if (e.isDirectory()) await walk(join(dir, e.name), depth + 1);
  };
  await walk(root, 0);
  return out.sort();
}
