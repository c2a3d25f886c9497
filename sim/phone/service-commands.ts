/**
 * System services from the shell: service call (iphonesubinfo's Parcel replies), appops, ime, bmgr,
 * reboot, and the `cmd SERVICE` dispatcher.
 */
import type { CommandContext, CommandHandler } from './command.js';
import type { DeviceState } from './device-state.js';
import { cmdConnectivity, cmdWifi } from './net-commands.js';
import { cmdPackage } from './package-commands.js';

/**
 * A String16 parcel reply as `service call` prints it: 16 bytes per row, words as LE u32 hex. With
 * `exception` (e.g. -1, EX_SECURITY), the value is the exception's message.
 */
export function parcelDump(value: string | undefined, exception = 0): string {
  const ex = Buffer.alloc(4);
  ex.writeInt32LE(exception);
  const body: number[] = [...ex];
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
    await c.out(subInfoCall(state, Number(code), c.args.slice(3)));
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

/** IPhoneSubInfo's methods by transaction code, as the AIDL orders them at this SDK level. */
function subInfoMethods(sdk: number): Record<number, { method: string; slotArg: boolean }> {
  if (sdk >= 23 && sdk <= 29)
    return {
      1: { method: 'imei', slotArg: false },
      3: { method: 'imei', slotArg: true },
      7: { method: 'imsi', slotArg: false },
      10: { method: 'iccid', slotArg: false },
      12: { method: 'line1', slotArg: false },
    };
  return {
    1: { method: 'imei', slotArg: false },
    4: { method: 'imei', slotArg: true },
    8: { method: 'imsi', slotArg: false },
    12: { method: 'iccid', slotArg: false },
    15: { method: 'line1', slotArg: false },
  };
}

/**
 * `service call iphonesubinfo CODE [i32 N] s16 PKG`: the shell's package must be given and be its
 * own (a SecurityException otherwise, as Android 6+ does); SIM values are null without a SIM.
 */
function subInfoCall(state: DeviceState, code: number, rest: string[]): string {
  const ints: number[] = [];
  const strings: string[] = [];
  for (let i = 0; i + 1 < rest.length; i += 2) {
    if (rest[i] === 'i32') ints.push(Number(rest[i + 1]));
    else if (rest[i] === 's16') strings.push(rest[i + 1]!);
  }
  const m = subInfoMethods(Number(state.system.props.get('ro.build.version.sdk') ?? 34))[code];
  if (!m) return parcelDump(undefined);
  const pkg = strings[0];
  if (pkg !== 'com.android.shell')
    return parcelDump(`Calling package ${pkg ?? 'null'} does not belong to 2000`, -1);
  const ids = state.profile.identifiers;
  const sim = state.simInserted;
  if (m.method === 'imei') {
    const slot = m.slotArg ? (ints[0] ?? 0) : 0;
    return parcelDump(slot === 0 ? ids.imei : slot === 1 ? ids.imei2 : undefined);
  }
  if (m.method === 'imsi') return parcelDump(sim ? ids.imsi : undefined);
  if (m.method === 'iccid') return parcelDump(sim ? ids.iccid : undefined);
  return parcelDump(sim ? ids.phoneNumber : undefined);
}

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
    case 'location':
      return cmdLocation(c, rest);
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
      'Currently running services:\n  activity\n  connectivity\n  input_method\n  location\n  notification\n  package\n  settings\n  wifi\n',
    );
    return 0;
  }
  await c.err(`cmd: Can't find service: ${svcName}\n`);
  return 20;
};

/**
 * `cmd location` as Android 11+ has it: set-location-enabled true|false and is-location-enabled,
 * each with an optional --user N (only user 0 exists here).
 */
async function cmdLocation(c: CommandContext, args: readonly string[]): Promise<number> {
  const [verb, ...rest] = args;
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] !== '--user') {
      words.push(rest[i]!);
      continue;
    }
    const user = rest[++i];
    if (user === undefined) {
      await c.err('Error: Argument expected after "--user"\n');
      return 255;
    }
    if (user !== '0' && user !== 'current' && user !== 'cur') {
      await c.err(`Error: user ${user} does not exist\n`);
      return 255;
    }
  }
  const system = c.phone.state.system;
  if (verb === 'is-location-enabled') {
    await c.out(`${system.locationOn}\n`);
    return 0;
  }
  if (verb === 'set-location-enabled') {
    const value = words[0];
    if (value === undefined) {
      await c.err('Error: Argument expected after "set-location-enabled"\n');
      return 255;
    }
    // Boolean.parseBoolean: "true" in any case is true, anything else false.
    system.setLocation(value.toLowerCase() === 'true');
    return 0;
  }
  await c.err(`Unknown command: ${verb ?? ''}\n`);
  return 255;
}

/** A word quoted for a shell command line, as dumpsys prints the commands it ran. */
function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Service commands by name. */
export const serviceCommands: Record<string, CommandHandler> = {
  service,
  appops,
  ime,
  bmgr,
  reboot,
  cmd,
};
