/**
 * One night of a device farm as one set of Allure results: each lab host's allure-results (the
 * artifact its nightly job uploaded) copied into one folder, every test labelled with its host, its
 * suite put under the host's name and its history identity made the host's own (the same phone model
 * on two hosts is two tests, not a test and its retry). Each host also gets a "lab host" test of its
 * own: passed when its job left results and ended as a run ends (exit 0, 1 or 3), broken when the host
 * was offline, uploaded nothing, or its job ended otherwise; a host the farm file lists but no folder
 * came from is broken too. The environment lists the hosts and what each ran with.
 *
 * Nothing is written to the target until every input was read: the merged folder is built beside it
 * and renamed into place.
 */
import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { type CategoryDef, PHONEHOME_CATEGORIES } from './categories.js';
import { type ExecutorInfo, formatProperties, parseProperties } from './launch-info.js';

/** A host name as the farm file allows it. */
export const FARM_HOST_NAME = /^[a-z0-9][a-z0-9-]{0,38}$/;

/** host.json: what a host's nightly job says about itself beside its results. */
export const hostRecordSchema = z.strictObject({
  formatVersion: z.literal(1, { error: 'expected formatVersion: 1' }),
  /** The host's name in the farm file. */
  host: z.string().regex(FARM_HOST_NAME, 'a farm host name: lower-case letters, digits and hyphens'),
  /** `phonehome run`'s exit status (null: it was killed by a signal). */
  exitStatus: z.number().int().min(0).max(255).nullable(),
  /** When the job finished, ISO 8601. */
  finishedAt: z.iso.datetime({ offset: true }).optional(),
});

/** A host's own record of its night. */
export type HostRecord = z.output<typeof hostRecordSchema>;

/** The file name of a host's record, beside its allure-results. */
export const HOST_RECORD_FILE = 'host.json';

/** host.json's text for a host whose run ended with `exitStatus`. */
export function hostRecordText(host: string, exitStatus: number | null, finishedAt = new Date()): string {
  const record: HostRecord = { formatVersion: 1, host, exitStatus, finishedAt: finishedAt.toISOString() };
  return `${JSON.stringify(hostRecordSchema.parse(record), null, 2)}\n`;
}

/** What became of one host in the merge. */
export interface MergedHost {
  host: string;
  /** The folder its results came from; absent for a host listed in the farm file that sent nothing. */
  dir?: string;
  /** Test results taken from it. */
  results: number;
  /** Its run's exit status, when its host.json says. */
  exitStatus?: number | null;
  /** Its "lab host" test: passed, or broken with the reason. */
  status: 'passed' | 'broken';
  message: string;
  /** Its phonehome baselines (history/), when it sent them. */
  baselines?: string;
}

/** What to merge. */
export interface MergeOptions {
  /** The hosts' folders: each an artifact folder holding allure-results/ (and host.json, history/), or an allure-results folder itself. */
  dirs: string[];
  /** Where the merged results go: absent or empty; replaced as a whole. */
  outResults: string;
  /** The hosts the farm file lists, in its order: one sending nothing shows as broken. */
  expectedHosts?: string[];
  /** The merging job's executor.json. */
  executor?: ExecutorInfo;
  /** Now, ms since the epoch (the "lab host" tests' time). */
  now?: number;
}

/** The merge, done. */
export interface MergeSummary {
  hosts: MergedHost[];
  /** Test results written, the "lab host" tests included. */
  results: number;
  /** Things a person should know that did not stop the merge. */
  warnings: string[];
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The line of a JSON.parse error's position, for the message. */
function jsonProblem(text: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const at = /position (\d+)/.exec(message);
  if (!at) return message;
  const line = text.slice(0, Number(at[1])).split('\n').length;
  return `line ${line}: ${message}`;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not JSON (${jsonProblem(text, e)})`);
  }
}

async function readHostRecord(file: string): Promise<HostRecord> {
  const data = await readJson(file);
  const parsed = hostRecordSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.join('.') || '(the whole file)';
    throw new UsageError(`${file}: field ${field}: ${issue.message}`);
  }
  return parsed.data;
}

interface HostInput {
  host: string;
  dir: string;
  /** Its allure-results folder, when it has one. */
  results?: string;
  record?: HostRecord;
  baselines?: string;
}

async function hasResultFiles(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((n) => n.endsWith('-result.json') || n.endsWith('-container.json'));
  } catch {
    return false;
  }
}

async function readInput(dir: string): Promise<HostInput> {
  if (!(await isDir(dir)))
    throw new UsageError(`${dir}: not a folder (each --merge DIR is one host's results)`);
  const recordFile = join(dir, HOST_RECORD_FILE);
  const record = (await exists(recordFile)) ? await readHostRecord(recordFile) : undefined;
  let host = record?.host;
  if (host === undefined) {
    // The workflow names each host's artifact farm-HOST; a folder may also just be called HOST.
    const name = basename(resolve(dir)).replace(/^farm-/, '');
    if (!FARM_HOST_NAME.test(name))
      throw new UsageError(
        `${dir}: cannot tell which lab host it is from: it holds no ${HOST_RECORD_FILE} and its name is not a host name`,
      );
    host = name;
  }
  const nested = join(dir, 'allure-results');
  const results = (await isDir(nested)) ? nested : (await hasResultFiles(dir)) ? dir : undefined;
  const baselines = (await isDir(join(dir, 'history'))) && results !== dir ? join(dir, 'history') : undefined;
  return {
    host,
    dir,
    ...(results ? { results } : {}),
    ...(record ? { record } : {}),
    ...(baselines ? { baselines } : {}),
  };
}

interface Label {
  name: string;
  value: string;
}

function isLabel(x: unknown): x is Label {
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof (x as Label).name === 'string' &&
    typeof (x as Label).value === 'string'
  );
}

/**
 * A test result of `host`: the host label set, the suites moved one level down under the host, the
 * history identity and test case made the host's own.
 */
export function relabelResult(result: Record<string, unknown>, host: string): Record<string, unknown> {
  const labels = Array.isArray(result.labels) ? result.labels.filter(isLabel) : [];
  const value = (name: string) => labels.find((l) => l.name === name)?.value;
  const kept = labels.filter((l) => !['host', 'parentSuite', 'suite', 'subSuite'].includes(l.name));
  const parent = value('parentSuite');
  const suite = value('suite');
  const sub = value('subSuite');
  const moved: Label[] = [{ name: 'parentSuite', value: host }];
  if (parent !== undefined || suite !== undefined) moved.push({ name: 'suite', value: parent ?? suite! });
  const below = parent !== undefined ? [suite, sub] : [sub];
  const subSuite = below.filter((x): x is string => x !== undefined).join(' › ');
  if (subSuite) moved.push({ name: 'subSuite', value: subSuite });
  const out: Record<string, unknown> = {
    ...result,
    labels: [...moved, ...kept, { name: 'host', value: host }],
  };
  if (typeof result.historyId === 'string') out.historyId = md5(`${host}\n${result.historyId}`);
  if (typeof result.testCaseId === 'string') out.testCaseId = `${host}/${result.testCaseId}`;
  if (typeof result.fullName === 'string') out.fullName = `${host}/${result.fullName}`;
  if (Array.isArray(result.titlePath)) out.titlePath = [host, ...result.titlePath];
  return out;
}

/** The "lab host" test of one host. */
export function hostResult(h: MergedHost, now: number): Record<string, unknown> {
  const trace =
    h.status === 'broken' ? `[phonehome outcome=broken stage=farm kind=host]\n${h.message}` : h.message;
  return {
    uuid: randomUUID(),
    historyId: md5(`phonehome/farm/${h.host}`),
    testCaseId: `phonehome/farm/${h.host}`,
    fullName: `phonehome/farm/${h.host}`,
    titlePath: [h.host, 'lab host'],
    name: `lab host ${h.host}`,
    status: h.status,
    statusDetails: { message: h.message, trace },
    stage: 'finished',
    steps: [],
    attachments: [],
    parameters: [],
    labels: [
      { name: 'parentSuite', value: h.host },
      { name: 'suite', value: 'lab host' },
      { name: 'feature', value: 'lab hosts' },
      { name: 'host', value: h.host },
      { name: 'severity', value: h.status === 'broken' ? 'critical' : 'normal' },
    ],
    links: [],
    start: now,
    stop: now,
  };
}

const RUN_ENDED = new Set([0, 1, 3]);

function hostVerdict(input: HostInput | undefined, results: number): Pick<MergedHost, 'status' | 'message'> {
  if (!input)
    return {
      status: 'broken',
      message:
        'no results from this host: its job did not run or uploaded nothing (runner offline, or it failed before the run)',
    };
  const exit = input.record?.exitStatus;
  const ran = `${results} result${results === 1 ? '' : 's'}`;
  if (input.record && exit === null)
    return { status: 'broken', message: `its run was killed by a signal (${ran} kept)` };
  if (exit !== undefined && exit !== null && !RUN_ENDED.has(exit))
    return {
      status: 'broken',
      message: `its run ended with exit status ${exit}${exit === 2 ? ' (bad usage or input: no phones run as asked)' : ''} (${ran} kept)`,
    };
  if (results === 0) return { status: 'broken', message: 'its folder holds no test results' };
  return {
    status: 'passed',
    message: `${ran}${exit !== undefined ? `, its run ended with exit status ${exit}` : ''}`,
  };
}

/** Merges the hosts' results into `outResults`; see the module comment. */
export async function mergeFarmResults(opts: MergeOptions): Promise<MergeSummary> {
  if (opts.dirs.length === 0 && !opts.expectedHosts?.length)
    throw new UsageError(
      '--merge needs a host folder, or the farm file (--farm) to report every host missing',
    );
  const warnings: string[] = [];
  const inputs: HostInput[] = [];
  for (const dir of opts.dirs) {
    const input = await readInput(dir);
    const twice = inputs.find((i) => i.host === input.host);
    if (twice)
      throw new UsageError(
        `${dir} and ${twice.dir} are both from lab host ${input.host}: give each host once`,
      );
    if (opts.expectedHosts && !opts.expectedHosts.includes(input.host))
      warnings.push(`${dir}: lab host ${input.host} is not in the farm file; merged all the same`);
    inputs.push(input);
  }

  const target = resolve(opts.outResults);
  if ((await exists(target)) && (!(await isDir(target)) || (await readdir(target)).length > 0))
    throw new UsageError(`${opts.outResults} is not an empty folder: the merged results need a fresh one`);
  await mkdir(dirname(target), { recursive: true });
  const stage = `${target}.merging-${randomUUID()}`;
  await mkdir(stage);
  try {
    const now = opts.now ?? Date.now();
    const from = new Map<string, string>();
    const categories: CategoryDef[] = [...PHONEHOME_CATEGORIES];
    const environment: [string, string][] = [];
    const hosts: MergedHost[] = [];
    let results = 0;
    const place = async (name: string, host: string, write: (to: string) => Promise<void>) => {
      const other = from.get(name);
      if (other !== undefined)
        throw new UsageError(
          `${name} from lab host ${host} has the name of a file from ${other}: not merged`,
        );
      from.set(name, host);
      await write(join(stage, name));
    };

    for (const input of inputs) {
      let count = 0;
      const env: [string, string][] = [];
      if (input.results) {
        for (const entry of await readdir(input.results, { withFileTypes: true })) {
          const file = join(input.results, entry.name);
          const name = entry.name;
          if (!entry.isFile()) {
            if (name !== 'history') warnings.push(`${file}: not a file, left out`);
            continue;
          }
          if (name.endsWith('-result.json')) {
            const data = await readJson(file);
            if (
              typeof data !== 'object' ||
              data === null ||
              Array.isArray(data) ||
              typeof (data as { uuid?: unknown }).uuid !== 'string'
            )
              throw new UsageError(`${file}: field uuid: not an Allure test result (an object with a uuid)`);
            const text = JSON.stringify(relabelResult(data as Record<string, unknown>, input.host));
            await place(name, input.host, (to) => writeFile(to, text));
            count++;
          } else if (name === 'categories.json') {
            const data = await readJson(file);
            if (!Array.isArray(data)) throw new UsageError(`${file}: not a list of categories`);
            for (const c of data as CategoryDef[])
              if (c && typeof c.name === 'string' && !categories.some((k) => k.name === c.name))
                categories.push(c);
          } else if (name === 'environment.properties') {
            env.push(...parseProperties(await readFile(file, 'latin1')));
          } else if (name === 'executor.json' || name === HOST_RECORD_FILE) {
            // The merge has one executor, the merging job's; a host's own record was read above.
          } else {
            await place(name, input.host, (to) => copyFile(file, to));
          }
        }
      }
      const verdict = hostVerdict(input, count);
      const merged: MergedHost = {
        host: input.host,
        dir: input.dir,
        results: count,
        ...(input.record ? { exitStatus: input.record.exitStatus } : {}),
        ...verdict,
        ...(input.baselines ? { baselines: input.baselines } : {}),
      };
      hosts.push(merged);
      results += count;
      environment.push(
        ...env.filter(([k]) => k !== 'host').map(([k, v]): [string, string] => [`${input.host}: ${k}`, v]),
      );
      const machine = env.find(([k]) => k === 'host')?.[1];
      if (machine) environment.push([`${input.host}: machine`, machine]);
    }
    for (const host of opts.expectedHosts ?? [])
      if (!hosts.some((h) => h.host === host)) hosts.push({ host, results: 0, ...hostVerdict(undefined, 0) });

    for (const h of hosts) {
      const r = hostResult(h, now);
      await writeFile(join(stage, `${r.uuid as string}-result.json`), JSON.stringify(r));
      results++;
    }
    const down = hosts.filter((h) => h.status === 'broken').map((h) => h.host);
    await writeFile(join(stage, 'categories.json'), JSON.stringify(categoriesWithHosts(categories), null, 2));
    await writeFile(
      join(stage, 'environment.properties'),
      formatProperties([
        ['lab hosts', hosts.map((h) => h.host).join(', ')],
        ...(down.length ? ([['lab hosts without results', down.join(', ')]] as [string, string][]) : []),
        ...environment,
      ]),
    );
    if (opts.executor) await writeFile(join(stage, 'executor.json'), JSON.stringify(opts.executor, null, 2));
    if (await exists(target)) await rmdir(target);
    await rename(stage, target);
    return { hosts, results, warnings };
  } catch (e) {
    await rm(stage, { recursive: true, force: true });
    throw e;
  }
}

/** The lab-host category: a host that sent nothing, or whose job ended otherwise than a run ends. */
export const LAB_HOST_CATEGORY: CategoryDef = {
  name: 'Lab hosts without results',
  description:
    "A lab host of the farm sent no results tonight (its runner offline, its job failed before the run) or its run ended otherwise than a run ends: its phones' tests are missing from this report.",
  matchedStatuses: ['broken'],
  traceRegex: '(?s).*\\[phonehome outcome=broken stage=farm kind=host[ \\]].*',
};

function categoriesWithHosts(categories: CategoryDef[]): CategoryDef[] {
  return categories.some((c) => c.name === LAB_HOST_CATEGORY.name)
    ? categories
    : [LAB_HOST_CATEGORY, ...categories];
}
