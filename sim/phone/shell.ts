/**
 * The phone's /system/bin/sh: runs a parsed command line against the command table, with pipes,
 * redirections into the sandbox, && / ||, loops, $? and the builtins clients lean on (exit, export,
 * exec, test/[, sh -c, su). Unknown commands answer as mksh does: "NAME: inaccessible or not found", 127.
 */
import { createReadStream, createWriteStream, existsSync, readdirSync, statSync } from 'node:fs';
import { PassThrough, Readable, Writable } from 'node:stream';
import { setImmediate as yieldTurn } from 'node:timers/promises';
import { type CommandContext, type CommandHandler, type PhoneEnv, writeTo } from './command.js';
import { builtin, ExitRequest, SH } from './shell-builtins.js';
import { parseShell } from './shell-parse.js';
import type { ShellStreams } from './shell-streams.js';
import {
  type AndOr,
  type Command,
  type List,
  type Pipeline,
  type Redirect,
  ShellSyntaxError,
  type SimpleCommand,
  type Word,
} from './shell-syntax.js';

/** A sink for /dev/null. */
function nullSink(): Writable {
  return new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });
}

/** A source with no bytes. */
function emptySource(): Readable {
  return Readable.from([]);
}

/** One running shell: variables, last status, uid. */
export class ShellSession {
  readonly vars = new Map<string, string>();
  readonly exported = new Set<string>();
  status = 0;

  constructor(
    readonly phone: PhoneEnv,
    readonly commands: ReadonlyMap<string, CommandHandler>,
    readonly uid = 2000,
  ) {
    this.vars.set(
      'PATH',
      '/product/bin:/apex/com.android.runtime/bin:/apex/com.android.art/bin:/system_ext/bin:/system/bin:/system/xbin:/odm/bin:/vendor/bin:/vendor/xbin',
    );
    this.vars.set('HOME', '/');
    this.vars.set('USER', uid === 0 ? 'root' : 'shell');
    this.vars.set('HOSTNAME', phone.state.system.props.get('ro.product.device') ?? 'localhost');
    this.vars.set('ANDROID_DATA', '/data');
    this.vars.set('ANDROID_ROOT', '/system');
    this.vars.set('EXTERNAL_STORAGE', '/sdcard');
    this.vars.set('TMPDIR', '/data/local/tmp');
    for (const k of this.vars.keys()) this.exported.add(k);
  }

  /** Parses and runs a command line; resolves with the exit status. */
  async run(line: string, io: ShellStreams): Promise<number> {
    let list: List;
    try {
      list = parseShell(line);
    } catch (e) {
      if (e instanceof ShellSyntaxError) {
        await writeTo(io.stderr, `${SH}: ${e.message}\n`);
        return 2;
      }
      throw e;
    }
    try {
      return await this.runList(list, io);
    } catch (e) {
      if (e instanceof ExitRequest) return e.code;
      throw e;
    }
  }

  private async runList(list: List, io: ShellStreams): Promise<number> {
    for (const item of list) {
      if (io.signal.aborted) return this.status;
      if (item.background) {
        this.runAndOr(item, { ...io, stdin: emptySource() }).catch(() => {});
        this.status = 0;
      } else {
        this.status = await this.runAndOr(item, io);
      }
    }
    return this.status;
  }

  private async runAndOr(ao: AndOr, io: ShellStreams): Promise<number> {
    let status = await this.runPipeline(ao.first, io);
    for (const { op, pipeline } of ao.rest) {
      if (io.signal.aborted) break;
      if ((op === '&&' && status === 0) || (op === '||' && status !== 0)) {
        status = await this.runPipeline(pipeline, io);
      }
    }
    return status;
  }

  private async runPipeline(p: Pipeline, io: ShellStreams): Promise<number> {
    let status: number;
    if (p.commands.length === 1) {
      status = await this.runCommand(p.commands[0]!, io);
    } else {
      const n = p.commands.length;
      const controllers = p.commands.map(() => new AbortController());
      const signals = controllers.map((c) => AbortSignal.any([io.signal, c.signal]));
      const pipes = p.commands.slice(1).map(() => new PassThrough());
      const runs = p.commands.map(async (cmd, i) => {
        const stdin = i === 0 ? io.stdin : pipes[i - 1]!;
        const stdout = i === n - 1 ? io.stdout : pipes[i]!;
        let st = 1;
        try {
          st = await this.runCommand(cmd, { stdin, stdout, stderr: io.stderr, signal: signals[i]! });
        } catch (e) {
          if (!(e instanceof ExitRequest)) throw e;
          st = e.code;
        } finally {
          if (i < n - 1) pipes[i]!.end();
          if (i > 0) {
            // The reader is gone: earlier stages get SIGPIPE, their unread output is dropped.
            for (let j = 0; j < i; j++) controllers[j]!.abort();
            pipes[i - 1]!.resume();
          }
        }
        return st;
      });
      const results = await Promise.all(runs);
      status = results[n - 1]!;
    }
    this.status = p.negate ? (status === 0 ? 1 : 0) : status;
    return this.status;
  }

  private async runCommand(cmd: Command, io: ShellStreams): Promise<number> {
    const opened = await this.openRedirects(cmd.redirects, io);
    if (typeof opened === 'number') return opened;
    const { streams, toClose } = opened;
    try {
      switch (cmd.kind) {
        case 'simple':
          return await this.runSimple(cmd, streams);
        case 'group':
          if (cmd.subshell) {
            const child = this.fork();
            try {
              return await child.runList(cmd.body, streams);
            } catch (e) {
              if (e instanceof ExitRequest) return e.code;
              throw e;
            }
          }
          return await this.runList(cmd.body, streams);
        case 'while':
        case 'until': {
          let last = 0;
          for (;;) {
            if (streams.signal.aborted) return last;
            const c = await this.runList(cmd.cond, streams);
            if (streams.signal.aborted) return last;
            if ((c === 0) !== (cmd.kind === 'while')) break;
            last = await this.runList(cmd.body, streams);
            await yieldTurn();
          }
          return last;
        }
        case 'if': {
          for (const clause of cmd.clauses) {
            if ((await this.runList(clause.cond, streams)) === 0)
              return await this.runList(clause.body, streams);
          }
          return cmd.elseBody ? await this.runList(cmd.elseBody, streams) : 0;
        }
        case 'for': {
          const items: string[] = [];
          for (const w of cmd.items) items.push(...(await this.expandWord(w, streams)));
          let last = 0;
          for (const item of items) {
            if (streams.signal.aborted) break;
            this.vars.set(cmd.name, item);
            last = await this.runList(cmd.body, streams);
          }
          return last;
        }
      }
    } finally {
      await Promise.all(toClose.map((s) => new Promise<void>((r) => s.end(r))));
    }
  }

  /** A child shell sharing the phone and copying the variables. */
  fork(uid = this.uid): ShellSession {
    const child = new ShellSession(this.phone, this.commands, uid);
    for (const [k, v] of this.vars) child.vars.set(k, v);
    for (const k of this.exported) child.exported.add(k);
    child.vars.set('USER', uid === 0 ? 'root' : 'shell');
    child.status = this.status;
    return child;
  }

  private async openRedirects(
    redirects: readonly Redirect[],
    io: ShellStreams,
  ): Promise<{ streams: ShellStreams; toClose: Writable[] } | number> {
    if (redirects.length === 0) return { streams: io, toClose: [] };
    const fds = new Map<number, Readable | Writable>([
      [0, io.stdin],
      [1, io.stdout],
      [2, io.stderr],
    ]);
    const toClose: Writable[] = [];
    for (const r of redirects) {
      const target = (await this.expandWord(r.target, io)).join(' ');
      if (r.op === '>&' || r.op === '<&') {
        const from = fds.get(Number(target));
        if (!from) {
          await writeTo(io.stderr, `${SH}: ${target}: bad file descriptor\n`);
          return 1;
        }
        fds.set(r.fd, from);
        continue;
      }
      if (target === '/dev/null') {
        fds.set(r.fd, r.op === '<' ? emptySource() : nullSink());
        continue;
      }
      const host = this.phone.hostPath(target);
      if (r.op === '<') {
        if (!host || !existsSync(host) || statSync(host).isDirectory()) {
          await writeTo(io.stderr, `${SH}: ${target}: No such file or directory\n`);
          return 1;
        }
        fds.set(r.fd, createReadStream(host));
        continue;
      }
      const parentOk = host !== undefined && existsSync(host.slice(0, host.lastIndexOf('/')) || '/');
      if (!host || !parentOk || (existsSync(host) && statSync(host).isDirectory())) {
        await writeTo(
          io.stderr,
          `${SH}: ${target}: can't create: ${host && existsSync(host) ? 'Is a directory' : 'No such file or directory'}\n`,
        );
        return 1;
      }
      const ws = createWriteStream(host, { flags: r.op === '>>' ? 'a' : 'w' });
      toClose.push(ws);
      fds.set(r.fd, ws);
    }
    return {
      streams: {
        stdin: fds.get(0) as Readable,
        stdout: fds.get(1) as Writable,
        stderr: fds.get(2) as Writable,
        signal: io.signal,
      },
      toClose,
    };
  }

  /** Expands a word into fields: unquoted $VAR and $(…) results are split on blanks. */
  async expandWord(word: Word, io: ShellStreams): Promise<string[]> {
    const fields: string[] = [];
    let cur = '';
    let have = false;
    const glob = word.some((p) => p.kind === 'lit' && !p.quoted && /[*?]/.test(p.text));
    for (const part of word) {
      let value: string;
      if (part.kind === 'lit') {
        cur += part.text;
        have = true;
        continue;
      }
      if (part.kind === 'var') {
        value = this.varValue(part.name) ?? part.fallback ?? '';
        if (value === '' && part.fallback !== undefined) value = part.fallback;
      } else {
        value = await this.substitute(part.list, io);
      }
      if (part.quoted) {
        cur += value;
        have = true;
        continue;
      }
      const pieces = value.split(/[ \t\n]+/);
      for (let i = 0; i < pieces.length; i++) {
        const piece = pieces[i]!;
        if (i > 0 && have) {
          fields.push(cur);
          cur = '';
          have = false;
        }
        if (piece !== '') {
          cur += piece;
          have = true;
        }
      }
    }
    if (have) fields.push(cur);
    return glob ? fields.flatMap((f) => this.pathnames(f)) : fields;
  }

  /**
   * Pathname expansion of one field whose last component holds `*` or `?` (the phone's sh does the
   * same): the matching names of that folder, sorted; the field itself when nothing matches.
   */
  private pathnames(field: string): string[] {
    const slash = field.lastIndexOf('/');
    const dir = slash < 0 ? '' : field.slice(0, slash);
    const pattern = field.slice(slash + 1);
    if (!/[*?]/.test(pattern) || /[*?]/.test(dir)) return [field];
    const host = this.phone.hostPath(dir === '' ? (this.vars.get('PWD') ?? '/') : dir);
    if (!host) return [field];
    let names: string[];
    try {
      names = readdirSync(host);
    } catch {
      return [field];
    }
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    const hits = names.filter((n) => re.test(n) && (pattern.startsWith('.') || !n.startsWith('.'))).sort();
    return hits.length ? hits.map((n) => (slash < 0 ? n : `${dir}/${n}`)) : [field];
  }

  private varValue(name: string): string | undefined {
    if (name === '?') return String(this.status);
    if (name === '$') return String(this.phone.state.apps.processes.get('sh')?.pid ?? 4242);
    if (name === '#') return '0';
    if (name === '0') return 'sh';
    return this.vars.get(name);
  }

  private async substitute(list: List, io: ShellStreams): Promise<string> {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(Buffer.from(c));
        cb();
      },
    });
    const child = this.fork();
    try {
      await child.runList(list, { stdin: emptySource(), stdout: sink, stderr: io.stderr, signal: io.signal });
    } catch (e) {
      if (!(e instanceof ExitRequest)) throw e;
      child.status = e.code;
    }
    this.status = child.status;
    return Buffer.concat(chunks).toString('utf8').replace(/\n+$/, '');
  }

  private async runSimple(cmd: SimpleCommand, io: ShellStreams): Promise<number> {
    const words: string[] = [];
    for (const w of cmd.words) words.push(...(await this.expandWord(w, io)));
    const assigned: [string, string][] = [];
    for (const a of cmd.assigns) assigned.push([a.name, (await this.expandWord(a.value, io)).join(' ')]);
    if (words.length === 0) {
      for (const [k, v] of assigned) this.vars.set(k, v);
      return 0;
    }
    const env: Record<string, string> = {};
    for (const k of this.exported) {
      const v = this.vars.get(k);
      if (v !== undefined) env[k] = v;
    }
    for (const [k, v] of assigned) env[k] = v;
    return this.invoke(words, env, io);
  }

  /** Runs one command by name (builtins first, then the command table). */
  async invoke(words: string[], env: Record<string, string>, io: ShellStreams): Promise<number> {
    const [rawName, ...args] = words as [string, ...string[]];
    const name = rawName.includes('/') ? rawName.slice(rawName.lastIndexOf('/') + 1) : rawName;
    const out = (d: string | Buffer) => writeTo(io.stdout, d, io.signal);
    const err = (d: string) => writeTo(io.stderr, d, io.signal);
    const done = await builtin(this, name, args, env, io);
    if (done !== undefined) return done;
    const handler = this.commands.get(name);
    if (!handler) {
      await err(`${SH}: ${rawName}: inaccessible or not found\n`);
      return 127;
    }
    const ctx: CommandContext = {
      name,
      args,
      env,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      signal: io.signal,
      phone: this.phone,
      uid: this.uid,
      run: (line, opts) => this.fork(opts?.uid ?? this.uid).run(line, io),
      out,
      err,
    };
    try {
      return await handler(ctx);
    } catch (e) {
      if (e instanceof ExitRequest) throw e;
      await err(`${name}: ${(e as Error).message}\n`);
      return 1;
    }
  }
}
