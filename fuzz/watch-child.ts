/**
 * The fuzz runner's watchdog: a campaign child prints `progress N` as it goes and one `result {…}`
 * line at the end; a child silent for the hang limit is killed and reported as a hang, with the seed
 * that replays it; a child that dies says how, with its last lines of stderr.
 */
import { spawn } from 'node:child_process';
import type { CampaignResult } from './campaign.js';

export interface ChildReport extends CampaignResult {
  /** Peak resident set of the child, MB. */
  peakRssMb: number;
  /** Set when the child was killed for silence or died. */
  died?: string;
}

/** Runs `node ARGS` as the campaign of `target` and watches it; resolves with its report. */
export function watchChild(
  args: string[],
  o: { target: string; seed: number; silenceMs: number },
): Promise<ChildReport> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let done = 0;
    let killed: string | undefined;
    let timer = setTimeout(() => undefined, 0);
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        killed = `no progress for ${o.silenceMs / 1000} s after ${done} inputs: a hang (replay: --target ${o.target} --seed ${o.seed})`;
        c.kill('SIGKILL');
      }, o.silenceMs);
    };
    watch();
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /progress (\d+)\n[^\n]*$/.exec(out);
      if (m) done = Number(m[1]);
      watch();
    });
    c.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('result '));
      if (line && !killed) return resolve(JSON.parse(line.slice(7)) as ChildReport);
      resolve({
        target: o.target,
        inputs: done,
        seed: o.seed,
        seconds: 0,
        slowestMs: 0,
        peakRssMb: 0,
        died: killed ?? `exited ${code ?? signal}: ${whatItSaid(err)}`,
      });
    });
  });
}

/** The error line of a dying child's stderr (Node prints the stack after it), else its last lines. */
function whatItSaid(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return (
    lines.find((l) => /^\w*Error\b.*:/.test(l.trim()))?.trim() ??
    lines
      .slice(-3)
      .map((l) => l.trim())
      .join(' | ')
  );
}
