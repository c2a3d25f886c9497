/**
 * Simulated phones for a run (`phonehome run --sim`, the demo): each group of profiles that share
 * misbehaviours is one simulated lab, brought up and put away through the simulator's own command.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../errors.js';
import { type SimLabState, simCommandArgs } from './sim-entry.js';

const exec = promisify(execFile);

/** A simulated lab brought up for a run: profiles that share one set of misbehaviours. */
export interface SimLab {
  /** Its state folder. */
  dir: string;
  /** What `sim up --json` said. */
  state: SimLabState;
}

/** What --sim asks for: one simulated phone. */
export interface SimSpec {
  /** devices/sim/PROFILE.yaml. */
  profile: string;
  /** Misbehaviours switched on. */
  misbehave: string[];
}

/** State folders of the simulated labs up right now, for the message of a second Ctrl-C. */
export const simLabsUp = new Set<string>();

/** "xiaomi-redmi-note-13+unknown-host+leak-ids" → profile and misbehaviours. */
export function parseSimSpec(spec: string): SimSpec {
  const [profile, ...misbehave] = spec.split('+');
  if (!profile || !/^[a-z0-9][a-z0-9-]*$/.test(profile))
    throw new UsageError(`--sim: not a simulated profile: ${spec}`);
  for (const m of misbehave)
    if (!/^[a-z0-9-]+$/.test(m)) throw new UsageError(`--sim: not a misbehaviour: ${m}`);
  return { profile, misbehave };
}

/** The specs grouped by their misbehaviours: one lab per group. */
export function simGroups(specs: readonly SimSpec[]): { profiles: string[]; misbehave: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const { profile, misbehave } of specs) {
    const key = [...misbehave].sort().join(',');
    groups.set(key, [...(groups.get(key) ?? []), profile]);
  }
  return [...groups].map(([key, profiles]) => ({ profiles, misbehave: key ? key.split(',') : [] }));
}

/** Brings up one simulated lab whose phones connect to the adb server on adbPort. */
export async function simUp(
  profiles: string[],
  misbehave: string[],
  speed: number,
  adbPort: number,
  opts: { rooted?: boolean; simCard?: boolean } = {},
): Promise<SimLab> {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-sim-'));
  simLabsUp.add(dir);
  const args = ['up', '--profile', ...profiles, '--speed', String(speed), '--adb-port', String(adbPort)];
  args.push('--state-dir', dir, '--json', ...(misbehave.length ? ['--misbehave', misbehave.join(',')] : []));
  if (opts.rooted) args.push('--rooted');
  if (opts.simCard) args.push('--sim-card');
  try {
    const { stdout } = await exec(process.execPath, simCommandArgs(args), {
      timeout: 180_000,
      maxBuffer: 16 << 20,
    });
    return { dir, state: JSON.parse(stdout) as SimLabState };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    await simDown({ dir, state: { labId: '', namespaces: [], phones: [] } }, 60_000);
    throw new UsageError(
      `simulated phones did not come up: ${(e.stderr ?? e.message).trim().split('\n').pop()}`,
    );
  }
}

/** Puts a simulated lab away: every namespace, link and process it made, then its state folder. */
export async function simDown(lab: SimLab, timeoutMs = 120_000): Promise<void> {
  await exec(process.execPath, simCommandArgs(['down', '--state-dir', lab.dir]), {
    timeout: timeoutMs,
  }).catch(() => {});
  await rm(lab.dir, { recursive: true, force: true });
  simLabsUp.delete(lab.dir);
}
