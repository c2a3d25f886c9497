/**
 * am (start, start-activity, force-stop, kill, broadcast, instrument, start-service …) and monkey:
 * activities come to the foreground, unknown components fail as on a real phone, broadcasts start
 * backups, instrumentations run until force-stopped (played by the onInstrument hook).
 */
import type { Duplex } from 'node:stream';
import type { CommandContext, CommandHandler, InstrumentRun } from './command.js';
import { fullComponent, shortComponent } from './component-name.js';
import { describeIntent, type IntentArgs, loggedIntent, parseIntentArgs } from './intent-args.js';
import { CAPTURE_CTRL, captureCtrl, PCAPDROID_PACKAGE, stopPcapdroid } from './pcapdroid.js';
import type { InstalledPackage } from './state-types.js';

/** Apps whose launch activity starts a foreground service and finishes at once (Appium Settings). */
const SELF_FINISHING: Record<string, string> = {
  'io.appium.settings/io.appium.settings.Settings': 'io.appium.settings/.ForegroundService',
};

/** Finds the activity an intent resolves to; undefined when nothing matches. */
function resolveActivity(c: CommandContext, it: IntentArgs): string | undefined {
  const state = c.phone.state;
  if (it.categories.includes('android.intent.category.HOME')) return state.homeScreen();
  const pkgName = it.package ?? (it.uri && !it.uri.includes(':') ? it.uri : undefined);
  if (pkgName) return state.apps.packages.get(pkgName)?.launchActivity;
  const action = it.action ?? '';
  if (action.startsWith('android.settings.')) {
    const settings = state.apps.packages.get('com.android.settings');
    return action === 'android.settings.SETTINGS'
      ? settings?.launchActivity
      : (settings?.activities.find((a) => a.endsWith('.SubSettings')) ?? settings?.launchActivity);
  }
  const data = it.data ?? it.uri;
  if (action === 'android.intent.action.VIEW' && data && /^https?:/.test(data)) {
    for (const b of ['com.android.chrome', 'com.mi.globalbrowser']) {
      const p = state.apps.packages.get(b);
      if (p?.launchActivity) return p.launchActivity;
    }
  }
  return undefined;
}

function activityExists(p: InstalledPackage | undefined, full: string): boolean {
  return !!p && (p.activities.includes(full) || p.launchActivity === full);
}

async function startActivity(c: CommandContext, args: readonly string[]): Promise<number> {
  const state = c.phone.state;
  const it = parseIntentArgs(args);
  const wait = it.options.has('-W');
  let target: string | undefined;
  if (it.component) {
    if (!it.component.includes('/')) {
      await c.err(`Error: Bad component name: ${it.component}\n`);
      return 255;
    }
    target = fullComponent(it.component);
  } else {
    target = resolveActivity(c, it);
  }
  const shown = it.component ? it.component : target ? shortComponent(target) : undefined;
  await c.out(`Starting: ${describeIntent(it, shown)}\n`);
  if (!target) {
    await c.err(`Error: Activity not started, unable to resolve ${describeIntent(it)}\n`);
    return 1;
  }
  const pkgName = target.split('/')[0]!;
  const pkg = state.apps.packages.get(pkgName);
  if (!activityExists(pkg, target)) {
    await c.err(`Error type 3\nError: Activity class {${target}} does not exist.\n`);
    return 1;
  }
  if (it.options.has('-S')) state.apps.forceStop(pkgName);
  const coldStart = !state.apps.processes.has(pkgName);
  const alreadyTop = state.apps.foreground === target && !coldStart;
  state.logLine(
    4,
    'ActivityTaskManager',
    `START u0 ${loggedIntent(it, shortComponent(target))} from uid 2000`,
    1000,
  );
  if (target === CAPTURE_CTRL || (pkgName === PCAPDROID_PACKAGE && target.endsWith('.CaptureCtrl'))) {
    await captureCtrl(c, it);
  } else if (SELF_FINISHING[target]) {
    state.apps.startProcess(pkgName);
    state.apps.services.set(fullComponent(SELF_FINISHING[target]!), {
      component: fullComponent(SELF_FINISHING[target]!),
      foreground: true,
    });
    state.emitChange('process');
  } else if (!alreadyTop) {
    state.apps.setForeground(target);
  }
  if (alreadyTop) {
    await c.out(
      'Warning: Activity not started, intent has been delivered to currently running top-most instance.\n',
    );
  }
  if (wait) {
    const total = coldStart ? 380 + Math.floor(Math.random() * 120) : 60 + Math.floor(Math.random() * 40);
    await c.out(
      `Status: ok\nLaunchState: ${alreadyTop ? 'UNKNOWN (0)' : coldStart ? 'COLD' : 'WARM'}\nActivity: ${shortComponent(target)}\n` +
        (alreadyTop ? '' : `TotalTime: ${total}\n`) +
        `WaitTime: ${total + 4}\nComplete\n`,
    );
  }
  return 0;
}

async function forceStop(c: CommandContext, args: readonly string[]): Promise<number> {
  const pkg = args.filter((a, i) => !a.startsWith('-') && args[i - 1] !== '--user')[0];
  if (!pkg) {
    await c.err('Error: no package specified\n');
    return 255;
  }
  for (const [component, run] of c.phone.instrumentations) {
    if (run.targetPackage === pkg || component.startsWith(`${pkg}/`)) run.stop();
  }
  if (pkg === PCAPDROID_PACKAGE) {
    await stopPcapdroid(c);
    c.phone.state.pcapdroid.consentPending = false;
  }
  c.phone.state.apps.forceStop(pkg);
  return 0;
}

async function broadcast(c: CommandContext, args: readonly string[]): Promise<number> {
  const state = c.phone.state;
  const it = parseIntentArgs(args);
  await c.out(`Broadcasting: ${describeIntent({ ...it, flags: it.flags ?? '0x400000' })}\n`);
  if (it.action && it.action === state.profile.backup.startAction) state.startBackup();
  // A receiver that handled the broadcast answers RESULT_OK (-1), as the Appium Settings helper's do.
  let result = 0;
  // The Appium Settings helper's locale receiver (what the UiAutomator2 driver uses to pin a locale).
  if (it.action === 'io.appium.settings.locale' && state.apps.packages.has('io.appium.settings')) {
    const lang = it.extras.get('lang');
    const country = it.extras.get('country');
    const script = it.extras.get('script');
    if (lang && country && /^[A-Za-z]{2,8}$/.test(lang) && /^[A-Za-z0-9]{2,3}$/.test(country)) {
      const tag = [
        lang.toLowerCase(),
        ...(script && /^[A-Za-z]{4}$/.test(script) ? [script] : []),
        country.toUpperCase(),
      ];
      state.system.setProp('persist.sys.locale', tag.join('-'));
      result = -1;
    }
  }
  state.logLine(4, 'ActivityManager', `Broadcast ${it.action ?? ''} from uid 2000`, 1000);
  await c.out(`Broadcast completed: result=${result}\n`);
  return 0;
}

async function instrument(c: CommandContext, args: readonly string[]): Promise<number> {
  const state = c.phone.state;
  const extras: Record<string, string> = {};
  let wait = false;
  let noWindowAnimation = false;
  let component: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-w') wait = true;
    else if (a === '--no-window-animation') noWindowAnimation = true;
    else if (a === '-e') {
      const k = args[++i] ?? '';
      extras[k] = args[++i] ?? '';
    } else if (a === '--user' || a === '-p' || a === '--abi' || a === '--instrument-sdk-sandbox') i++;
    else if (!a.startsWith('-')) component = a;
  }
  if (!component?.includes('/')) {
    await c.err('Error: Bad component name: ' + (component ?? '') + '\n');
    return 255;
  }
  const [pkgName, runnerRaw] = component.split('/') as [string, string];
  const runner = runnerRaw.startsWith('.') ? pkgName + runnerRaw : runnerRaw;
  const ins = state.apps.packages.get(pkgName)?.instrumentation.find((i) => i.runner === runner);
  if (!ins) {
    await c.out(
      `INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo{${pkgName}/${runner}}\nINSTRUMENTATION_STATUS_CODE: -1\n`,
    );
    await c.err(
      `android.util.AndroidException: INSTRUMENTATION_FAILED: ${pkgName}/${runner}\n\tat com.android.commands.am.Instrument.run(Instrument.java:580)\n\tat com.android.commands.am.Am.runInstrument(Am.java:201)\n`,
    );
    return 1;
  }
  if (!state.apps.packages.has(ins.targetPackage)) {
    await c.out(`INSTRUMENTATION_RESULT: shortMsg=Process crashed.\nINSTRUMENTATION_CODE: 0\n`);
    return 0;
  }
  const key = `${pkgName}/${runner}`;
  c.phone.instrumentations.get(key)?.stop();
  const ended = new AbortController();
  const ports: number[] = [];
  const stop = () => {
    if (ended.signal.aborted) return;
    ended.abort();
    // The instrumented process dies: its listening ports and open connections go with it.
    for (const p of ports) {
      c.phone.listeners.delete(p);
      for (const s of c.phone.openStreams.get(p) ?? []) s.destroy();
      c.phone.openStreams.delete(p);
    }
    if (c.phone.instrumentations.get(key)?.stop === stop) c.phone.instrumentations.delete(key);
    state.apps.forceStop(ins.targetPackage);
  };
  c.phone.instrumentations.set(key, { targetPackage: ins.targetPackage, stop });
  state.apps.startProcess(ins.targetPackage);
  state.logLine(
    4,
    'ActivityManager',
    `Start proc for added application ${ins.targetPackage}: instrumentation ${key}`,
    1000,
  );
  const onForceStop = (pkg: string) => {
    if (pkg === ins.targetPackage || pkg === pkgName) stop();
  };
  state.on('force-stop', onForceStop);
  state.once('reboot-start', stop);
  const printed: string[] = [];
  const run: InstrumentRun = {
    component: key,
    targetPackage: ins.targetPackage,
    args: extras,
    noWindowAnimation,
    signal: ended.signal,
    state,
    listen(port: number, onConnection: (stream: Duplex) => void) {
      c.phone.listeners.set(port, onConnection);
      ports.push(port);
      return () => {
        if (c.phone.listeners.get(port) === onConnection) c.phone.listeners.delete(port);
      };
    },
    finish() {
      stop();
    },
    exec: (line: string) => c.phone.exec(line, ended.signal),
    print(line: string) {
      if (wait) void c.out(`${line}\n`);
      else printed.push(line);
    },
  };
  try {
    await c.phone.onInstrument?.(run);
  } catch (e) {
    await c.out(`INSTRUMENTATION_RESULT: shortMsg=${(e as Error).message}\nINSTRUMENTATION_CODE: -1\n`);
    stop();
    state.off('force-stop', onForceStop);
    return 1;
  }
  if (!wait) {
    ended.signal.addEventListener('abort', () => state.off('force-stop', onForceStop), { once: true });
    return 0;
  }
  await new Promise<void>((resolve) => {
    if (ended.signal.aborted || c.signal.aborted) resolve();
    ended.signal.addEventListener('abort', () => resolve(), { once: true });
    c.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const clientGone = c.signal.aborted && !ended.signal.aborted;
  stop();
  state.off('force-stop', onForceStop);
  if (!clientGone)
    await c.out('INSTRUMENTATION_RESULT: shortMsg=Process crashed.\nINSTRUMENTATION_CODE: -1\n');
  return 0;
}

async function startService(
  c: CommandContext,
  args: readonly string[],
  foreground: boolean,
): Promise<number> {
  const state = c.phone.state;
  const it = parseIntentArgs(args);
  const cmp = it.component ? fullComponent(it.component) : undefined;
  await c.out(`Starting service: ${describeIntent(it)}\n`);
  if (!cmp || !state.apps.packages.has(cmp.split('/')[0]!)) {
    await c.err(`Error: Not found; no service started.\n`);
    return 1;
  }
  state.apps.startProcess(cmp.split('/')[0]!);
  state.apps.services.set(cmp, { component: cmp, foreground });
  state.emitChange('process');
  return 0;
}

const am: CommandHandler = async (c) => {
  const [verb, ...rest] = c.args;
  const state = c.phone.state;
  switch (verb) {
    case 'start':
    case 'start-activity':
      return startActivity(c, rest);
    case 'force-stop':
    case 'stop-app':
      return forceStop(c, rest);
    case 'kill': {
      const pkg = rest.filter((a) => !a.startsWith('-')).pop();
      if (pkg && state.apps.foregroundPackage !== pkg) state.apps.forceStop(pkg);
      return 0;
    }
    case 'kill-all':
      for (const p of [...state.apps.processes.keys()]) {
        if (!state.apps.packages.get(p)?.persistent && state.apps.foregroundPackage !== p)
          state.apps.forceStop(p);
      }
      return 0;
    case 'broadcast':
      return broadcast(c, rest);
    case 'instrument':
      return instrument(c, rest);
    case 'startservice':
    case 'start-service':
      return startService(c, rest, false);
    case 'start-foreground-service':
      return startService(c, rest, true);
    case 'stopservice':
    case 'stop-service': {
      const it = parseIntentArgs(rest);
      const cmp = it.component ? fullComponent(it.component) : '';
      const had = state.apps.services.delete(cmp);
      await c.out(`Stopping service: ${describeIntent(it)}\n${had ? 'Service stopped\n' : ''}`);
      return had ? 0 : 1;
    }
    case 'get-current-user':
      await c.out('0\n');
      return 0;
    case 'stack':
    case 'task':
      if (rest[0] === 'list' && state.apps.foreground) {
        await c.out(
          `RootTask id=1 bounds=[0,0][${state.screen.size().width},${state.screen.size().height}] displayId=0 userId=0\n  taskId=1: ${shortComponent(state.apps.foreground)} visible=${state.screen.on}\n`,
        );
      }
      return 0;
    case undefined:
      await c.out(
        'Activity manager (activity) commands:\n  help\n  start-activity\n  force-stop\n  broadcast\n  instrument\n',
      );
      return 0;
    default:
      await c.err(`Unknown command: ${verb}\n`);
      return 255;
  }
};

const monkey: CommandHandler = async (c) => {
  const pkgs: string[] = [];
  let count = 0;
  for (let i = 0; i < c.args.length; i++) {
    const a = c.args[i]!;
    if (a === '-p') pkgs.push(c.args[++i] ?? '');
    else if (a === '-c' || a === '-s' || a === '--throttle' || a === '--pct-syskeys' || a === '--port') i++;
    else if (/^\d+$/.test(a)) count = Number(a);
  }
  const state = c.phone.state;
  const launchable = pkgs
    .map((p) => state.apps.packages.get(p)?.launchActivity)
    .filter((a): a is string => !!a);
  if (launchable.length === 0) {
    await c.err('** No activities found to run, monkey aborted.\n');
    return 252;
  }
  if (count > 0) {
    const target = launchable[0]!;
    state.logLine(
      4,
      'ActivityTaskManager',
      `START u0 {act=android.intent.action.MAIN cat=[android.intent.category.LAUNCHER] flg=0x10200000 cmp=${shortComponent(target)}} from uid 2000`,
      1000,
    );
    state.apps.setForeground(target);
  }
  await c.out(
    `  bash arg: ${c.args.join('\n  bash arg: ')}\nargs: [${c.args.join(', ')}]\nEvents injected: ${count}\n## Network stats: elapsed time=${20 + count}ms (0ms mobile, 0ms wifi, ${20 + count}ms not connected)\n`,
  );
  return 0;
};

/** Activity manager and monkey by name. */
export const activityCommands: Record<string, CommandHandler> = { am, monkey };
