/** The phone's wall clock in its time zone (persist.sys.timezone), for date and logcat. */

/** Calendar fields of one instant in one zone. */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  /** Mon, Tue … */
  weekday: string;
  /** Jan, Feb … */
  monthName: string;
  /** Zone abbreviation such as GMT, BST, PDT. */
  zone: string;
  /** Offset like +0100. */
  offset: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: tz,
        year: 'numeric',
        month: 'short',
        day: 'numeric',
        weekday: 'short',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        hourCycle: 'h23',
        timeZoneName: 'shortOffset',
      });
    } catch {
      f = formatter('UTC');
    }
    formatters.set(tz, f);
  }
  return f;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The calendar fields of `ms` in zone `tz` (UTC when the zone is unknown). */
export function wallClock(ms: number, tz: string): WallClock {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz || 'UTC').formatToParts(new Date(ms))) parts[p.type] = p.value;
  const gmt = parts['timeZoneName'] ?? 'GMT';
  const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?/.exec(gmt);
  const offset = m ? `${m[1]}${m[2]!.padStart(2, '0')}${m[3] ?? '00'}` : '+0000';
  const monthName = parts['month'] ?? 'Jan';
  return {
    year: Number(parts['year']),
    month: MONTHS.indexOf(monthName) + 1,
    day: Number(parts['day']),
    hour: Number(parts['hour']),
    minute: Number(parts['minute']),
    second: Number(parts['second']),
    millisecond: ((ms % 1000) + 1000) % 1000,
    weekday: parts['weekday'] ?? 'Mon',
    monthName,
    zone: offset === '+0000' ? (tz === 'UTC' || !tz ? 'UTC' : 'GMT') : gmt,
    offset,
  };
}

/** The phone's zone from its properties. */
export function phoneZone(props: ReadonlyMap<string, string>): string {
  return props.get('persist.sys.timezone') || 'UTC';
}
