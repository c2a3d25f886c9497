/**
 * Simulated labs brought up and taken down through the CLI (`phonehome sim up --json` and
 * `phonehome sim down`), as a lab engineer would, each with its own state folder; taking a lab down
 * goes by that folder, never by a name pattern.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { SimState } from '../sim/sim-state.js';

const run = promisify(execFile);
const CLI = 'dist/harness/cli/main.js';

/** A lab that `sim up` reported up. */
export interface CliLab {
  /** Its state folder. */
  dir: string;
  /** The adb server its phones are connected to. */
  adbPort: number;
  /** What `sim up --json` printed. */
  state: SimState;
}

/**
 * `phonehome sim up --json` with a fresh state folder; `args` are the further options (--profile,
 * --speed, --misbehave, --unauthorized …). Rejects with the CLI's output when it fails.
 */
export async function simUpCli(adbPort: number, args: string[]): Promise<CliLab> {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-cli-lab-'));
  try {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'sim', 'up', '--adb-port', String(adbPort), '--state-dir', dir, '--json', ...args],
      { timeout: 150_000 },
    );
    return { dir, adbPort, state: JSON.parse(stdout) as SimState };
  } catch (e) {
    await simDownCli(dir);
    throw e;
  }
}

/** `phonehome sim down` for the lab (or its state folder), then removes the folder. Never throws. */
export async function simDownCli(lab: CliLab | string | undefined): Promise<void> {
  if (lab === undefined) return;
  const dir = typeof lab === 'string' ? lab : lab.dir;
  await run(process.execPath, [CLI, 'sim', 'down', '--state-dir', dir], { timeout: 60_000 }).catch(() => {});
  await rm(dir, { recursive: true, force: true });
}
