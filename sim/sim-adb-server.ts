/**
 * The few adb server operations `sim up`/`sim down` need. Starting and stopping a server go through the
 * adb command line; listing, connecting and disconnecting phones speak the server's host protocol on its
 * socket, because the adb command line starts a server of its own when none answers, and the lab's
 * watcher must never race a server someone else is starting (`adb kill-server; adb start-server`).
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

/**
 * One host service request (`host:devices`, `host:connect:T`, ...) on the adb server's socket, resolving
 * with the reply's text. Refused connections are errors: no server is ever started here.
 */
export function hostService(port: number, service: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const what = `adb server 127.0.0.1:${port} ${service}`;
    const s = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | undefined, text?: string) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (err) reject(err);
      else resolve(text ?? '');
    };
    // OKAY or FAIL, then a length-prefixed text (hex, four digits).
    const tryParse = (ended: boolean) => {
      if (buf.length < 4) {
        if (ended) finish(new SimLabError(what, 'the server closed the connection without a reply'));
        return;
      }
      const status = buf.subarray(0, 4).toString('latin1');
      if (status !== 'OKAY' && status !== 'FAIL') {
        finish(new SimLabError(what, `unexpected reply ${JSON.stringify(status)}`));
        return;
      }
      if (buf.length < 8) {
        if (ended) status === 'OKAY' ? finish(undefined, '') : finish(new SimLabError(what, 'failed'));
        return;
      }
      const len = Number.parseInt(buf.subarray(4, 8).toString('latin1'), 16);
      if (!Number.isFinite(len)) {
        finish(new SimLabError(what, 'reply length is not hexadecimal'));
        return;
      }
      if (buf.length < 8 + len) {
        if (ended) finish(new SimLabError(what, 'reply cut short'));
        return;
      }
      const text = buf.subarray(8, 8 + len).toString('utf8');
      if (status === 'OKAY') finish(undefined, text);
      else finish(new SimLabError(what, text || 'failed'));
    };
    s.setTimeout(timeoutMs, () => finish(new SimLabError(what, `no reply within ${timeoutMs} ms`)));
    s.once('error', (e) => finish(new SimLabError(what, e.message, { cause: e })));
    s.once('connect', () => {
      const req = Buffer.from(service, 'utf8');
      s.write(Buffer.concat([Buffer.from(req.length.toString(16).padStart(4, '0'), 'latin1'), req]));
    });
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      tryParse(false);
    });
    s.once('end', () => tryParse(true));
  });
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
  const out = (await hostService(port, `host:connect:${target}`)).trim();
  // An unauthorized phone is connected too: the server lists it as "unauthorized".
  if (!/connected to|failed to authenticate/.test(out))
    throw new SimLabError(`adb -P ${port} connect ${target}`, out);
  return out;
}

/** The state the adb server lists for each serial (`adb devices`). */
export async function adbDevices(port: number): Promise<Map<string, string>> {
  const out = await hostService(port, 'host:devices');
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const [serial, state] = line.trim().split(/\s+/);
    if (serial && state) m.set(serial, state);
  }
  return m;
}
