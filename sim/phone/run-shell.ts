/**
 * Runs one command line on a SimPhone in-process and collects its output, as the adbd side would with
 * shell,v2 (stdout and stderr apart, exit status). For tests and for scenario code that drives a
 * simulated phone without adb.
 */
import { PassThrough, Writable } from 'node:stream';
import type { SimPhone } from '../contracts.js';

/** What one command produced. */
export interface ShellResult {
  /** Standard output as text. */
  stdout: string;
  /** Standard output bytes (for binary output such as screencap -p). */
  stdoutBytes: Buffer;
  /** Standard error as text. */
  stderr: string;
  /** Exit status. */
  code: number;
}

/** Runs `command`; `stdin` is fed then closed; `signal` stands for the client going away. */
export async function runShell(
  phone: SimPhone,
  command: string,
  opts: { stdin?: Buffer | string; signal?: AbortSignal; keepStdinOpen?: boolean } = {},
): Promise<ShellResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const sink = (into: Buffer[]) =>
    new Writable({
      write(c: Buffer, _e, cb) {
        into.push(Buffer.from(c));
        cb();
      },
    });
  const stdin = new PassThrough();
  if (opts.stdin !== undefined) stdin.write(opts.stdin);
  if (!opts.keepStdinOpen) stdin.end();
  const code = await phone.shell(command, {
    stdin,
    stdout: sink(out),
    stderr: sink(err),
    signal: opts.signal ?? new AbortController().signal,
    pty: false,
  });
  const stdoutBytes = Buffer.concat(out);
  return {
    stdout: stdoutBytes.toString('utf8'),
    stdoutBytes,
    stderr: Buffer.concat(err).toString('utf8'),
    code,
  };
}
