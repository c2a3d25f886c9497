/** The shell's `test` / `[ … ]` builtin and `sleep`'s durations: pure checks over the phone's files. */
import { existsSync, statSync } from 'node:fs';
import type { PhoneEnv } from './command.js';

/** `sleep` takes seconds with an optional s/m/h suffix and fractions. */
export function parseDuration(a: string): number {
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
  if (!m) return Number.NaN;
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * mult;
}

/** test / [ … ]: the unary file and string tests, binary string and integer comparisons, !, -a, -o. */
export function evalTest(args: readonly string[], phone: PhoneEnv): boolean {
  const orParts = split(args, '-o');
  if (orParts.length > 1) return orParts.some((p) => evalTest(p, phone));
  const andParts = split(args, '-a');
  if (andParts.length > 1) return andParts.every((p) => evalTest(p, phone));
  if (args[0] === '!') return !evalTest(args.slice(1), phone);
  if (args.length === 0) return false;
  if (args.length === 1) return args[0] !== '';
  if (args.length === 2) {
    const [op, v] = args as [string, string];
    if (op === '-z') return v === '';
    if (op === '-n') return v !== '';
    const host = phone.hostPath(v);
    const st = host && existsSync(host) ? statSync(host) : undefined;
    switch (op) {
      case '-e':
        return st !== undefined;
      case '-f':
        return st?.isFile() ?? false;
      case '-d':
        return st?.isDirectory() ?? false;
      case '-s':
        return (st?.size ?? 0) > 0;
      case '-r':
      case '-w':
        return st !== undefined;
      case '-x':
        return st !== undefined && (st.mode & 0o111) !== 0;
      case '-L':
      case '-h':
        return false;
    }
    return false;
  }
  const [a, op, b] = args as [string, string, string];
  const n = (s: string) => Number.parseInt(s, 10);
  switch (op) {
    case '=':
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '-eq':
      return n(a) === n(b);
    case '-ne':
      return n(a) !== n(b);
    case '-gt':
      return n(a) > n(b);
    case '-ge':
      return n(a) >= n(b);
    case '-lt':
      return n(a) < n(b);
    case '-le':
      return n(a) <= n(b);
  }
  return false;
}

function split(args: readonly string[], sep: string): string[][] {
  const out: string[][] = [[]];
  for (const a of args) {
    if (a === sep) out.push([]);
    else out[out.length - 1]!.push(a);
  }
  return out;
}
