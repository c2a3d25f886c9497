/**
 * The few adb server operations `sim up`/`sim down` need, through the adb command line: start a server
 * on a port, connect and disconnect the simulated phones, stop a server this lab started.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { SimLabError } from './errors.js';

const exec = promisify(execFile);

function adbBin(): string {
  return process.env['PHONEHOME_ADB'] || 'adb';
}

/** Runs `adb -P PORT ARGS`, resolving with stdout. */
export async function adb(port: number, args: string[], timeoutMs = 20_000): Promise<string> {
  const cmd = [adbBin(), '-P', String(port), ...args];
  try {
    const { stdout } = await exec(cmd[0]!, cmd.slice(1), { timeout: timeoutMs });
    return stdout;
  } catch (err) {
    const e = err as { code?: number; stderr?: string };
    const exit = typeof e.code === 'number' ? `exit ${e.code}` : 'did not run';
    throw new SimLabError(cmd.join(' '), `${exit}${e.stderr ? `: ${e.stderr.trim()}` : ''}`, { cause: err });
  }
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function isListening(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    const done = (v: boolean) => {
      s.destroy();
      resolve(v);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

/** Connects the adb server to a simulated adbd; resolves with adb's answer line. */
export async function adbConnect(port: number, target: string): Promise<string> {
  const out = (await adb(port, ['connect', target])).trim();
  // An unauthorized phone is connected too: the server lists it as "unauthorized".
  if (!/connected to|failed to authenticate/.test(out))
    throw new SimLabError(`adb -P ${port} connect ${target}`, out);
  return out;
}

/** The state the adb server lists for each serial (`adb devices`). */
export async function adbDevices(port: number): Promise<Map<string, string>> {
  const out = await adb(port, ['devices']);
  const m = new Map<string, string>();
  for (const line of out.split('\n').slice(1)) {
    const [serial, state] = line.trim().split(/\s+/);
    if (serial && state) m.set(serial, state);
  }
  return m;
}
