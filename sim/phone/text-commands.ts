/** Toybox text tools clients pipe into: echo, cat, grep, head, tail, wc, sort. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { type CommandContext, type CommandHandler, readAllFrom } from './command.js';

/** Calls onLine for each line of a stream as it arrives (the last line may lack "\n"). */
async function eachLine(
  stream: Readable,
  signal: AbortSignal,
  onLine: (line: string) => Promise<boolean | undefined>,
): Promise<void> {
  let buf = '';
  let stop = false;
  const iterator = stream[Symbol.asyncIterator]();
  const aborted = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  while (!stop) {
    const r = await Promise.race([iterator.next(), aborted]);
    if (!r || r.done) break;
    buf += Buffer.isBuffer(r.value) ? r.value.toString('utf8') : String(r.value);
    let nl = buf.indexOf('\n');
    while (nl >= 0 && !stop) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if ((await onLine(line)) === false) stop = true;
      nl = buf.indexOf('\n');
    }
  }
  if (!stop && buf !== '' && !signal.aborted) await onLine(buf);
  if (stop) stream.pause();
}

/** Reads named files (or stdin for none / "-"), reporting missing files as toybox does. */
async function inputs(c: CommandContext, files: string[]): Promise<{ texts: string[]; failed: boolean }> {
  if (files.length === 0)
    return { texts: [(await readAllFrom(c.stdin, c.signal)).toString('utf8')], failed: false };
  const texts: string[] = [];
  let failed = false;
  for (const f of files) {
    if (f === '-') {
      texts.push((await readAllFrom(c.stdin, c.signal)).toString('utf8'));
      continue;
    }
    const host = c.phone.hostPath(f);
    if (!host || !existsSync(host)) {
      await c.err(`${c.name}: ${f}: No such file or directory\n`);
      failed = true;
    } else if (statSync(host).isDirectory()) {
      await c.err(`${c.name}: ${f}: Is a directory\n`);
      failed = true;
    } else texts.push(readFileSync(host, 'utf8'));
  }
  return { texts, failed };
}

const echo: CommandHandler = async (c) => {
  let args = c.args;
  let newline = true;
  let escapes = false;
  while (args[0] && /^-[neE]+$/.test(args[0])) {
    if (args[0].includes('n')) newline = false;
    if (args[0].includes('e')) escapes = true;
    if (args[0].includes('E')) escapes = false;
    args = args.slice(1);
  }
  let s = args.join(' ');
  if (escapes) {
    s = s.replace(/\\([nrt\\]|0[0-7]{0,3}|c)/g, (_m, e: string) => {
      if (e === 'n') return '\n';
      if (e === 'r') return '\r';
      if (e === 't') return '\t';
      if (e === '\\') return '\\';
      if (e === 'c') {
        newline = false;
        return '';
      }
      return String.fromCharCode(Number.parseInt(e.slice(1) || '0', 8));
    });
  }
  await c.out(newline ? `${s}\n` : s);
  return 0;
};

const cat: CommandHandler = async (c) => {
  const files = c.args.filter((a) => a === '-' || !a.startsWith('-'));
  if (files.length === 0) {
    for await (const chunk of readableUntil(c.stdin, c.signal)) await c.out(chunk);
    return 0;
  }
  let failed = false;
  for (const f of files) {
    if (f === '-') {
      await c.out(await readAllFrom(c.stdin, c.signal));
      continue;
    }
    const host = c.phone.hostPath(f);
    if (!host || !existsSync(host)) {
      await c.err(`cat: ${f}: No such file or directory\n`);
      failed = true;
    } else if (statSync(host).isDirectory()) {
      await c.err(`cat: ${f}: Is a directory\n`);
      failed = true;
    } else await c.out(readFileSync(host));
  }
  return failed ? 1 : 0;
};

/** Yields chunks of a stream until it ends or the signal aborts. */
async function* readableUntil(stream: Readable, signal: AbortSignal): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]();
  const aborted = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  for (;;) {
    const r = await Promise.race([it.next(), aborted]);
    if (!r || r.done) return;
    yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(String(r.value));
  }
}

const grep: CommandHandler = async (c) => {
  const patterns: string[] = [];
  const files: string[] = [];
  let invert = false;
  let ignoreCase = false;
  let fixed = false;
  let count = false;
  let quiet = false;
  let onlyMatching = false;
  let wordMatch = false;
  let lineNumbers = false;
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-e') patterns.push(c.args[++i] ?? '');
    else if (a.startsWith('-') && a.length > 1 && a !== '-') {
      for (const ch of a.slice(1)) {
        if (ch === 'v') invert = true;
        else if (ch === 'i') ignoreCase = true;
        else if (ch === 'F') fixed = true;
        else if (ch === 'c') count = true;
        else if (ch === 'q') quiet = true;
        else if (ch === 'o') onlyMatching = true;
        else if (ch === 'w') wordMatch = true;
        else if (ch === 'n') lineNumbers = true;
      }
    } else if (patterns.length === 0) patterns.push(a);
    else files.push(a);
  }
  if (patterns.length === 0) {
    await c.err('grep: no pattern\n');
    return 2;
  }
  const res = patterns.map((p) => {
    let src = fixed ? p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : p.replace(/\\([|(){}+?])/g, '$1');
    if (wordMatch) src = `\\b(?:${src})\\b`;
    return new RegExp(src, ignoreCase ? 'gi' : 'g');
  });
  let matched = 0;
  let n = 0;
  const onLine = async (line: string) => {
    n++;
    const hits = res.flatMap((re) => [...line.matchAll(re)].map((m) => m[0]));
    const isMatch = hits.length > 0;
    if (isMatch === invert) return true;
    matched++;
    if (quiet) return false;
    if (count) return true;
    if (onlyMatching && !invert) for (const h of hits) await c.out(`${h}\n`);
    else await c.out(`${lineNumbers ? `${n}:` : ''}${line}\n`);
    return true;
  };
  let failed = false;
  if (files.length === 0) await eachLine(c.stdin, c.signal, onLine);
  else {
    const r = await inputs(c, files);
    failed = r.failed;
    for (const t of r.texts) for (const line of splitLines(t)) if ((await onLine(line)) === false) break;
  }
  if (count) await c.out(`${matched}\n`);
  if (failed) return 2;
  return matched > 0 ? 0 : 1;
};

function splitLines(t: string): string[] {
  const lines = t.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function countArg(args: readonly string[], dflt: number): { n: number; files: string[] } {
  let n = dflt;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-n' || a === '-c') n = Number.parseInt(args[++i] ?? '', 10);
    else if (/^-n?\d+$/.test(a)) n = Number.parseInt(a.replace(/^-n?/, ''), 10);
    else if (/^-n-?\d+$/.test(a)) n = Number.parseInt(a.slice(2), 10);
    else files.push(a);
  }
  return { n, files };
}

const head: CommandHandler = async (c) => {
  const bytesAt = c.args.indexOf('-c');
  if (bytesAt >= 0) {
    const count = Number.parseInt(c.args[bytesAt + 1] ?? '', 10);
    const files = c.args.filter((_a, i) => i !== bytesAt && i !== bytesAt + 1);
    const r = await inputs(c, files);
    for (const t of r.texts) await c.out(Buffer.from(t).subarray(0, count));
    return r.failed ? 1 : 0;
  }
  const { n, files } = countArg(c.args, 10);
  if (files.length === 0) {
    let seen = 0;
    if (n <= 0) return 0;
    await eachLine(c.stdin, c.signal, async (line) => {
      await c.out(`${line}\n`);
      seen++;
      return seen < n;
    });
    return 0;
  }
  const r = await inputs(c, files);
  for (const t of r.texts) for (const line of splitLines(t).slice(0, n)) await c.out(`${line}\n`);
  return r.failed ? 1 : 0;
};

const tail: CommandHandler = async (c) => {
  const { n, files } = countArg(c.args, 10);
  const r = await inputs(c, files);
  for (const t of r.texts) {
    const lines = splitLines(t);
    for (const line of lines.slice(Math.max(0, lines.length - n))) await c.out(`${line}\n`);
  }
  return r.failed ? 1 : 0;
};

const wc: CommandHandler = async (c) => {
  const opts = c.args.filter((a) => a.startsWith('-') && a !== '-').join('');
  const files = c.args.filter((a) => !a.startsWith('-') || a === '-');
  const r = await inputs(c, files);
  const all = opts === '' ? 'lwc' : opts;
  for (let i = 0; i < r.texts.length; i++) {
    const t = r.texts[i]!;
    const cols: number[] = [];
    if (all.includes('l')) cols.push((t.match(/\n/g) ?? []).length);
    if (all.includes('w')) cols.push(t.split(/\s+/).filter(Boolean).length);
    if (all.includes('c') || all.includes('m')) cols.push(Buffer.byteLength(t));
    const name = files[i] ? ` ${files[i]}` : '';
    await c.out(
      `${cols.length === 1 ? String(cols[0]) : cols.map((x) => String(x).padStart(7)).join(' ')}${name}\n`,
    );
  }
  return r.failed ? 1 : 0;
};

const sort: CommandHandler = async (c) => {
  const reverse = c.args.includes('-r');
  const numeric = c.args.includes('-n');
  const unique = c.args.includes('-u');
  const r = await inputs(
    c,
    c.args.filter((a) => !a.startsWith('-')),
  );
  let lines = r.texts.flatMap(splitLines);
  lines.sort(
    numeric ? (a, b) => Number.parseFloat(a) - Number.parseFloat(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0),
  );
  if (reverse) lines.reverse();
  if (unique) lines = lines.filter((l, i) => i === 0 || l !== lines[i - 1]);
  for (const l of lines) await c.out(`${l}\n`);
  return r.failed ? 2 : 0;
};

/** Text tools by name. */
export const textCommands: Record<string, CommandHandler> = { echo, cat, grep, head, tail, wc, sort };
