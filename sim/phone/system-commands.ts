/**
 * System odds and ends: id, whoami, date, uptime, uname, getenforce, env, which, ps, pidof, kill,
 * log, service (call iphonesubinfo), appops, ime, bmgr, reboot, and the `cmd SERVICE` dispatcher.
 */
import type { CommandContext, CommandHandler } from './command.js';
import { cmdConnectivity, cmdWifi } from './net-commands.js';
import { cmdPackage } from './package-commands.js';
import { phoneZone, type WallClock, wallClock } from './phone-clock.js';

const SHELL_ID =
  'uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),1078(ext_data_rw),1079(ext_obb_rw),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid),3012(readtracefs) context=u:r:shell:s0';
const ROOT_ID =
  'uid=0(root) gid=0(root) groups=0(root),1004(input),1007(log),1011(adb),1015(sdcard_rw),1028(sdcard_r),3001(net_bt_admin),3002(net_bt),3003(inet),3006(net_bw_stats),3009(readproc),3011(uhid) context=u:r:magisk:s0';

const id: CommandHandler = async (c) => {
  if (c.args.includes('-u')) await c.out(`${c.uid}\n`);
  else if (c.args.includes('-un')) await c.out(`${c.uid === 0 ? 'root' : 'shell'}\n`);
  else await c.out(`${c.uid === 0 ? ROOT_ID : SHELL_ID}\n`);
  return 0;
};

const whoami: CommandHandler = async (c) => {
  await c.out(`${c.uid === 0 ? 'root' : 'shell'}\n`);
  return 0;
};

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

const uname: CommandHandler = async (c) => {
  const release = c.phone.state.system.props.get('ro.kernel.version')
    ? `${c.phone.state.system.props.get('ro.kernel.version')}.275-perf-g1a2b3c4`
    : '5.10.198-android13-4-g5c1d2e3';
  if (c.args.includes('-a'))
    await c.out(`Linux localhost ${release} #1 SMP PREEMPT Thu May 16 10:00:00 UTC 2024 aarch64 Toybox\n`);
  else if (c.args.includes('-r')) await c.out(`${release}\n`);
  else if (c.args.includes('-m')) await c.out('aarch64\n');
  else await c.out('Linux\n');
  return 0;
};

const getenforce: CommandHandler = async (c) => {
  await c.out('Enforcing\n');
  return 0;
};

const env: CommandHandler = async (c) => {
  if (c.args.length > 0) return c.run(c.args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' '));
  await c.out(
    Object.entries(c.env)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return 0;
};

/** All processes: kernel and native daemons first, then app processes. */
function processRows(
  c: CommandContext,
): { user: string; pid: number; ppid: number; vsz: number; rss: number; name: string }[] {
  const state = c.phone.state;
  const rows = [
    { user: 'root', pid: 1, ppid: 0, vsz: 10_932_064, rss: 11_476, name: 'init' },
    { user: 'root', pid: 2, ppid: 0, vsz: 0, rss: 0, name: '[kthreadd]' },
    { user: 'logd', pid: 312, ppid: 1, vsz: 10_979_872, rss: 6_404, name: 'logd' },
    { user: 'system', pid: 640, ppid: 1, vsz: 10_885_312, rss: 9_108, name: 'servicemanager' },
    { user: 'root', pid: 702, ppid: 1, vsz: 1_234_504, rss: 24_720, name: 'netd' },
    { user: 'root', pid: 741, ppid: 1, vsz: 16_587_232, rss: 121_484, name: 'zygote64' },
    { user: 'system', pid: 812, ppid: 1, vsz: 11_402_716, rss: 41_204, name: 'surfaceflinger' },
    { user: 'shell', pid: 926, ppid: 1, vsz: 10_951_868, rss: 3_320, name: 'adbd' },
    { user: 'system', pid: 1161, ppid: 741, vsz: 21_440_908, rss: 402_932, name: 'system_server' },
  ];
  for (const p of state.apps.processes.values()) {
    const user = p.uid === 1000 ? 'system' : p.uid >= 10_000 ? `u0_a${p.uid - 10_000}` : String(p.uid);
    rows.push({
      user,
      pid: p.pid,
      ppid: 741,
      vsz: 14_000_000 + (p.pid % 997) * 1000,
      rss: 80_000 + (p.pid % 313) * 100,
      name: p.name,
    });
  }
  return rows;
}

const PS_HELP = `usage: ps [-AadefLlnwZ] [-gG GROUP,] [-k FIELD,] [-o FIELD,] [-p PID,] [-t TTY,] [-uU USER,]

List processes.

Which processes to show (-gGuUpPt selections may be comma separated lists):

-A	All			-a	Has terminal not session leader
-d	All but session leaders		-e	Synonym for -A
-g	In GROUPs			-G	In real GROUPs (before sgid)
-p	PIDs (--pid)			-P	Parent PIDs (--ppid)
-s	In session IDs			-t	Attached to selected TTYs
-T	Show threads also		-u	Owned by selected USERs
-U	Real USERs (before suid)

Output modifiers:

-k	Sort FIELDs (-FIELD to reverse)	-M	Measure/pad future field widths
-n	Show numeric USER and GROUP	-w	Wide output (don't truncate fields)
`;

const ps: CommandHandler = async (c) => {
  if (c.args.includes('--help')) {
    await c.out(PS_HELP);
    return 0;
  }
  const all = c.args.some((a) => a === '-A' || a === '-e' || a === '-ef' || a === '-Af');
  const names = c.args.filter((a) => !a.startsWith('-'));
  let rows = processRows(c);
  if (!all && names.length === 0) {
    const shPid = 20_000 + (Date.now() % 1000);
    rows = [
      {
        user: c.uid === 0 ? 'root' : 'shell',
        pid: shPid,
        ppid: 926,
        vsz: 10_834_412,
        rss: 2_896,
        name: 'sh',
      },
      {
        user: c.uid === 0 ? 'root' : 'shell',
        pid: shPid + 3,
        ppid: shPid,
        vsz: 10_873_372,
        rss: 3_744,
        name: 'ps',
      },
    ];
  }
  if (names.length) rows = rows.filter((r) => names.includes(r.name) || names.includes(String(r.pid)));
  const lines = [
    'USER            PID   PPID     VSZ    RSS WCHAN            ADDR S NAME                       ',
  ];
  for (const r of rows) {
    lines.push(
      `${r.user.padEnd(12)} ${String(r.pid).padStart(6)} ${String(r.ppid).padStart(6)} ${String(r.vsz).padStart(7)} ${String(r.rss).padStart(6)} ${'do_epoll_wait'.padEnd(16)} ${'0'.padStart(4)} S ${r.name}`,
    );
  }
  await c.out(`${lines.join('\n')}\n`);
  return 0;
};

const pidof: CommandHandler = async (c) => {
  const pids = processRows(c)
    .filter((r) => c.args.includes(r.name))
    .map((r) => r.pid);
  if (pids.length === 0) return 1;
  await c.out(`${pids.join(' ')}\n`);
  return 0;
};

const pgrep: CommandHandler = async (c) => {
  const exact = c.args.includes('-x');
  const pattern = c.args.filter((a) => !a.startsWith('-'))[0];
  if (pattern === undefined) {
    await c.err('pgrep: Need 1 argument\n');
    return 2;
  }
  let re: RegExp;
  try {
    re = new RegExp(exact ? `^(?:${pattern})$` : pattern);
  } catch {
    await c.err(`pgrep: bad regex '${pattern}'\n`);
    return 2;
  }
  const pids = processRows(c)
    .filter((r) => re.test(r.name))
    .map((r) => r.pid);
  if (pids.length === 0) return 1;
  await c.out(pids.map((p) => `${p}\n`).join(''));
  return 0;
};

const kill: CommandHandler = async (c) => {
  const state = c.phone.state;
  let failed = false;
  for (const a of c.args.filter((x) => !x.startsWith('-'))) {
    const pid = Number(a);
    const proc = [...state.apps.processes.values()].find((p) => p.pid === pid);
    if (!proc) {
      if (!processRows(c).some((r) => r.pid === pid)) await c.err(`kill: ${a}: No such process\n`);
      else await c.err(`kill: ${a}: Operation not permitted\n`);
      failed = true;
      continue;
    }
    if (c.uid !== 0 && proc.uid !== 2000) {
      await c.err(`kill: ${a}: Operation not permitted\n`);
      failed = true;
      continue;
    }
    for (const [component, run] of c.phone.instrumentations) {
      if (run.targetPackage === proc.name || component.startsWith(`${proc.name}/`)) run.stop();
    }
    state.apps.forceStop(proc.name);
  }
  return failed ? 1 : 0;
};

const log: CommandHandler = async (c) => {
  let tag = 'log';
  let pr = 4;
  const words: string[] = [];
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-t') tag = c.args[++i] ?? tag;
    else if (a === '-p') pr = ' _vdiwef'.indexOf((c.args[++i] ?? 'i').toLowerCase()[0] ?? 'i');
    else words.push(a);
  }
  c.phone.state.logLine(pr >= 2 ? pr : 4, tag, words.join(' '), 20_000, 20_000);
  return 0;
};

/** A String16 parcel reply as `service call` prints it: 16 bytes per row, words as LE u32 hex. */
export function parcelDump(value: string | undefined): string {
  const body: number[] = [0, 0, 0, 0]; // no exception
  if (value === undefined) {
    body.push(0xff, 0xff, 0xff, 0xff);
  } else {
    const len = Buffer.alloc(4);
    len.writeInt32LE(value.length);
    body.push(...len);
    const s = Buffer.from(`${value}\0`, 'utf16le');
    body.push(...s);
    while (body.length % 4) body.push(0);
  }
  const buf = Buffer.from(body);
  const rows: string[] = [];
  for (let off = 0; off < buf.length; off += 16) {
    const part = buf.subarray(off, off + 16);
    const words: string[] = [];
    for (let i = 0; i < part.length; i += 4) words.push(part.readUInt32LE(i).toString(16).padStart(8, '0'));
    const ascii = [...part].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    rows.push(
      `  0x${off.toString(16).padStart(8, '0')}: ${words.join(' ').padEnd(35)} '${ascii.padEnd(16)}'`,
    );
  }
  return `Result: Parcel(\n${rows.join('\n')})\n`;
}

const service: CommandHandler = async (c) => {
  const [verb, name, code] = c.args;
  const state = c.phone.state;
  if (verb === 'list') {
    await c.out(
      'Found 4 services:\n0\tphone: [com.android.internal.telephony.ITelephony]\n1\tiphonesubinfo: [com.android.internal.telephony.IPhoneSubInfo]\n2\tpackage: [android.content.pm.IPackageManager]\n3\tactivity: [android.app.IActivityManager]\n',
    );
    return 0;
  }
  if (verb === 'check') {
    await c.out(
      `Service ${name ?? ''}: ${['phone', 'iphonesubinfo', 'package', 'activity', 'window', 'power'].includes(name ?? '') ? 'found' : 'not found'}\n`,
    );
    return 0;
  }
  if (verb === 'call' && name === 'iphonesubinfo') {
    const ids = state.profile.identifiers;
    // Transaction 1 is getDeviceId (the IMEI); 4 getDeviceIdForPhone on some builds.
    const value = code === '1' || code === '4' ? ids.imei : code === '3' ? ids.imei2 : undefined;
    await c.out(parcelDump(value));
    return 0;
  }
  if (verb === 'call') {
    await c.out("Result: Parcel(00000000    '....')\n");
    return 0;
  }
  await c.err(
    'Usage: service [-h|-?]\n       service list\n       service check SERVICE\n       service call SERVICE CODE [i32 N | i64 N | f N | d N | s16 STR | null | fd f | nfd n | afd f ] ...\n',
  );
  return 1;
};

const appops: CommandHandler = async (c) => {
  const args = c.args.filter((a, i, all) => a !== '--user' && all[i - 1] !== '--user' && a !== '--uid');
  const [verb, pkg, op, mode] = args;
  const state = c.phone.state;
  if ((verb === 'set' || verb === 'get' || verb === 'reset') && pkg && !state.apps.packages.has(pkg)) {
    await c.err(`Error: No UID for ${pkg} in user 0\n`);
    return 255;
  }
  const norm = (o: string) => o.replace(/^android:/, '').toUpperCase();
  if (verb === 'set' && pkg && op && mode) {
    state.apps.appOps.set(`${pkg} ${norm(op)}`, mode);
    return 0;
  }
  if (verb === 'get' && pkg) {
    const entries = [...state.apps.appOps.entries()].filter(
      ([k]) => k.startsWith(`${pkg} `) && (!op || k === `${pkg} ${norm(op)}`),
    );
    if (entries.length === 0) await c.out(op ? `${norm(op)}: default\n` : 'No operations.\n');
    else await c.out(entries.map(([k, v]) => `${k.split(' ')[1]}: ${v}\n`).join(''));
    return 0;
  }
  if (verb === 'reset') {
    for (const k of [...state.apps.appOps.keys()])
      if (!pkg || k.startsWith(`${pkg} `)) state.apps.appOps.delete(k);
    return 0;
  }
  await c.err(
    'AppOps service (appops) commands:\n  set [--user <USER_ID>] <PACKAGE | UID> <OP> <MODE>\n  get [--user <USER_ID>] <PACKAGE | UID> [<OP>]\n',
  );
  return 255;
};

const ime: CommandHandler = async (c) => {
  const [verb, ...rest] = c.args;
  const state = c.phone.state;
  const all = ['com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME'];
  for (const p of state.apps.packages.values()) {
    if (p.name === 'io.appium.settings') all.push('io.appium.settings/.UnicodeIME');
  }
  const enabled = () =>
    (state.system.get('secure', 'enabled_input_methods') ?? '').split(':').filter(Boolean);
  const idArg = rest.filter((a, i) => !a.startsWith('-') && rest[i - 1] !== '--user')[0];
  switch (verb) {
    case 'list': {
      const list = rest.includes('-a') ? all : enabled();
      await c.out(
        list
          .map((x) => (rest.includes('-s') ? `${x}\n` : `${x}:\n  mId=${x} mSettingsActivity=null\n`))
          .join(''),
      );
      return 0;
    }
    case 'enable':
    case 'disable': {
      if (!idArg || !all.includes(idArg)) {
        await c.err(`Unknown input method ${idArg ?? ''} cannot be ${verb}d for user #0\n`);
        return 255;
      }
      const now = enabled().filter((x) => x !== idArg);
      if (verb === 'enable') now.push(idArg);
      state.system.put('secure', 'enabled_input_methods', now.join(':'));
      await c.out(
        `Input method ${idArg}: ${verb === 'enable' ? 'now enabled' : 'now disabled'} for user #0\n`,
      );
      return 0;
    }
    case 'set': {
      if (!idArg || !enabled().includes(idArg)) {
        await c.err(`Unknown input method ${idArg ?? ''} cannot be selected for user #0\n`);
        return 255;
      }
      state.system.put('secure', 'default_input_method', idArg);
      await c.out(`Input method ${idArg} selected for user #0\n`);
      return 0;
    }
    case 'reset':
      state.system.put('secure', 'default_input_method', all[0]!);
      await c.out(`Reset input method for user #0\n`);
      return 0;
  }
  await c.err('ime <command>:\n  list [-a] [-s]\n  enable <ID>\n  disable <ID>\n  set <ID>\n  reset\n');
  return 255;
};

const bmgr: CommandHandler = async (c) => {
  const [verb, value] = c.args;
  const state = c.phone.state;
  if (verb === 'enabled') {
    await c.out(
      `Backup Manager currently ${state.system.get('secure', 'backup_enabled') === '1' ? 'enabled' : 'disabled'}\n`,
    );
    return 0;
  }
  if (verb === 'enable' && (value === 'true' || value === 'false')) {
    state.system.put('secure', 'backup_enabled', value === 'true' ? '1' : '0');
    await c.out(`Backup Manager now ${value === 'true' ? 'enabled' : 'disabled'}\n`);
    return 0;
  }
  if (verb === 'backupnow') {
    if (!state.startBackup()) {
      await c.out('Backup Manager currently disabled\n');
      return 1;
    }
    await c.out(
      'Running incremental backup for 1 requested packages.\nBackup finished with result: Success\n',
    );
    return 0;
  }
  await c.err('usage: bmgr [enable|enabled|backupnow]\n');
  return 1;
};

const reboot: CommandHandler = async (c) => {
  c.phone.state.emit('reboot-request', c.args[0] ?? '');
  return 0;
};

const which: CommandHandler = async (c) => {
  let failed = false;
  for (const a of c.args) {
    if (c.phone.commandNames?.has(a)) await c.out(`/system/bin/${a}\n`);
    else failed = true;
  }
  return failed ? 1 : 0;
};

const cmd: CommandHandler = async (c) => {
  const [svcName, ...rest] = c.args;
  switch (svcName) {
    case 'package':
      return cmdPackage(c, rest);
    case 'connectivity':
      return cmdConnectivity(c, rest);
    case 'wifi':
      return cmdWifi(c, rest);
    case 'activity':
      return c.run(['am', ...rest].map(q).join(' '));
    case 'settings':
      return c.run(['settings', ...rest].map(q).join(' '));
    case 'appops':
      return c.run(['appops', ...rest].map(q).join(' '));
    case 'input_method':
      return c.run(['ime', ...rest].map(q).join(' '));
    case 'notification': {
      const [verb, component] = rest;
      if ((verb === 'allow_listener' || verb === 'disallow_listener') && component) {
        const state = c.phone.state;
        const now = (state.system.get('secure', 'enabled_notification_listeners') ?? '')
          .split(':')
          .filter(Boolean);
        const full = component.includes('/.') ? component.replace(/^([^/]+)\/\./, '$1/$1.') : component;
        const next = now.filter((x) => x !== full);
        if (verb === 'allow_listener') next.push(full);
        state.system.put('secure', 'enabled_notification_listeners', next.join(':'));
        return 0;
      }
      await c.err(`Unknown command: ${verb ?? ''}\n`);
      return 255;
    }
    case 'statusbar':
    case 'overlay':
    case 'uimode':
      return 0;
    case 'window':
      return c.run(['wm', ...rest].map(q).join(' '));
    case 'activity_task':
      return c.run(['am', ...rest].map(q).join(' '));
    case undefined:
      await c.err(
        'cmd: No service specified; use -l to list all running services. Use -w to start and wait for a service.\n',
      );
      return 20;
  }
  if (svcName === '-l') {
    await c.out(
      'Currently running services:\n  activity\n  connectivity\n  input_method\n  notification\n  package\n  settings\n  wifi\n',
    );
    return 0;
  }
  await c.err(`cmd: Can't find service: ${svcName}\n`);
  return 20;
};

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** System commands by name. */
export const systemCommands: Record<string, CommandHandler> = {
  id,
  whoami,
  date,
  uptime,
  uname,
  getenforce,
  env,
  printenv: env,
  ps,
  pidof,
  pgrep,
  kill,
  log,
  service,
  appops,
  ime,
  bmgr,
  reboot,
  which,
  cmd,
};
