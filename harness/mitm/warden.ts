/**
 * The interception warden: a small process phonehome starts detached (its own session, so Ctrl-C to
 * phonehome's terminal does not reach it) and tells, on its stdin, each thing it must undo if
 * phonehome dies: a process to kill (mitmdump) and a command that removes a firewall rule. When
 * phonehome undoes one itself it says so. When its stdin closes (phonehome exited, normally or by
 * `kill -9`) it undoes whatever is left and exits. Lines, JSON:
 *   {"id":"…","kill":PID}        {"id":"…","undo":["iptables","-w","-t","nat","-D",…]}
 *   {"done":"…"}
 */
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

type Task = { kill: number } | { undo: string[] };

const pending = new Map<string, Task>();
const logFile = process.argv[2];

function log(line: string): void {
  if (logFile) {
    try {
      appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    } catch {}
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function undoAll(): Promise<void> {
  // Processes first (the proxy stops taking connections), then the rules that sent traffic to it.
  const tasks = [...pending.entries()].sort(([, a], [, b]) => Number('undo' in a) - Number('undo' in b));
  for (const [id, t] of tasks) {
    if ('kill' in t) {
      if (!alive(t.kill)) continue;
      try {
        process.kill(t.kill, 'SIGTERM');
      } catch {}
      const end = Date.now() + 5000;
      while (alive(t.kill) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      if (alive(t.kill))
        try {
          process.kill(t.kill, 'SIGKILL');
        } catch {}
      log(`${id}: stopped pid ${t.kill}`);
    } else {
      await new Promise<void>((resolve) =>
        execFile(t.undo[0]!, t.undo.slice(1), { timeout: 15_000 }, (err) => {
          log(`${id}: ${t.undo.join(' ')}${err ? `: ${err.message.trim()}` : ''}`);
          resolve();
        }),
      );
    }
  }
  pending.clear();
}

process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  let m: { id?: string; kill?: number; undo?: string[]; done?: string };
  try {
    m = JSON.parse(line);
  } catch {
    return;
  }
  if (m.done) pending.delete(m.done);
  else if (m.id && typeof m.kill === 'number') pending.set(m.id, { kill: m.kill });
  else if (m.id && Array.isArray(m.undo) && m.undo.every((a) => typeof a === 'string'))
    pending.set(m.id, { undo: m.undo });
});
lines.on('close', () => {
  void undoAll().finally(() => process.exit(0));
});
