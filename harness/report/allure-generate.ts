/**
 * Turning allure-results into a report with the Java Allure CLI (allure-commandline), carrying the
 * history across nights: the previous report's history/ goes into the results before generating, and
 * the new history is saved beside the new report. A single-file report (one index.html that opens from
 * disk, no web server) keeps its history inside the page, so it is read back out of it. Allure's
 * analytics are switched off: the report contacts no one.
 */

import { spawn } from 'node:child_process';
import { constants, createReadStream } from 'node:fs';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { within } from '../deadline.js';
import { UsageError } from '../errors.js';

/** Where and how to generate. */
export interface GenerateOptions {
  /** The allure-results folder. */
  resultsDir: string;
  /** The report folder; replaced by the new report. */
  outDir: string;
  /** The previous report, whose history carries the trends on (default: outDir). */
  historyFrom?: string;
  /** One self-contained index.html (default true). */
  singleFile?: boolean;
  /** Environment for finding Java and running the CLI (default process.env). */
  env?: Record<string, string | undefined>;
  /** Give up after this long, ms (default 10 minutes). */
  deadlineMs?: number;
  /** Stops the generation. */
  signal?: AbortSignal;
}

/** A generated report. */
export interface GeneratedReport {
  /** Absolute path of the report's index.html. */
  indexHtml: string;
  /** How long `allure generate` took, ms. */
  generateMs: number;
  /** History files copied from the previous report into the results. */
  historyIn: number;
  /** History files saved beside the new report for the next one. */
  historyOut: number;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The java binary: $JAVA_HOME/bin/java, else `java` on PATH; undefined when there is none. */
export async function findJava(env: Record<string, string | undefined>): Promise<string | undefined> {
  if (env.JAVA_HOME) {
    const java = join(env.JAVA_HOME, 'bin', 'java');
    if (await isExecutable(java)) return java;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, 'java')))) return join(dir, 'java');
  }
  return undefined;
}

/** The allure-commandline launcher script from node_modules. */
export function allureBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('allure-commandline/package.json')), 'dist', 'bin', 'allure');
}

/** Copies the previous report's history/ into the results; resolves to the number of files copied. */
export async function copyHistory(reportDir: string, resultsDir: string): Promise<number> {
  const from = join(reportDir, 'history');
  let names: string[];
  try {
    names = (await readdir(from)).filter((n) => n.endsWith('.json'));
  } catch {
    return 0;
  }
  await mkdir(join(resultsDir, 'history'), { recursive: true });
  for (const n of names) await cp(join(from, n), join(resultsDir, 'history', n));
  return names.length;
}

/**
 * The history files embedded in a single-file report: Allure's page registers each data file as
 * d('history/NAME.json','BASE64'). Returns name → JSON text; only names of plain .json files.
 */
export function extractHistory(indexHtml: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /d\('history\/([A-Za-z0-9_-]+\.json)','([A-Za-z0-9+/=]*)'\)/g;
  for (const m of indexHtml.matchAll(re)) {
    const text = Buffer.from(m[2]!, 'base64').toString('utf8');
    try {
      JSON.parse(text);
      out.set(m[1]!, text);
    } catch {
      // not history as Allure writes it: leave it out rather than poison the next report
    }
  }
  return out;
}

async function hasResults(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).some((n) => n.endsWith('-result.json') || n.endsWith('-testsuite.xml'));
  } catch {
    return false;
  }
}

/** Refuses to let `--clean` wipe a folder that is not a report (a mistyped --out .). */
async function checkOutDir(outDir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(outDir);
  } catch {
    return;
  }
  if (names.length > 0 && !names.includes('index.html') && !names.includes('history')) {
    throw new UsageError(
      `${outDir} is not empty and holds no Allure report; refusing to replace it (choose another --out)`,
    );
  }
}

/** Runs the allure CLI; resolves with its output, rejects with its last lines when it fails. */
async function runAllure(
  args: string[],
  env: Record<string, string | undefined>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<string> {
  const child = spawn(allureBin(), args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    output += b.toString();
  });
  const closed = new Promise<number | null>((resolveClose, reject) => {
    child.on('error', (e) => reject(new Error(`cannot run allure-commandline: ${e.message}`)));
    child.on('close', (code) => resolveClose(code));
  });
  // Java and its children form one process group: a deadline or a stop ends all of it.
  const kill = () => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const r = await within(closed, signal ? { deadlineMs, signal } : { deadlineMs }, { onCancel: kill });
  const code = r.done ? r.value : await closed.catch(() => null);
  if (r.done && code === 0) return output;
  const why = r.done
    ? `exited ${code ?? 'on a signal'}`
    : r.why === 'aborted'
      ? 'was stopped'
      : `took more than ${r.ms} ms`;
  const tail = output.trim().split('\n').slice(-3).join(' | ');
  throw new Error(`allure generate ${why}${tail ? `: ${tail}` : ''}`);
}

async function firstBytesInclude(file: string, text: string): Promise<boolean> {
  const stream = createReadStream(file, { start: 0, end: 4095, encoding: 'utf8' });
  let head = '';
  for await (const chunk of stream) head += chunk;
  return head.includes(text);
}

/**
 * Generates the report: history in, `allure generate [--single-file] --clean -o OUT RESULTS`, history
 * out. Missing results or Java are UsageErrors (one line for the user); a failing CLI is an Error.
 */
export async function generateReport(opts: GenerateOptions): Promise<GeneratedReport> {
  const env = opts.env ?? process.env;
  const resultsDir = resolve(opts.resultsDir);
  const outDir = resolve(opts.outDir);
  const singleFile = opts.singleFile ?? true;
  const deadlineMs = opts.deadlineMs ?? 600_000;
  if (!(await hasResults(resultsDir))) {
    throw new UsageError(
      `no Allure results in ${opts.resultsDir} (run the suites first, or pass --results DIR)`,
    );
  }
  const java = await findJava(env);
  if (!java) {
    throw new UsageError(
      'Java is not installed: allure-commandline needs Java 8 or newer (set JAVA_HOME, or apt-get install default-jre-headless)',
    );
  }
  await checkOutDir(outDir);
  // The launcher script trusts JAVA_HOME blindly; hand it the Java actually found. A tool that asks
  // what phones send home must not send anything itself: ALLURE_NO_ANALYTICS=true keeps the CLI from
  // reporting the generation and the page from loading Google's tag script (only "true" turns off both).
  const childEnv = { ...env, JAVA_HOME: dirname(dirname(java)), ALLURE_NO_ANALYTICS: 'true' };

  const historyIn = await copyHistory(resolve(opts.historyFrom ?? outDir), resultsDir);
  const args = ['generate', ...(singleFile ? ['--single-file'] : []), '--clean', '-o', outDir, resultsDir];
  const t0 = performance.now();
  await runAllure(args, childEnv, deadlineMs, opts.signal);
  const generateMs = Math.round(performance.now() - t0);
  const indexHtml = join(outDir, 'index.html');
  if (!(await isFile(indexHtml)) || !(await firstBytesInclude(indexHtml, '<'))) {
    throw new Error(`allure generate finished but wrote no ${indexHtml}`);
  }

  let historyOut = 0;
  if (singleFile) {
    let history = extractHistory(await readFile(indexHtml, 'utf8'));
    if (history.size === 0)
      history = await historyFromFullReport(resultsDir, childEnv, deadlineMs, opts.signal);
    await mkdir(join(outDir, 'history'), { recursive: true });
    for (const [name, text] of history) await writeFile(join(outDir, 'history', name), text);
    historyOut = history.size;
  } else {
    historyOut = (await readdir(join(outDir, 'history')).catch(() => [])).length;
  }
  return { indexHtml, generateMs, historyIn, historyOut };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Fallback when a future Allure embeds history differently: a normal report's history/ files. */
async function historyFromFullReport(
  resultsDir: string,
  env: Record<string, string | undefined>,
  deadlineMs: number,
  signal?: AbortSignal,
): Promise<Map<string, string>> {
  const tmp = await mkdtemp(join(tmpdir(), 'phonehome-history-'));
  try {
    await runAllure(['generate', '--clean', '-o', join(tmp, 'r'), resultsDir], env, deadlineMs, signal);
    const out = new Map<string, string>();
    const dir = join(tmp, 'r', 'history');
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      out.set(n, await readFile(join(dir, n), 'utf8'));
    }
    return out;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
