/**
 * One phonehome process per phone: a lock per adb serial on this host, so that two runs (two farm
 * jobs, a person running by hand) never drive the same phone. The locks are proper-lockfile's: a
 * held lock's time stamp is renewed every few seconds, so one whose holder died without letting go
 * (kill -9, a power cut) goes stale and is taken over. Beside each lock, who holds it and since
 * when, for the message the second process prints.
 */
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { UsageError } from '../errors.js';

/** Who holds a phone. */
export interface PhoneLockHolder {
  pid: number;
  host: string;
  /** The holder's command line, for people. */
  command: string;
  /** ISO time it took the phone. */
  since: string;
}

/** A phone another process has: its serial and, when it could be read, who has it. */
export class PhoneBusyError extends UsageError {
  override name = 'PhoneBusyError';
  constructor(
    readonly serial: string,
    readonly holder: PhoneLockHolder | undefined,
    waitedMs: number,
  ) {
    super(
      `phone ${serial} is busy: ${
        holder
          ? `phonehome (pid ${holder.pid} on ${holder.host}) has had it since ${holder.since}: ${holder.command}`
          : 'another phonehome process has it'
      }${waitedMs > 0 ? ` (waited ${Math.round(waitedMs / 1000)} s)` : ''}; --wait-for-phones SECONDS waits for it`,
    );
  }
}

export interface PhoneLockOptions {
  /** Where the locks live (default $PHONEHOME_LOCK_DIR, else TMPDIR/phonehome-locks): one per host. */
  dir?: string;
  /** How long to wait for a busy phone, in ms (default 0: refuse at once). */
  waitMs?: number;
  /** Stops a wait. */
  signal?: AbortSignal;
  /** A lock found stale (its holder died) and taken over, or one lost while held. */
  onNote?: (text: string) => void;
  /** ms after which a lock nobody renews is stale (default 10 s; renewed every half of it). */
  staleMs?: number;
}

/** Locks held by this process; release() lets them all go. */
export interface PhoneLocks {
  serials: string[];
  release(): Promise<void>;
}

/** The lock folder of this host. */
export function defaultLockDir(): string {
  return process.env.PHONEHOME_LOCK_DIR || join(tmpdir(), 'phonehome-locks');
}

/** A file name for a serial: serials of TCP phones hold ":", and nothing may escape the folder. */
function fileFor(dir: string, serial: string): string {
  return join(dir, encodeURIComponent(serial).replace(/\./g, '%2E'));
}

async function readHolder(file: string): Promise<PhoneLockHolder | undefined> {
  try {
    const h = JSON.parse(await readFile(`${file}.holder.json`, 'utf8')) as PhoneLockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes every phone's lock, in serial order (two processes asking for overlapping sets cannot hold
 * one each and wait for the other). Throws PhoneBusyError, having let go of what it took, when a
 * phone stays busy past the wait.
 */
export async function lockPhones(
  serials: readonly string[],
  opts: PhoneLockOptions = {},
): Promise<PhoneLocks> {
  const dir = opts.dir ?? defaultLockDir();
  // Every user's phonehome on this host shares the folder (sticky, as /tmp is).
  try {
    await mkdir(dir, { recursive: true, mode: 0o1777 });
    // The umask took bits off: give them back when the folder is ours (someone else's stays as it is).
    await chmod(dir, 0o1777).catch(() => {});
  } catch (err) {
    throw new UsageError(
      `cannot make the phone lock folder ${dir}: ${(err as Error).message} ($PHONEHOME_LOCK_DIR sets another)`,
    );
  }
  const staleMs = opts.staleMs ?? 30_000;
  const waitMs = opts.waitMs ?? 0;
  const note = opts.onNote ?? (() => {});
  const held: { serial: string; file: string; unlock: () => Promise<void> }[] = [];
  const releaseAll = async () => {
    for (const h of held.splice(0).reverse()) {
      await rm(`${h.file}.holder.json`, { force: true }).catch(() => {});
      await h.unlock().catch(() => {});
    }
  };
  const me: PhoneLockHolder = {
    pid: process.pid,
    host: hostname(),
    command: process.argv.slice(1).join(' '),
    since: new Date().toISOString(),
  };
  try {
    for (const serial of [...new Set(serials)].sort()) {
      const file = fileFor(dir, serial);
      const started = Date.now();
      for (;;) {
        try {
          const unlock = await lockfile.lock(file, {
            realpath: false,
            stale: staleMs,
            update: Math.floor(staleMs / 2),
            retries: 0,
            // A lock lost while held (its folder removed, the disk gone): say so, do not crash the run.
            onCompromised: (err) => note(`the lock on phone ${serial} was lost while held: ${err.message}`),
          });
          held.push({ serial, file, unlock });
          await writeFile(
            `${file}.holder.json`,
            `${JSON.stringify({ ...me, since: new Date().toISOString() })}\n`,
          );
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ELOCKED')
            throw new UsageError(
              `cannot lock phone ${serial} in ${dir}: ${(err as Error).message} ($PHONEHOME_LOCK_DIR sets another folder)`,
            );
          const holder = await readHolder(file);
          // Its holder is gone from this host (kill -9): the lock is taken over without waiting for it to go stale.
          if (holder && holder.host === me.host && holder.pid !== process.pid && !alive(holder.pid)) {
            note(`phone ${serial}: taking over the lock of phonehome pid ${holder.pid}, which is gone`);
            await rm(`${file}.lock`, { recursive: true, force: true });
            await rm(`${file}.holder.json`, { force: true });
            continue;
          }
          const waited = Date.now() - started;
          if (waited >= waitMs || opts.signal?.aborted) throw new PhoneBusyError(serial, holder, waited);
          await new Promise((r) => setTimeout(r, Math.min(1000, waitMs - waited)));
        }
      }
    }
  } catch (err) {
    await releaseAll();
    throw err;
  }
  return { serials: held.map((h) => h.serial), release: releaseAll };
}
