/** getprop, setprop and settings: the phone's properties and settings tables. */
import type { CommandHandler } from './command.js';
import type { SettingsNamespace } from './state-types.js';

const getprop: CommandHandler = async (c) => {
  const args = c.args.filter((a) => !a.startsWith('-'));
  const props = c.phone.state.system.props;
  if (args.length === 0) {
    const keys = [...props.keys()].sort();
    await c.out(keys.map((k) => `[${k}]: [${props.get(k)}]\n`).join(''));
    return 0;
  }
  // Real getprop exits 0 whether or not the property exists (adbkit's boot wait relies on it).
  await c.out(`${props.get(args[0]!) ?? args[1] ?? ''}\n`);
  return 0;
};

const setprop: CommandHandler = async (c) => {
  const [key, value] = c.args;
  if (key === undefined || value === undefined) {
    await c.err('usage: setprop NAME VALUE\n\nSets an Android system property.\n');
    return 1;
  }
  const props = c.phone.state.system.props;
  const readOnly = key.startsWith('ro.') && props.has(key);
  const allowed =
    c.uid === 0 || /^(debug|log|persist\.log|persist\.debug|ctl|service\.adb|persist\.sys)\./.test(key);
  if (readOnly || !allowed) {
    await c.err(`Failed to set property '${key}' to '${value}'.\nSee dmesg for error reason.\n`);
    return 1;
  }
  c.phone.state.system.setProp(key, value);
  return 0;
};

const NAMESPACES = ['global', 'secure', 'system'];

const settings: CommandHandler = async (c) => {
  const args = [...c.args];
  while (args[0] === '--user' || args[0] === '--lineLength') args.splice(0, 2);
  const [verb, ns, key, ...rest] = args;
  const state = c.phone.state;
  if (!verb || !['get', 'put', 'delete', 'list', 'reset'].includes(verb)) {
    await c.err(`Invalid command: ${verb ?? ''}\n`);
    return 255;
  }
  if (!ns || !NAMESPACES.includes(ns)) {
    await c.err(`Invalid namespace '${ns ?? ''}'\n`);
    return 255;
  }
  const table = ns as SettingsNamespace;
  switch (verb) {
    case 'list': {
      const entries = [...state.system.tables[table].entries()].sort(([a], [b]) => (a < b ? -1 : 1));
      await c.out(entries.map(([k, v]) => `${k}=${v}\n`).join(''));
      return 0;
    }
    case 'get':
      if (key === undefined) break;
      await c.out(`${state.system.get(table, key) ?? 'null'}\n`);
      return 0;
    case 'put': {
      if (key === undefined || rest[0] === undefined) break;
      const value = rest[0];
      applySetting(c, table, key, value);
      return 0;
    }
    case 'delete':
      if (key === undefined) break;
      await c.out(`Deleted ${state.system.delete(table, key) ? 1 : 0} rows\n`);
      return 0;
    case 'reset':
      return 0;
  }
  await c.err('Bad arguments\n');
  return 255;
};

/** Writes a setting, with the side effects the framework attaches to a few of them. */
function applySetting(
  c: Parameters<CommandHandler>[0],
  ns: SettingsNamespace,
  key: string,
  value: string,
): void {
  const state = c.phone.state;
  if (ns === 'global' && key === 'airplane_mode_on') state.system.setAirplaneMode(value === '1');
  else if (ns === 'global' && key === 'wifi_on') state.system.setWifi(value !== '0');
  else state.system.put(ns, key, value);
}

/** Property and settings commands by name. */
export const settingsCommands: Record<string, CommandHandler> = { getprop, setprop, settings };
