/**
 * The screen-facing commands: input (tap, keyevent, text, swipe), wm (size, density, dismiss-keyguard),
 * uiautomator dump and screencap. Taps hit the same view tree that dump and screencap show.
 */
import { writeFile } from 'node:fs/promises';
import type { CommandContext, CommandHandler } from './command.js';
import { answerConsent, CAPTURE_CTRL } from './pcapdroid.js';
import { screenTree } from './screen-model.js';
import { encodePng, paintScreen } from './screen-png.js';
import { nodeAt, type ScreenAction, uiautomatorXml } from './ui-node.js';

const KEYCODES: Record<string, number> = {
  KEYCODE_HOME: 3,
  KEYCODE_BACK: 4,
  KEYCODE_ENTER: 66,
  KEYCODE_0: 7,
  KEYCODE_1: 8,
  KEYCODE_2: 9,
  KEYCODE_3: 10,
  KEYCODE_4: 11,
  KEYCODE_5: 12,
  KEYCODE_6: 13,
  KEYCODE_7: 14,
  KEYCODE_8: 15,
  KEYCODE_9: 16,
  KEYCODE_MENU: 82,
  KEYCODE_POWER: 26,
  KEYCODE_APP_SWITCH: 187,
  KEYCODE_SLEEP: 223,
  KEYCODE_WAKEUP: 224,
  KEYCODE_VOLUME_UP: 24,
  KEYCODE_VOLUME_DOWN: 25,
};

async function perform(c: CommandContext, action: ScreenAction): Promise<void> {
  const state = c.phone.state;
  switch (action.kind) {
    case 'launch':
      state.logLine(
        4,
        'ActivityTaskManager',
        `START u0 {act=android.intent.action.MAIN cmp=${action.component}} from uid 10000`,
        1000,
      );
      state.apps.setForeground(action.component);
      return;
    case 'unlock':
      state.screen.dismissKeyguard();
      return;
    case 'back':
      await back(c);
      return;
    case 'toggle':
      state.system.setConsent(action.consent, !state.system.consent(action.consent));
      return;
    case 'backup-now':
      state.startBackup();
      return;
    case 'finish-setup':
      state.system.put('global', 'device_provisioned', '1');
      return;
    case 'account': {
      const type = state.profile.vendorAccountType;
      if (state.accounts.some((a) => a.type === type)) state.removeAccount(type);
      else state.addAccount({ type, name: state.profile.accountUi?.signInAs ?? 'phonehome-lab' });
      return;
    }
    case 'sign-in': {
      const window = state.apps.foreground ?? 'none';
      const name = state.screen.typedIn(window, action.accountField);
      const password = state.screen.typedIn(window, action.passwordField);
      // An empty field: the form stays, as the app's own check would keep it.
      if (name === '' || password === '') return;
      state.screen.clearTyped(window);
      const type = state.profile.vendorAccountType;
      if (!state.accounts.some((a) => a.type === type)) state.addAccount({ type, name });
      await perform(c, { kind: 'launch', component: action.opens });
      return;
    }
    case 'sign-out':
      state.removeAccount(state.profile.vendorAccountType);
      await perform(c, { kind: 'launch', component: action.opens });
      return;
    case 'save-contact': {
      const window = state.apps.foreground ?? 'none';
      const name = state.screen.typedIn(window, action.nameField);
      const number = state.screen.typedIn(window, action.numberField);
      if (name === '' || number === '') return;
      state.screen.clearTyped(window);
      state.addContact(name, number);
      await perform(c, { kind: 'launch', component: action.opens });
      return;
    }
    case 'open-contact':
      if (action.index >= state.contacts.length) return;
      state.openContact = action.index;
      await perform(c, { kind: 'launch', component: action.opens });
      return;
    case 'delete-contact':
      state.deleteOpenContact();
      await perform(c, { kind: 'launch', component: action.opens });
      return;
    case 'send-sms': {
      const window = state.apps.foreground ?? 'none';
      const to = state.screen.typedIn(window, action.toField);
      const body = state.screen.typedIn(window, action.bodyField);
      if (to === '' || body === '' || !state.sendSms(to, body)) return;
      state.screen.clearTyped(window);
      await perform(c, { kind: 'launch', component: action.opens });
      return;
    }
    case 'pcapdroid-consent':
      await answerConsent(c, action.allow);
      return;
  }
}

async function back(c: CommandContext): Promise<void> {
  const state = c.phone.state;
  if (state.apps.foreground === CAPTURE_CTRL && state.pcapdroid.consentPending) {
    await answerConsent(c, false);
    return;
  }
  state.apps.goHome();
}

async function keyevent(c: CommandContext, code: number, longpress: boolean): Promise<void> {
  const state = c.phone.state;
  switch (code) {
    case 26:
      if (!longpress) state.screen.set(!state.screen.on);
      return;
    case 224:
      state.screen.set(true);
      return;
    case 223:
      state.screen.set(false);
      return;
    case 3:
      if (state.screen.on && !state.screen.locked) state.apps.goHome();
      return;
    case 4:
      if (state.screen.on && !state.screen.locked) await back(c);
      return;
    case 82:
      if (state.screen.on) state.screen.dismissKeyguard();
      return;
    case 66:
      state.screen.typeOnKeyguard('\n');
      return;
  }
  // KEYCODE_0 … KEYCODE_9 are 7 … 16.
  if (code >= 7 && code <= 16) state.screen.typeOnKeyguard(String(code - 7));
}

const input: CommandHandler = async (c) => {
  let args = [...c.args];
  if (
    args[0] &&
    ['touchscreen', 'keyboard', 'mouse', 'trackball', 'dpad', 'stylus', 'touchpad'].includes(args[0])
  )
    args = args.slice(1);
  if (args[0] === '-d') args = args.slice(2);
  const [verb, ...rest] = args;
  const state = c.phone.state;
  const num = (s: string | undefined) => Number.parseFloat(s ?? '');
  // MIUI/HyperOS refuse injected input until "USB debugging (Security settings)" is on.
  if (verb && verb !== 'help' && state.system.props.get('persist.security.adbinput') === '0') {
    await c.err(
      `Exception occurred while executing '${verb}':\njava.lang.SecurityException: Injecting to another application requires INJECT_EVENTS permission\n`,
    );
    return 255;
  }
  switch (verb) {
    case 'tap': {
      const x = num(rest[0]);
      const y = num(rest[1]);
      if (!Number.isFinite(x) || !Number.isFinite(y)) break;
      const hit = nodeAt(screenTree(state), x, y);
      if (hit?.onTap) await perform(c, hit.onTap);
      return 0;
    }
    case 'swipe':
    case 'draganddrop': {
      const [x1, y1, x2, y2] = rest.map(num);
      if ([x1, y1, x2, y2].some((v) => v === undefined || !Number.isFinite(v))) break;
      if (state.screen.locked && state.screen.on && y1! - y2! > state.screen.size().height / 5)
        state.screen.dismissKeyguard();
      return 0;
    }
    case 'keyevent':
    case 'press': {
      const longpress = rest.includes('--longpress');
      const codes = rest.filter((a) => !a.startsWith('--'));
      if (verb === 'press') codes.push('23');
      for (const k of codes) {
        const code = /^\d+$/.test(k) ? Number(k) : KEYCODES[k.startsWith('KEYCODE_') ? k : `KEYCODE_${k}`];
        if (code === undefined) {
          await c.err(`Error: Unknown keycode: ${k}\n`);
          return 1;
        }
        await keyevent(c, code, longpress);
      }
      return 0;
    }
    case 'text': {
      if (rest.length === 0) break;
      state.screen.typeOnKeyguard(rest.join(' '));
      state.logLine(3, 'InputDispatcher', `injected text of ${rest.join(' ').length} chars`, 1000);
      return 0;
    }
    case 'roll':
    case 'motionevent':
    case 'keycombination':
      return 0;
  }
  await c.err(
    'Usage: input [<source>] [-d DISPLAY_ID] <command> [<arg>...]\n\nThe commands and default sources are:\n      text <string> (Default: keyboard)\n      keyevent [--longpress|--duration <duration to hold key down in ms>] [--doubletap] [--async] [--delay <duration between keycodes in ms>] <key code number or name> ... (Default: keyboard)\n      tap <x> <y> (Default: touchscreen)\n      swipe <x1> <y1> <x2> <y2> [duration(ms)] (Default: touchscreen)\n',
  );
  return 1;
};

const wm: CommandHandler = async (c) => {
  const [verb, value] = c.args;
  const state = c.phone.state;
  const s = state.profile.screen;
  const o = state.screen.displayOverride;
  switch (verb) {
    case 'size':
      if (value === undefined) {
        await c.out(
          `Physical size: ${s.width}x${s.height}\n${o.width ? `Override size: ${o.width}x${o.height}\n` : ''}`,
        );
        return 0;
      }
      if (value === 'reset') {
        delete o.width;
        delete o.height;
        return 0;
      }
      {
        const m = /^(\d+)x(\d+)$/.exec(value);
        if (!m) {
          await c.err(`Error: bad size ${value}\n`);
          return 1;
        }
        o.width = Number(m[1]);
        o.height = Number(m[2]);
      }
      return 0;
    case 'density':
      if (value === undefined) {
        await c.out(`Physical density: ${s.density}\n${o.density ? `Override density: ${o.density}\n` : ''}`);
        return 0;
      }
      if (value === 'reset') delete o.density;
      else if (/^\d+$/.test(value)) o.density = Number(value);
      else {
        await c.err(`Error: bad number ${value}\n`);
        return 1;
      }
      return 0;
    case 'dismiss-keyguard':
      state.screen.dismissKeyguard();
      return 0;
    case 'user-rotation':
    case 'fixed-to-user-rotation':
      return 0;
  }
  await c.err(`Unknown command: ${verb ?? ''}\n`);
  return 1;
};

const uiautomator: CommandHandler = async (c) => {
  const [verb, ...rest] = c.args;
  if (verb !== 'dump') {
    await c.err(
      `Usage: uiautomator <subcommand> [options]\n\nAvailable subcommands:\n\nhelp: displays help message\n\ndump: creates an XML dump of current UI hierarchy\n`,
    );
    return 1;
  }
  const tree = screenTree(c.phone.state);
  if (!tree) {
    await c.err('ERROR: null root node returned by UiTestAutomationBridge.\n');
    return 1;
  }
  const xml = uiautomatorXml(tree);
  const target = rest.find((a) => !a.startsWith('-'));
  if (target === '/dev/tty' || target === '/dev/stdout') {
    await c.out(`${xml}\nUI hierchary dumped to: ${target}\n`);
    return 0;
  }
  const phonePath = target ?? '/sdcard/window_dump.xml';
  const host = c.phone.hostPath(phonePath);
  try {
    if (!host) throw new Error('outside');
    await writeFile(host, xml);
  } catch {
    await c.err(`ERROR: could not write ${phonePath}\n`);
    return 1;
  }
  await c.out(`UI hierchary dumped to: ${phonePath}\n`);
  return 0;
};

/** The current screen as a PNG. */
export function screenshotPng(state: CommandContext['phone']['state']): Buffer {
  const { width, height } = state.screen.size();
  return encodePng(width, height, paintScreen(screenTree(state), width, height));
}

const screencap: CommandHandler = async (c) => {
  const png = c.args.includes('-p');
  const file = c.args.find((a) => !a.startsWith('-') && !/^\d+$/.test(a));
  const state = c.phone.state;
  const { width, height } = state.screen.size();
  let data: Buffer;
  if (png || file?.endsWith('.png')) data = screenshotPng(state);
  else {
    const rgb = paintScreen(screenTree(state), width, height);
    const head = Buffer.alloc(16);
    head.writeUInt32LE(width, 0);
    head.writeUInt32LE(height, 4);
    head.writeUInt32LE(1, 8); // RGBA_8888
    head.writeUInt32LE(0, 12); // dataspace: unknown
    const rgba = Buffer.alloc(width * height * 4);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgba[j] = rgb[i]!;
      rgba[j + 1] = rgb[i + 1]!;
      rgba[j + 2] = rgb[i + 2]!;
      rgba[j + 3] = 255;
    }
    data = Buffer.concat([head, rgba]);
  }
  if (file) {
    const host = c.phone.hostPath(file);
    try {
      if (!host) throw new Error('outside');
      await writeFile(host, data);
    } catch {
      await c.err(`Error opening file: ${file} (No such file or directory)\n`);
      return 1;
    }
    return 0;
  }
  await c.out(data);
  return 0;
};

/** Screen commands by name. */
export const inputCommands: Record<string, CommandHandler> = { input, wm, uiautomator, screencap };
