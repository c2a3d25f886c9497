/**
 * The compiled CLI as a lab engineer runs it, for integration tests: `phonehome ARGS` as a child
 * process (CI=true, so plain lines), its output as it comes, and the simulated labs a run reported
 * put away afterwards by their state folders (never by a name pattern).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Verdict } from '../harness/verdict/verdict.js';

const exec = promisify(execFile);

/** The compiled CLI. */
export const MAIN = resolve('dist/harness/cli/main.js');

/** A finished `phonehome` process. */
export interface CliRun {
  pid: number;
  /** Date.now() when it ended. */
  ended: number;
  code: number | null;
  /** Standard output and error, interleaved as they came. */
  out: string;
}

/**
 * Runs `phonehome ARGS`; `onOut` sees the output so far each time more comes; `env` is added to
 * this process's environment.
 */
export function phonehomeProcess(
  args: string[],
  onOut?: (text: string) => void,
  env: Record<string, string> = {},
): Promise<CliRun> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true', ...env },
    });
    let out = '';
    const take = (d: Buffer) => {
      out += d.toString();
      onOut?.(out);
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('close', (code) => done({ pid: p.pid!, ended: Date.now(), code, out }));
  });
}

/** The state folders of the simulated labs a run's output reports up. */
export function labStateDirs(out: string): string[] {
  return [...out.matchAll(/simulated lab \S+ up \([^)]*state dir ([^)]+)\)/g)].map((m) => m[1]!.trim());
}

/** `phonehome sim down` for every lab these outputs report and a failed run may have left up. */
export async function putLabsAway(outputs: (string | undefined)[]): Promise<void> {
  for (const out of outputs)
    for (const dir of labStateDirs(out ?? ''))
      if (existsSync(dir))
        await exec(process.execPath, [MAIN, 'sim', 'down', '--state-dir', dir]).catch(() => {});
}

/** Connections a verdict judged under that name (the lookups of it, judged apart, left out). */
export function connectionsTo(v: Verdict, host: string): number {
  return v.judgements.filter((j) => j.subject === host && j.provenance !== 'dns-query').length;
}
