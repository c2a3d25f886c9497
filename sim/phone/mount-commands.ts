/**
 * Mounts, as the root procedures that put a CA in Android's system store need them: `mount -t tmpfs
 * tmpfs DIR` (an empty folder over DIR until reboot), `mount --bind SRC DST` / `mount -o bind SRC DST`
 * (DST shows SRC), `nsenter --mount=/proc/PID/ns/mnt -- CMD…` (the phone has one mount namespace, so
 * CMD runs here), `chcon` (SELinux labels are not modelled; root may set them). Only root may mount.
 */
import { mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import type { CommandHandler } from './command.js';

const notRoot = async (c: Parameters<CommandHandler>[0]) => {
  await c.err(`${c.name}: Permission denied\n`);
  return 1;
};

const mount: CommandHandler = async (c) => {
  if (c.args.length === 0) {
    for (const [at] of c.phone.mounts) await c.out(`tmpfs on ${at} type tmpfs (rw,seclabel,relatime)\n`);
    return 0;
  }
  if (c.uid !== 0) return notRoot(c);
  let type = '';
  let bind = false;
  const paths: string[] = [];
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-t') type = c.args[++i] ?? '';
    else if (a === '--bind' || a === '-B') bind = true;
    else if (a === '-o') bind = (c.args[++i] ?? '').split(',').includes('bind') || bind;
    else if (a.startsWith('-')) continue;
    else paths.push(a);
  }
  const target = paths[paths.length - 1];
  if (!target || (!bind && type !== 'tmpfs') || (bind && paths.length !== 2)) {
    await c.err(`mount: only "mount -t tmpfs tmpfs DIR" and "mount --bind SRC DIR" are supported here\n`);
    return 1;
  }
  const at = posix.normalize(posix.join('/', target));
  const where = c.phone.hostPath(at);
  if (!where) {
    await c.err(`mount: ${target}: No such file or directory\n`);
    return 1;
  }
  if (bind) {
    const src = c.phone.hostPath(paths[0]!);
    if (!src) {
      await c.err(`mount: ${paths[0]}: No such file or directory\n`);
      return 1;
    }
    c.phone.mounts.set(at, src);
  } else {
    // Inside the phone's tree (under /dev, a tmpfs on a real phone too), so it goes with the phone.
    const dir = `${c.phone.rootDir}/dev/.tmpfs/${c.phone.mounts.size}-${Date.now()}`;
    mkdirSync(dir, { recursive: true });
    c.phone.mounts.set(at, dir);
  }
  c.phone.state.emitChange('mount');
  return 0;
};

const nsenter: CommandHandler = async (c) => {
  if (c.uid !== 0) return notRoot(c);
  let i = 0;
  while (i < c.args.length && c.args[i]!.startsWith('-') && c.args[i] !== '--') i++;
  if (c.args[i] === '--') i++;
  const rest = c.args.slice(i);
  if (rest.length === 0) {
    await c.err('nsenter: no command\n');
    return 1;
  }
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return c.run(rest.map(quote).join(' '), { uid: 0 });
};

const chcon: CommandHandler = async (c) => (c.uid === 0 ? 0 : notRoot(c));

/** Mount tools by name. */
export const mountCommands: Record<string, CommandHandler> = { mount, nsenter, chcon };
