/** The phone's clock from the shell: date (read and set, as toybox does) and uptime. */
import type { CommandHandler } from './command.js';
import { phoneZone, type WallClock, wallClock } from './phone-clock.js';

function strftime(fmt: string, w: WallClock, epochMs: number): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  return fmt.replace(/%([a-zA-Z%])/g, (_m, f: string) => {
    switch (f) {
      case 'Y':
        return String(w.year);
      case 'y':
        return p2(w.year % 100);
      case 'm':
        return p2(w.month);
      case 'd':
        return p2(w.day);
      case 'e':
        return String(w.day).padStart(2, ' ');
      case 'H':
        return p2(w.hour);
      case 'M':
        return p2(w.minute);
      case 'S':
        return p2(w.second);
      case 'N':
        return String(w.millisecond * 1_000_000).padStart(9, '0');
      case 's':
        return String(Math.floor(epochMs / 1000));
      case 'a':
        return w.weekday;
      case 'b':
      case 'h':
        return w.monthName;
      case 'Z':
        return w.zone;
      case 'z':
        return w.offset;
      case 'T':
        return `${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)}`;
      case 'F':
        return `${w.year}-${p2(w.month)}-${p2(w.day)}`;
      case 'D':
        return `${p2(w.month)}/${p2(w.day)}/${p2(w.year % 100)}`;
      case '%':
        return '%';
      default:
        return `%${f}`;
    }
  });
}

/** Parses date's SET forms: MMDDhhmm[[CC]YY][.ss], "YYYY-MM-DD hh:mm[:ss]", @EPOCH. Returns UTC-ish ms. */
function parseSetTime(s: string, now: WallClock): number | undefined {
  let m = /^@(\d+)$/.exec(s);
  if (m) return Number(m[1]) * 1000;
  m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2}|\d{4})?(?:\.(\d{2}))?$/.exec(s);
  if (m) {
    let year = now.year;
    if (m[5]) year = m[5].length === 4 ? Number(m[5]) : 2000 + Number(m[5]);
    return Date.UTC(year, Number(m[1]) - 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[6] ?? 0));
  }
  m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (m)
    return Date.UTC(
      Number(m[1]),
      Number(m[2]) - 1,
      Number(m[3]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6] ?? 0),
    );
  return undefined;
}

function offsetMs(offset: string): number {
  const sign = offset.startsWith('-') ? -1 : 1;
  return sign * (Number(offset.slice(1, 3)) * 3600_000 + Number(offset.slice(3, 5)) * 60_000);
}

const date: CommandHandler = async (c) => {
  const state = c.phone.state;
  let utc = false;
  let format = '%a %b %e %H:%M:%S %Z %Y';
  let set: string | undefined;
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-u') utc = true;
    else if (a === '-s') set = c.args[++i];
    else if (a.startsWith('+')) format = a.slice(1);
    else if (!a.startsWith('-')) set = a;
  }
  const tz = utc ? 'UTC' : phoneZone(state.system.props);
  if (set !== undefined) {
    const local = parseSetTime(set, wallClock(state.now(), tz));
    if (local === undefined) {
      await c.err(`date: bad date '${set}'\n`);
      return 1;
    }
    if (c.uid !== 0) {
      await c.err('date: cannot set date: Operation not permitted\n');
      return 1;
    }
    const target = set.startsWith('@') ? local : local - offsetMs(wallClock(local, tz).offset);
    state.clockOffsetMs = target - Date.now();
    state.logLine(4, 'AlarmManager', `Setting time of day to sec=${Math.floor(target / 1000)}`, 1000);
  }
  const now = state.now();
  await c.out(`${strftime(format, wallClock(now, tz), now)}\n`);
  return 0;
};

const uptime: CommandHandler = async (c) => {
  const state = c.phone.state;
  const up = Math.floor((Date.now() - state.bootedAt) / 1000);
  const w = wallClock(state.now(), phoneZone(state.system.props));
  const p2 = (n: number) => String(n).padStart(2, '0');
  const days = Math.floor(up / 86400);
  const h = Math.floor((up % 86400) / 3600);
  const m = Math.floor((up % 3600) / 60);
  await c.out(
    ` ${p2(w.hour)}:${p2(w.minute)}:${p2(w.second)} up ${days ? `${days} day${days > 1 ? 's' : ''}, ` : ''}${h}:${p2(m)},  0 users,  load average: 1.42, 1.38, 1.31\n`,
  );
  return 0;
};

/** Clock commands by name. */
export const clockCommands: Record<string, CommandHandler> = {
  date,
  uptime,
};
