/**
 * The Appium process's surroundings: ports on 127.0.0.1, servers killed if this process exits without
 * stopping them, and what Appium spawned, found by PID so that only that is killed.
 */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** True when nothing listens on 127.0.0.1:port. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** Servers of this process still running: killed if the process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
export function watchForExit(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) signalChild(c, 'SIGKILL');
  });
}

export function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    child.kill(signal);
  } catch {
    // already gone
  }
}

/**
 * PIDs of a process's descendants (adb helpers Appium spawned), read from /proc; empty where there is
 * no /proc. Taken before a stop so that what Appium leaves behind can be killed by PID afterwards.
 */
export async function descendants(pid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const parentOf = new Map<number, number>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        try {
          const stat = await readFile(`/proc/${e}/stat`, 'utf8');
          // pid (comm) state ppid …: comm may hold spaces and parentheses, so parse after the last ')'.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          parentOf.set(Number(e), ppid);
        } catch {
          // exited meanwhile
        }
      }),
  );
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    for (const [child, parent] of parentOf)
      if (parent === p) {
        out.push(child);
        queue.push(child);
      }
  }
  // An adb server Appium happened to start serves everyone (phonehome's capture too): never ours to kill.
  const cmdlines = await Promise.all(out.map((p) => readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')));
  return out.filter((_, i) => !cmdlines[i]!.includes('fork-server'));
}
