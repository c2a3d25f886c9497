/**
 * logcat over the phone's ring buffer: -d, -c, -t/-T, -s, filterspecs (TAG:P, *:S, ANDROID_LOG_TAGS),
 * -v threadtime|time|brief|tag|process|raw|long, streaming until the client goes away, and -B: the
 * binary logger_entry (v4) records adbkit's openLogcat reads.
 */
import type { CommandHandler } from './command.js';
import { writeTo } from './command.js';
import { phoneZone, wallClock } from './phone-clock.js';
import type { LogEntry } from './state-types.js';

const LETTERS = ' _VDIWEFS';

function priorityOf(letter: string): number | undefined {
  const i = LETTERS.indexOf(letter.toUpperCase());
  return i >= 2 ? i : undefined;
}

/** One record in the binary format (logger_entry v4: 28-byte header, then prio, tag\0, msg\0). */
export function binaryEntry(e: LogEntry): Buffer {
  const payload = Buffer.concat([
    Buffer.from([e.priority]),
    Buffer.from(`${e.tag}\0`, 'utf8'),
    Buffer.from(`${e.message}\0`, 'utf8'),
  ]);
  const head = Buffer.alloc(28);
  head.writeUInt16LE(payload.length, 0);
  head.writeUInt16LE(28, 2);
  head.writeInt32LE(e.pid, 4);
  head.writeUInt32LE(e.tid, 8);
  head.writeUInt32LE(Math.floor(e.time / 1000), 12);
  head.writeUInt32LE((e.time % 1000) * 1_000_000, 16);
  head.writeUInt32LE(0, 20); // log id: main
  head.writeUInt32LE(e.pid >= 10_000 ? e.pid : 1000, 24);
  return Buffer.concat([head, payload]);
}

/** One line in a text format (with its newline). */
export function formatEntry(e: LogEntry, format: string, tz: string): string {
  const w = wallClock(e.time, tz);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const date = `${p2(w.month)}-${p2(w.day)} ${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}.${String(w.millisecond).padStart(3, '0')}`;
  const pr = LETTERS[e.priority] ?? '?';
  const pid = String(e.pid).padStart(5);
  const tid = String(e.tid).padStart(5);
  const tag = e.tag.padEnd(8);
  const lines = e.message.split('\n');
  const each = (msg: string) => {
    switch (format) {
      case 'brief':
        return `${pr}/${tag}(${pid}): ${msg}\n`;
      case 'time':
        return `${date} ${pr}/${tag}(${pid}): ${msg}\n`;
      case 'tag':
        return `${pr}/${tag}: ${msg}\n`;
      case 'process':
        return `${pr}(${pid}) ${msg}  (${e.tag})\n`;
      case 'raw':
        return `${msg}\n`;
      case 'thread':
        return `${pr}(${pid}:${tid}) ${msg}\n`;
      default:
        return `${date} ${pid} ${tid} ${pr} ${tag}: ${msg}\n`;
    }
  };
  if (format === 'long') return `[ ${date} ${pid}:${tid} ${pr}/${tag} ]\n${e.message}\n\n`;
  return lines.map(each).join('');
}

const FORMATS = new Set(['brief', 'time', 'tag', 'process', 'raw', 'thread', 'threadtime', 'long']);

const logcat: CommandHandler = async (c) => {
  const state = c.phone.state;
  let dump = false;
  let clear = false;
  let binary = false;
  let format = 'threadtime';
  let silent = false;
  let tail: number | undefined;
  let maxCount: number | undefined;
  let regex: RegExp | undefined;
  let pidFilter: number | undefined;
  const specs: [string, number][] = [];
  const addSpec = (s: string) => {
    const m = /^([^:\s]+)(?::([VDIWEFS*]))?$/i.exec(s);
    if (!m) return false;
    const pr = m[2] === undefined || m[2] === '*' ? 2 : priorityOf(m[2]);
    if (pr === undefined) return false;
    specs.push([m[1]!, pr]);
    return true;
  };
  const args = c.args;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-d') dump = true;
    else if (a === '-c') clear = true;
    else if (a === '-B' || a === '--binary') binary = true;
    else if (a === '-s') silent = true;
    else if (a === '-v' || a.startsWith('--format')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : (args[++i] ?? '');
      if (FORMATS.has(v)) format = v;
      else if (
        ![
          'color',
          'epoch',
          'monotonic',
          'uid',
          'usec',
          'UTC',
          'year',
          'zone',
          'printable',
          'descriptive',
          'nsec',
          'uid',
        ].includes(v)
      ) {
        await c.err(`logcat: Invalid parameter "${v}" to -v.\n`);
        return 1;
      }
    } else if (a.startsWith('-v') && a.length > 2) {
      const v = a.slice(2);
      if (FORMATS.has(v)) format = v;
    } else if (a === '-t' || a === '-T') {
      const v = Number.parseInt(args[++i] ?? '', 10);
      tail = Number.isFinite(v) ? v : undefined;
      if (a === '-t') dump = true;
    } else if (a === '-m' || a.startsWith('--max-count')) {
      maxCount = Number.parseInt(a.includes('=') ? a.split('=')[1]! : (args[++i] ?? ''), 10);
    } else if (a === '-e' || a.startsWith('--regex')) {
      regex = new RegExp(a.includes('=') ? a.split('=')[1]! : (args[++i] ?? ''));
    } else if (a.startsWith('--pid')) {
      pidFilter = Number.parseInt(a.includes('=') ? a.split('=')[1]! : (args[++i] ?? ''), 10);
    } else if (a === '-b' || a === '-f' || a === '-r' || a === '-n' || a === '-G') {
      i++;
    } else if (a.startsWith('-b') || a === '-D' || a === '--dividers') {
      // buffers and dividers: one buffer here
    } else if (!a.startsWith('-')) {
      if (!addSpec(a)) {
        await c.err(`logcat: Invalid filter expression '${a}'.\n`);
        return 1;
      }
    }
  }
  for (const s of (c.env['ANDROID_LOG_TAGS'] ?? '').split(/\s+/)) if (s) addSpec(s);
  if (clear) {
    state.log.clear();
    return 0;
  }
  const starSpec = specs.find(([t]) => t === '*')?.[1];
  const defaultMin = starSpec ?? (silent ? 8 : 2);
  const wanted = (e: LogEntry) => {
    const spec = specs.find(([t]) => t === e.tag);
    if (e.priority < (spec ? spec[1] : defaultMin)) return false;
    if (pidFilter !== undefined && e.pid !== pidFilter) return false;
    if (regex && !regex.test(e.message)) return false;
    return true;
  };
  const tz = phoneZone(state.system.props);
  const render = (e: LogEntry): string | Buffer => (binary ? binaryEntry(e) : formatEntry(e, format, tz));
  let written = 0;
  const limitReached = () => maxCount !== undefined && written >= maxCount;
  let backlog = state.log.lines().filter(wanted);
  if (tail !== undefined) backlog = backlog.slice(Math.max(0, backlog.length - tail));
  if (!binary && backlog.length > 0) await c.out('--------- beginning of main\n');
  const out: (string | Buffer)[] = [];
  for (const e of backlog) {
    if (limitReached()) break;
    out.push(render(e));
    written++;
  }
  if (out.length)
    await c.out(
      binary ? Buffer.concat(out.map((x) => (typeof x === 'string' ? Buffer.from(x) : x))) : out.join(''),
    );
  if (dump || limitReached()) return 0;
  // Stream until the client goes away.
  await new Promise<void>((resolve) => {
    if (c.signal.aborted) {
      resolve();
      return;
    }
    let chain = Promise.resolve();
    const onLog = (e: LogEntry) => {
      if (!wanted(e)) return;
      const data = render(e);
      written++;
      chain = chain.then(() => writeTo(c.stdout, data, c.signal));
      if (limitReached()) finish();
    };
    const finish = () => {
      state.off('log', onLog);
      c.signal.removeEventListener('abort', finish);
      void chain.then(() => resolve());
    };
    state.on('log', onLog);
    c.signal.addEventListener('abort', finish, { once: true });
  });
  return 0;
};

/** logcat by name. */
export const logcatCommands: Record<string, CommandHandler> = { logcat };
