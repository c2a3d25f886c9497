/** File tools over the phone's sandboxed tree: ls, rm, mkdir, rmdir, touch, stat, cp, mv, chmod, md5sum. */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, type Stats, utimesSync } from 'node:fs';
import { cp, mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { type CommandContext, type CommandHandler, readAllFrom } from './command.js';

function splitArgs(args: readonly string[]): { opts: string; paths: string[] } {
  let opts = '';
  const paths: string[] = [];
  let noMore = false;
  for (const a of args) {
    if (!noMore && a === '--') noMore = true;
    else if (!noMore && a.startsWith('-') && a.length > 1) opts += a.slice(1);
    else paths.push(a);
  }
  return { opts, paths };
}

async function statOf(c: CommandContext, p: string): Promise<{ host: string; st: Stats } | undefined> {
  const host = c.phone.hostPath(p);
  if (!host) return undefined;
  try {
    return { host, st: await stat(host) };
  } catch {
    return undefined;
  }
}

function modeString(st: Stats): string {
  const t = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'l' : '-';
  const bits = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += st.mode & (1 << (8 - i)) ? bits[i] : '-';
  return t + s;
}

function owner(p: string): [string, string] {
  if (p.startsWith('/sdcard') || p.startsWith('/storage')) return ['u0_a180', 'media_rw'];
  if (p.startsWith('/data/local/tmp')) return ['shell', 'shell'];
  return ['root', 'root'];
}

function ymdhm(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`;
}

const ls: CommandHandler = async (c) => {
  const { opts, paths } = splitArgs(c.args);
  const long = opts.includes('l');
  const all = opts.includes('a');
  const dirSelf = opts.includes('d');
  let failed = false;
  const targets = paths.length ? paths : [c.env['PWD'] ?? '/'];
  for (const p of targets) {
    const s = await statOf(c, p);
    if (!s) {
      await c.err(`ls: ${p}: No such file or directory\n`);
      failed = true;
      continue;
    }
    const line = (name: string, st: Stats, full: string) => {
      if (!long) return `${name}\n`;
      const [u, g] = owner(full);
      return `${modeString(st)} ${st.isDirectory() ? 2 : 1} ${u} ${g} ${st.isDirectory() ? 4096 : st.size} ${ymdhm(st.mtime)} ${name}\n`;
    };
    if (!s.st.isDirectory() || dirSelf) {
      await c.out(line(p, s.st, p));
      continue;
    }
    if (targets.length > 1) await c.out(`${p}:\n`);
    const names = (await readdir(s.host)).sort();
    if (all) names.unshift('.', '..');
    if (long) await c.out(`total ${names.length * 8}\n`);
    for (const n of names) {
      if (!all && n.startsWith('.')) continue;
      const st = await stat(`${s.host}/${n}`).catch(() => undefined);
      if (st) await c.out(line(n, st, `${p}/${n}`));
    }
  }
  return failed ? 1 : 0;
};

const rmCmd: CommandHandler = async (c) => {
  const { opts, paths } = splitArgs(c.args);
  const force = opts.includes('f');
  const recursive = /[rR]/.test(opts);
  let failed = false;
  for (const p of paths) {
    const s = await statOf(c, p);
    if (!s) {
      if (!force) {
        await c.err(`rm: ${p}: No such file or directory\n`);
        failed = true;
      }
      continue;
    }
    if (s.st.isDirectory() && !recursive) {
      await c.err(`rm: ${p}: Is a directory\n`);
      failed = true;
      continue;
    }
    if (s.host === c.phone.rootDir) {
      await c.err(`rm: ${p}: Read-only file system\n`);
      failed = true;
      continue;
    }
    await rm(s.host, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
};

const mkdirCmd: CommandHandler = async (c) => {
  const { opts, paths } = splitArgs(c.args.filter((a, i, all) => a !== '-m' && all[i - 1] !== '-m'));
  const parents = opts.includes('p');
  let failed = false;
  for (const p of paths) {
    const host = c.phone.hostPath(p);
    if (!host) {
      await c.err(`mkdir: '${p}': Permission denied\n`);
      failed = true;
      continue;
    }
    if (existsSync(host)) {
      if (!parents) {
        await c.err(`mkdir: '${p}': File exists\n`);
        failed = true;
      }
      continue;
    }
    try {
      await mkdir(host, { recursive: parents });
    } catch {
      await c.err(`mkdir: '${p}': No such file or directory\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
};

/**
 * Does `act` to each path argument's host file; a path outside the sandbox or an action that throws
 * gives the toolbox's "No such file or directory" line and exit status 1, after the other paths ran.
 */
async function eachPath(
  c: CommandContext,
  name: string,
  act: (host: string) => void | Promise<void>,
): Promise<number> {
  let failed = false;
  for (const p of splitArgs(c.args).paths) {
    const host = c.phone.hostPath(p);
    try {
      if (!host) throw new Error();
      await act(host);
    } catch {
      await c.err(`${name}: '${p}': No such file or directory\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

const rmdirCmd: CommandHandler = (c) => eachPath(c, 'rmdir', (host) => rmdir(host));

const touch: CommandHandler = (c) =>
  eachPath(c, 'touch', (host) => {
    if (existsSync(host)) utimesSync(host, new Date(), new Date());
    else closeSync(openSync(host, 'a'));
  });

const statCmd: CommandHandler = async (c) => {
  let format: string | undefined;
  const paths: string[] = [];
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-c') format = c.args[++i];
    else if (a.startsWith('--format=')) format = a.slice(9);
    else if (!a.startsWith('-')) paths.push(a);
  }
  let failed = false;
  for (const p of paths) {
    const s = await statOf(c, p);
    if (!s) {
      await c.err(`stat: '${p}': No such file or directory\n`);
      failed = true;
      continue;
    }
    const st = s.st;
    const kind = st.isDirectory() ? 'directory' : st.size === 0 ? 'regular empty file' : 'regular file';
    const [u, g] = owner(p);
    if (format !== undefined) {
      const out = format.replace(/%([snYyaAFUGx%])/g, (_m, f: string) => {
        switch (f) {
          case 's':
            return String(st.size);
          case 'n':
            return p;
          case 'Y':
            return String(Math.floor(st.mtimeMs / 1000));
          case 'y':
            return st.mtime.toISOString().replace('T', ' ').replace('Z', '000000 +0000');
          case 'a':
            return (st.mode & 0o777).toString(8);
          case 'A':
            return modeString(st);
          case 'F':
            return kind;
          case 'U':
            return u;
          case 'G':
            return g;
          case '%':
            return '%';
          default:
            return '';
        }
      });
      await c.out(`${out}\n`);
    } else {
      await c.out(
        `  File: ${p}\n  Size: ${st.size}\t Blocks: ${Math.ceil(st.size / 512)}\t IO Blocks: 4096\t${kind}\n` +
          `Access: (${(st.mode & 0o777).toString(8).padStart(4, '0')}/${modeString(st)})\tUid: ( ${u})\tGid: ( ${g})\n` +
          `Modify: ${st.mtime.toISOString()}\n`,
      );
    }
  }
  return failed ? 1 : 0;
};

/** One source of a cp or mv, checked to exist, with where it goes. */
interface CopyJob {
  c: Parameters<CommandHandler>[0];
  /** The source as the command line named it. */
  source: string;
  /** Its file on the host. */
  host: string;
  isDir: boolean;
  /** The host path it goes to. */
  to: string;
  /** The command's option letters. */
  opts: string;
}

/**
 * cp and mv: every source but the last path goes to the last one, into it when it is a folder (under
 * the source's name), else onto it. A missing source is reported and skipped; the exit status is 1
 * when any source failed.
 */
function copyOrMove(name: 'cp' | 'mv', each: (job: CopyJob) => Promise<boolean>): CommandHandler {
  return async (c) => {
    const { opts, paths } = splitArgs(c.args);
    if (paths.length < 2) {
      await c.err(`${name}: Needs 2 arguments\n`);
      return 1;
    }
    const dest = c.phone.hostPath(paths[paths.length - 1]!);
    let failed = false;
    for (const p of paths.slice(0, -1)) {
      const s = await statOf(c, p);
      if (!s || !dest) {
        await c.err(`${name}: ${p}: No such file or directory\n`);
        failed = true;
        continue;
      }
      const destStat = await stat(dest).catch(() => undefined);
      const to = destStat?.isDirectory() ? `${dest}/${p.slice(p.lastIndexOf('/') + 1)}` : dest;
      if (!(await each({ c, source: p, host: s.host, isDir: s.st.isDirectory(), to, opts }))) failed = true;
    }
    return failed ? 1 : 0;
  };
}

const cpCmd = copyOrMove('cp', async ({ c, source, host, isDir, to, opts }) => {
  if (isDir && !/[rRa]/.test(opts)) {
    await c.err(`cp: Skipped dir '${source}'\n`);
    return false;
  }
  await cp(host, to, { recursive: true });
  return true;
});

const mvCmd = copyOrMove('mv', async ({ host, to }) => {
  await rename(host, to);
  return true;
});

const chmod: CommandHandler = async (c) => {
  const { paths } = splitArgs(c.args);
  for (const p of paths.slice(1)) {
    if (!(await statOf(c, p))) {
      await c.err(`chmod: ${p}: No such file or directory\n`);
      return 1;
    }
  }
  return 0;
};

/** md5sum, sha1sum, sha256sum: the digest of each file (or of stdin). */
const digest =
  (algorithm: string): CommandHandler =>
  async (c) => {
    const paths = splitArgs(c.args).paths;
    if (paths.length === 0) {
      const data = await readAllFrom(c.stdin, c.signal);
      await c.out(`${createHash(algorithm).update(data).digest('hex')}  -\n`);
      return 0;
    }
    let failed = false;
    for (const p of paths) {
      const s = await statOf(c, p);
      if (!s || s.st.isDirectory()) {
        await c.err(`${c.name}: ${p}: No such file or directory\n`);
        failed = true;
        continue;
      }
      await c.out(`${createHash(algorithm).update(readFileSync(s.host)).digest('hex')}  ${p}\n`);
    }
    return failed ? 1 : 0;
  };

/** File tools by name. */
export const fileCommands: Record<string, CommandHandler> = {
  ls,
  rm: rmCmd,
  mkdir: mkdirCmd,
  rmdir: rmdirCmd,
  touch,
  stat: statCmd,
  cp: cpCmd,
  mv: mvCmd,
  chmod,
  chown: chmod,
  md5sum: digest('md5'),
  sha1sum: digest('sha1'),
  sha256sum: digest('sha256'),
};
