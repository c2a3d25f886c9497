/**
 * The builtins of the phone's shell that clients lean on: exit, export, unset, exec, :, true, false,
 * set, trap, umask, cd, test/[, sh/bash/mksh, su and sleep.
 */
import { existsSync, statSync } from 'node:fs';
import { type PhoneEnv, readAllFrom, sleepFor, writeTo } from './command.js';
import { evalTest, parseDuration } from './shell-conditions.js';
import type { ShellStreams } from './shell-streams.js';

export const SH = '/system/bin/sh';

/** `exit` (or `exec`) unwinding the shell with a status. */
export class ExitRequest {
  constructor(readonly code: number) {}
}

/** What a builtin reaches of the shell running it (ShellSession). */
export interface BuiltinHost {
  readonly vars: Map<string, string>;
  readonly exported: Set<string>;
  /** $? */
  readonly status: number;
  readonly phone: PhoneEnv;
  /** A subshell, as another user (su) or the same. */
  fork(uid?: number): BuiltinHost;
  /** Parses and runs a command line. */
  run(line: string, io: ShellStreams): Promise<number>;
  /** Runs one command, builtin or from the command table. */
  invoke(words: string[], env: Record<string, string>, io: ShellStreams): Promise<number>;
}

/** Runs `name` if it is a builtin; undefined when it is not. */
export async function builtin(
  shell: BuiltinHost,
  name: string,
  args: string[],
  env: Record<string, string>,
  io: ShellStreams,
): Promise<number | undefined> {
  const err = (d: string) => writeTo(io.stderr, d, io.signal);
  switch (name) {
    case 'exit': {
      const code = args[0] === undefined ? shell.status : Number.parseInt(args[0], 10);
      throw new ExitRequest(Number.isFinite(code) ? code & 255 : 2);
    }
    case 'export':
      for (const a of args) {
        const eq = a.indexOf('=');
        const k = eq < 0 ? a : a.slice(0, eq);
        if (eq >= 0) shell.vars.set(k, a.slice(eq + 1));
        shell.exported.add(k);
      }
      return 0;
    case 'unset':
      for (const a of args) {
        shell.vars.delete(a);
        shell.exported.delete(a);
      }
      return 0;
    case 'exec': {
      if (args.length === 0) return 0;
      const code = await shell.invoke(args, env, io);
      throw new ExitRequest(code);
    }
    case ':':
    case 'true':
      return 0;
    case 'false':
      return 1;
    case 'set':
    case 'trap':
    case 'umask':
      return 0;
    case 'cd': {
      const target = args[0] ?? '/';
      const host = shell.phone.hostPath(target);
      if (!host || !existsSync(host) || !statSync(host).isDirectory()) {
        await err(`${SH}: cd: ${target}: No such file or directory\n`);
        return 2;
      }
      shell.vars.set('PWD', target);
      return 0;
    }
    case 'test':
    case '[': {
      let a = args;
      if (name === '[') {
        if (a[a.length - 1] !== ']') {
          await err(`${SH}: [: missing ]\n`);
          return 2;
        }
        a = a.slice(0, -1);
      }
      return evalTest(a, shell.phone) ? 0 : 1;
    }
    case 'sh':
    case 'bash':
    case 'mksh': {
      if (args[0] === '-c' && args[1] !== undefined) {
        const child = shell.fork();
        return child.run(args[1], io);
      }
      if (args.length === 0) {
        const script = (await readAllFrom(io.stdin, io.signal)).toString('utf8');
        return shell.fork().run(script, io);
      }
      const host = shell.phone.hostPath(args[0]!);
      if (!host || !existsSync(host)) {
        await err(`${SH}: ${args[0]}: No such file or directory\n`);
        return 127;
      }
      const { readFile } = await import('node:fs/promises');
      return shell.fork().run(await readFile(host, 'utf8'), io);
    }
    case 'su': {
      if (!shell.phone.state.profile.rooted) {
        await err(`${SH}: su: inaccessible or not found\n`);
        return 127;
      }
      let rest = args;
      while (
        rest[0] === '0' ||
        rest[0] === 'root' ||
        rest[0] === '-' ||
        rest[0] === '--mount-master' ||
        rest[0] === '-mm'
      )
        rest = rest.slice(1);
      const child = shell.fork(0);
      if (rest[0] === '-c') return child.run(rest.slice(1).join(' '), io);
      if (rest.length > 0)
        return child
          .invoke(rest, env, io)
          .catch((e) => (e instanceof ExitRequest ? e.code : Promise.reject(e)));
      const script = (await readAllFrom(io.stdin, io.signal)).toString('utf8');
      return child.run(script, io);
    }
    case 'sleep': {
      const secs = args.reduce((s, a) => s + parseDuration(a), 0);
      if (!Number.isFinite(secs)) {
        await err(`sleep: invalid number '${args[0] ?? ''}'\n`);
        return 1;
      }
      // Seconds of phone time: at the lab's speed, a sleep lasts as long as the traffic's timers say it does.
      return (await sleepFor((secs * 1000) / shell.phone.speed, io.signal)) ? 0 : 130;
    }
  }
  return undefined;
}
