/**
 * dumpsys: package, battery, window, power, activity, wifi, netstats, deviceidle, account,
 * connectivity, input_method — in the shapes real phones print and clients parse (UIA2.md).
 */
import { createHash } from 'node:crypto';
import type { CommandContext, CommandHandler } from './command.js';
import { shortComponent } from './component-name.js';
import type { DeviceState } from './device-state.js';
import type { InstalledPackage } from './state-types.js';

/** A stable 7-hex-digit "identity hash" for an object name, as Android prints them. */
export function identityHash(s: string): string {
  return createHash('sha1').update(s).digest('hex').slice(0, 7);
}

function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function packageBlock(state: DeviceState, p: InstalledPackage): string {
  const h = identityHash(p.name);
  const codePath = p.path.slice(0, p.path.lastIndexOf('/'));
  const flags = `[ ${p.system ? 'SYSTEM ' : ''}HAS_CODE ALLOW_CLEAR_USER_DATA ALLOW_BACKUP ]`;
  const running = state.apps.processes.has(p.name);
  const lines = [
    `  Package [${p.name}] (${h}):`,
    `    appId=${p.uid}`,
    `    pkg=Package{${identityHash(`${p.name}#pkg`)} ${p.name}}`,
    `    codePath=${codePath}`,
    `    resourcePath=${codePath}`,
    `    legacyNativeLibraryDir=${codePath}/lib`,
    '    extractNativeLibs=false',
    '    primaryCpuAbi=arm64-v8a',
    '    secondaryCpuAbi=null',
    '    cpuAbiOverride=null',
    `    versionCode=${p.versionCode} minSdk=${p.minSdk} targetSdk=${p.targetSdk}`,
    '    minExtensionVersions=[]',
    `    versionName=${p.versionName}`,
    '    usesNonSdkApi=false',
    '    splits=[base]',
    '    apkSigningVersion=2',
    `    flags=${flags}`,
    `    privateFlags=[ PRIVATE_FLAG_ACTIVITIES_RESIZE_MODE_RESIZEABLE_VIA_SDK_VERSION ALLOW_AUDIO_PLAYBACK_CAPTURE${p.system ? ' PRIVILEGED' : ''} ]`,
    '    forceQueryable=false',
    `    dataDir=/data/user/0/${p.name}`,
    '    supportsScreens=[small, medium, large, xlarge, resizeable, anyDensity]',
    `    timeStamp=${stamp(p.updatedAt)}`,
    `    lastUpdateTime=${stamp(p.updatedAt)}`,
    `    installerPackageName=${p.installer ?? 'null'}`,
    `    signatures=PackageSignatures{${identityHash(`${p.name}#sig`)} version:2, signatures:[${identityHash(`${p.name}#cert`)}], past signatures:[]}`,
    '    installPermissionsFixed=true',
    `    pkgFlags=${flags}`,
  ];
  if (p.requestedPermissions.length) {
    lines.push('    requested permissions:');
    for (const perm of p.requestedPermissions) lines.push(`      ${perm}`);
    lines.push('    install permissions:');
    for (const perm of p.requestedPermissions) lines.push(`      ${perm}: granted=true`);
  }
  lines.push(
    `    User 0: ceDataInode=${100_000 + (p.uid % 100_000)} installed=true hidden=false suspended=false distractionFlags=0 stopped=${!running} notLaunched=false enabled=0 instant=false virtual=false`,
    `      installReason=0`,
    `      firstInstallTime=${stamp(p.installedAt)}`,
    '      gids=[3003]',
    '      runtime permissions:',
  );
  for (const perm of p.granted) lines.push(`        ${perm}: granted=true, flags=[ USER_SET ]`);
  return lines.join('\n');
}

function dumpPackage(state: DeviceState, args: readonly string[]): string {
  const name = args.find((a) => !a.startsWith('-'));
  const pkgs = name
    ? [state.apps.packages.get(name)].filter((p): p is InstalledPackage => !!p)
    : [...state.apps.packages.values()];
  const out: string[] = [];
  if (name && pkgs.length === 0) return '';
  const withLauncher = pkgs.filter((p) => p.launchActivity);
  if (withLauncher.length) {
    out.push('Activity Resolver Table:', '  Non-Data Actions:', '      android.intent.action.MAIN:');
    for (const p of withLauncher) {
      out.push(
        `        ${identityHash(p.launchActivity!)} ${shortComponent(p.launchActivity!)} filter ${identityHash(`${p.launchActivity}#f`)}`,
      );
      out.push(
        '          Action: "android.intent.action.MAIN"',
        '          Category: "android.intent.category.LAUNCHER"',
      );
    }
    out.push('');
  }
  const instr = pkgs.flatMap((p) => p.instrumentation.map((i) => ({ p, i })));
  if (instr.length) {
    out.push('Instrumentation:');
    for (const { p, i } of instr) {
      out.push(`  ${p.name}/${shortComponent(`${p.name}/${i.runner}`).split('/')[1]}:`);
      out.push(`    targetPackage=${i.targetPackage}`);
    }
    out.push('');
  }
  out.push('Packages:');
  for (const p of pkgs) out.push(packageBlock(state, p));
  out.push('');
  return `${out.join('\n')}\n`;
}

function dumpBattery(state: DeviceState): string {
  return [
    'Current Battery Service state:',
    '  AC powered: false',
    `  USB powered: ${state.batteryPlugged}`,
    '  Wireless powered: false',
    '  Dock powered: false',
    '  Max charging current: 500000',
    '  Max charging voltage: 5000000',
    `  Charge counter: ${Math.round(state.batteryLevel * 48_000)}`,
    `  status: ${state.batteryPlugged ? (state.batteryLevel >= 100 ? 5 : 2) : 3}`,
    '  health: 2',
    '  present: true',
    `  level: ${state.batteryLevel}`,
    '  scale: 100',
    `  voltage: ${3600 + state.batteryLevel * 6}`,
    `  temperature: ${Math.round(state.batteryTemperature * 10)}`,
    '  technology: Li-poly',
    '',
  ].join('\n');
}

/** The window title and record of the foreground activity, or the keyguard/notification shade. */
function focus(state: DeviceState): { currentFocus: string; focusedApp: string } {
  const fg = state.apps.foreground;
  const app = fg
    ? `ActivityRecord{${identityHash(`${fg}#ar`)} u0 ${shortComponent(fg)} t${20 + (identityHash(fg).charCodeAt(0) % 50)}}`
    : 'null';
  if (!state.screen.on) return { currentFocus: 'null', focusedApp: app };
  if (state.screen.locked)
    return {
      currentFocus: `Window{${identityHash('NotificationShade')} u0 NotificationShade}`,
      focusedApp: app,
    };
  if (!fg) return { currentFocus: 'null', focusedApp: app };
  return { currentFocus: `Window{${identityHash(`${fg}#w`)} u0 ${fg}}`, focusedApp: app };
}

function dumpWindow(state: DeviceState, args: readonly string[]): string {
  const d = state.screen.size();
  const f = focus(state);
  const what = args[0] ?? '';
  const policy = [
    'WINDOW MANAGER POLICY STATE (dumpsys window policy)',
    `    mSafeMode=false mSystemReady=true mSystemBooted=true`,
    `    mScreenOnEarly=${state.screen.on} mScreenOnFully=${state.screen.on}`,
    '    mKeyguardDrawComplete=true mWindowManagerDrawComplete=true',
    `    mShowingLockscreen=${state.screen.locked} mShowingDream=false mDreamingLockscreen=false`,
    '    KeyguardServiceDelegate',
    `      showing=${state.screen.locked}`,
    `      inputRestricted=${state.screen.locked}`,
    `      occluded=false`,
    `      secure=${state.profile.screen.lock === 'pin'}`,
    `      dreaming=false`,
    `      systemIsReady=true`,
    `      deviceHasKeyguard=${state.profile.screen.lock !== 'none'}`,
    `      enabled=${state.profile.screen.lock !== 'none'}`,
    `      offReason=${state.screen.on ? 'OFF_BECAUSE_OF_USER' : 'OFF_BECAUSE_OF_USER'}`,
    `      currentUser=0`,
    `      bootCompleted=true`,
    `      screenState=${state.screen.on ? 'SCREEN_STATE_ON' : 'SCREEN_STATE_OFF'}`,
    `      interactiveState=${state.screen.on ? 'INTERACTIVE_STATE_AWAKE' : 'INTERACTIVE_STATE_SLEEP'}`,
    '      KeyguardStateMonitor',
    `        mIsShowing=${state.screen.locked}`,
    `        mSimSecure=false`,
    `        mInputRestricted=${state.screen.locked}`,
    `        mTrusted=false`,
    `        mCurrentUserId=0`,
  ];
  const displays = [
    'WINDOW MANAGER DISPLAY CONTENTS (dumpsys window displays)',
    `  Display: mDisplayId=0 rootTasks=1`,
    `    init=${state.profile.screen.width}x${state.profile.screen.height} ${state.profile.screen.density}dpi cur=${d.width}x${d.height} app=${d.width}x${d.height - 126} rng=${d.width}x${d.width - 63}-${d.height}x${d.height - 126}`,
    `    deferred=false mLayoutNeeded=false mTouchExcludeRegion=SkRegion((0,0,${d.width},${d.height}))`,
    '',
    `  mCurrentFocus=${f.currentFocus}`,
    `  mFocusedApp=${f.focusedApp}`,
  ];
  const windows = [
    'WINDOW MANAGER WINDOWS (dumpsys window windows)',
    `  Window #0 Window{${identityHash('StatusBar')} u0 StatusBar}:`,
    '    mDisplayId=0 rootTaskId=1 mSession=Session{2a5b1c3 1530:u0a10139} mClient=android.os.BinderProxy@6a3d8e1',
    ...(state.apps.foreground
      ? [
          `  Window #1 Window{${identityHash(`${state.apps.foreground}#w`)} u0 ${state.apps.foreground}}:`,
          `    mDisplayId=0 rootTaskId=${20 + (identityHash(state.apps.foreground).charCodeAt(0) % 50)} mSession=Session{4f1e2d0 ${state.apps.processes.get(state.apps.foregroundPackage!)?.pid ?? 0}:u0a10000}`,
          `    mHasSurface=${state.screen.on} isReadyForDisplay()=${state.screen.on && !state.screen.locked}`,
        ]
      : []),
    '',
    `  mCurrentFocus=${f.currentFocus}`,
    `  mFocusedApp=${f.focusedApp}`,
    `  mInTouchMode=true`,
  ];
  if (what === 'displays') return `${displays.join('\n')}\n`;
  if (what === 'windows') return `${windows.join('\n')}\n`;
  if (what === 'policy') return `${policy.join('\n')}\n`;
  return `${[...policy, '', ...displays, '', ...windows].join('\n')}\n`;
}

function dumpPower(state: DeviceState): string {
  return [
    'POWER MANAGER (dumpsys power)',
    '',
    'Power Manager State:',
    '  Settings power_manager_constants:',
    '    no_cached_wake_locks=true',
    `  mDirty=0x0`,
    `  mWakefulness=${state.screen.on ? 'Awake' : 'Asleep'}`,
    `  mWakefulnessChanging=false`,
    `  mIsPowered=${state.batteryPlugged}`,
    `  mPlugType=${state.batteryPlugged ? 2 : 0}`,
    `  mBatteryLevel=${state.batteryLevel}`,
    `  mStayOn=false`,
    `  mProximityPositive=false`,
    `  mBootCompleted=true`,
    `  mSystemReady=true`,
    `  mHalAutoSuspendModeEnabled=false`,
    `  mHalInteractiveModeEnabled=true`,
    `  mWakeLockSummary=0x${state.screen.on ? '0' : '1'}`,
    `  mHoldingWakeLockSuspendBlocker=false`,
    `  mHoldingDisplaySuspendBlocker=${state.screen.on}`,
    '',
    'Display Power: state=' + (state.screen.on ? 'ON' : 'OFF'),
    '',
  ].join('\n');
}

function dumpActivity(state: DeviceState, args: readonly string[]): string {
  const [section, filter] = args;
  if (section === 'services') {
    const match = (component: string) => {
      if (!filter) return true;
      if (filter.includes('/'))
        return shortComponent(component) === shortComponent(filter.replace(/^([^/]+)\/\./, '$1/$1.'));
      return component.startsWith(`${filter}/`);
    };
    const services = [...state.apps.services.values()].filter((s) => match(s.component));
    if (services.length === 0) return 'ACTIVITY MANAGER SERVICES (dumpsys activity services)\n  (nothing)\n';
    const lines = ['ACTIVITY MANAGER SERVICES (dumpsys activity services)', '  User 0 active services:'];
    for (const s of services) {
      const pkg = s.component.split('/')[0]!;
      const proc = state.apps.processes.get(pkg);
      lines.push(
        `  * ServiceRecord{${identityHash(s.component)} u0 ${shortComponent(s.component)}}`,
        `    intent={cmp=${shortComponent(s.component)}}`,
        `    packageName=${pkg}`,
        `    processName=${pkg}`,
        `    baseDir=${state.apps.packages.get(pkg)?.path ?? ''}`,
        `    dataDir=/data/user/0/${pkg}`,
        `    app=ProcessRecord{${identityHash(`${pkg}#proc`)} ${proc?.pid ?? 0}:${pkg}/u0a${(proc?.uid ?? 10_000) % 10_000}}`,
        `    isForeground=${s.foreground} foregroundId=${s.foreground ? 1 : 0} foregroundNoti=${s.foreground ? `Notification(channel=${pkg} shortcut=null contentView=null vibrate=null sound=null defaults=0x0 flags=0x62 color=0x00000000 vis=PRIVATE)` : 'null'}`,
        '    createTime=-1m2s345ms startingBgTimeout=--',
        '    lastActivity=-1m2s345ms restartTime=-1m2s345ms createdFromFg=true',
        '    startRequested=true delayedStop=false stopIfKilled=false callStart=true lastStartId=1',
      );
    }
    return `${lines.join('\n')}\n`;
  }
  if (section === 'activities' || section === 'a' || section === 'top' || section === 'recents') {
    const fg = state.apps.foreground;
    return [
      'ACTIVITY MANAGER ACTIVITIES (dumpsys activity activities)',
      'Display #0 (activities from top to bottom):',
      ...(fg
        ? [
            `  * Task{${identityHash(`${fg}#task`)} #${20 + (identityHash(fg).charCodeAt(0) % 50)} type=standard A=${state.apps.packages.get(fg.split('/')[0]!)?.uid ?? 10_000}:${fg.split('/')[0]} U=0 visible=${state.screen.on} mode=fullscreen translucent=false sz=1}`,
            `    * ActivityRecord{${identityHash(`${fg}#ar`)} u0 ${shortComponent(fg)} t${20 + (identityHash(fg).charCodeAt(0) % 50)}}`,
          ]
        : []),
      '',
      `  ResumedActivity: ${fg ? `ActivityRecord{${identityHash(`${fg}#ar`)} u0 ${shortComponent(fg)} t${20 + (identityHash(fg).charCodeAt(0) % 50)}}` : 'null'}`,
      `  mResumedActivity: ${fg ? `ActivityRecord{${identityHash(`${fg}#ar`)} u0 ${shortComponent(fg)} t${20 + (identityHash(fg).charCodeAt(0) % 50)}}` : 'null'}`,
      '',
    ].join('\n');
  }
  if (section === 'processes' || section === 'p') {
    const lines = ['ACTIVITY MANAGER RUNNING PROCESSES (dumpsys activity processes)'];
    let i = 0;
    for (const p of state.apps.processes.values())
      lines.push(
        `  *APP* UID ${p.uid} ProcessRecord{${identityHash(p.name)} ${p.pid}:${p.name}/u0a${p.uid % 10_000}} #${i++}`,
      );
    return `${lines.join('\n')}\n`;
  }
  return `${dumpActivity(state, ['activities'])}\n${dumpActivity(state, ['services'])}`;
}

function dumpWifi(state: DeviceState): string {
  const ip = state.netInfo?.ip;
  const connected = state.online;
  return [
    `Wi-Fi is ${state.system.wifiEnabled && !state.system.airplaneMode ? 'enabled' : 'disabled'}`,
    `Verbose logging is off`,
    `mAirplaneModeOn ${state.system.airplaneMode}`,
    `mWifiInfo SSID: ${connected ? `"${state.profile.wifi.ssid}"` : '<unknown ssid>'}, BSSID: ${connected ? '02:00:00:00:01:00' : '02:00:00:00:00:00'}, MAC: ${state.netInfo?.mac ?? '02:00:00:00:00:00'}, IP: ${connected && ip ? `/${ip}` : 'null'}, Security type: 2, Supplicant state: ${connected ? 'COMPLETED' : 'DISCONNECTED'}, Wi-Fi standard: 5, RSSI: ${connected ? -48 : -127}, Link speed: ${connected ? 433 : -1}Mbps, Frequency: ${connected ? 5180 : -1}MHz`,
    `mNetworkInfo [type: WIFI[], state: ${connected ? 'CONNECTED/CONNECTED' : 'DISCONNECTED/DISCONNECTED'}, reason: (unspecified), extra: <none>, failover: false, available: true, roaming: false]`,
    '',
  ].join('\n');
}

function dumpNetstats(state: DeviceState): string {
  return [
    'Active interfaces:',
    ...(state.online
      ? [
          `  iface=wlan0 ident=[{type=1, ratType=COMBINED, wifiNetworkKey="${state.profile.wifi.ssid}"WPA_PSK, metered=false, defaultNetwork=true, oemManaged=OEM_NONE, subId=-1}]`,
        ]
      : []),
    'Active UID interfaces:',
    ...(state.online
      ? [
          `  iface=wlan0 ident=[{type=1, ratType=COMBINED, wifiNetworkKey="${state.profile.wifi.ssid}"WPA_PSK, metered=false, defaultNetwork=true, oemManaged=OEM_NONE, subId=-1}]`,
        ]
      : []),
    'Dev stats:',
    '  Pending bytes: 0',
    '',
  ].join('\n');
}

function dumpDeviceIdle(state: DeviceState, args: readonly string[]): string {
  if (args[0] === 'whitelist') {
    const changes = args.slice(1);
    if (changes.length === 0) {
      const lines: string[] = [];
      for (const name of state.apps.idleWhitelist) {
        const p = state.apps.packages.get(name);
        lines.push(`user,${name},${p?.uid ?? 0}`);
      }
      return lines.length ? `${lines.join('\n')}\n` : '';
    }
    const out: string[] = [];
    for (const ch of changes) {
      const name = ch.slice(1);
      if (ch.startsWith('+')) {
        if (state.apps.packages.has(name)) {
          state.apps.idleWhitelist.add(name);
          out.push(`Added: ${name}`);
        } else out.push(`Unknown package: ${name}`);
      } else if (ch.startsWith('-')) {
        out.push(state.apps.idleWhitelist.delete(name) ? `Removed: ${name}` : `Unknown package: ${name}`);
      }
    }
    return `${out.join('\n')}\n`;
  }
  return `  mLightEnabled=true  mDeepEnabled=true\n  mState=ACTIVE mLightState=ACTIVE\n  mScreenOn=${state.screen.on}\n`;
}

function dumpAccount(state: DeviceState): string {
  return [
    'User UserInfo{0:Owner:c13}:',
    `  Accounts: ${state.accounts.length}`,
    ...state.accounts.map((a) => `    Account {name=${a.name}, type=${a.type}}`),
    '',
  ].join('\n');
}

function dumpConnectivity(state: DeviceState): string {
  return [
    `NetworkProviders for: WifiNetworkAgent${state.system.mobileData ? ' TelephonyNetworkFactory' : ''}`,
    '',
    `Active default network: ${state.online ? '100' : 'none'}`,
    '',
    'Current Networks:',
    ...(state.online
      ? [
          `  NetworkAgentInfo{network{100}  handle{432902426637}  ni{WIFI CONNECTED extra: } Score(Policies : IS_VALIDATED&IS_UNMETERED&EVER_USER_SELECTED&EVER_VALIDATED&IS_DEFAULT)  lp{{InterfaceName: wlan0 LinkAddresses: [ ${state.netInfo?.ip ?? ''}/24 ]}}}`,
        ]
      : []),
    '',
    `mAirplaneModeOn=${state.system.airplaneMode}`,
    '',
  ].join('\n');
}

function dumpInputMethod(state: DeviceState): string {
  return [
    'Current Input Method Manager state:',
    `  mCurMethodId=${state.system.get('secure', 'default_input_method') ?? 'null'}`,
    `  mCurFocusedWindowClient=null`,
    `  mInputShown=false`,
    '',
  ].join('\n');
}

const SERVICES: Record<string, (state: DeviceState, args: readonly string[]) => string> = {
  package: dumpPackage,
  battery: (s) => dumpBattery(s),
  window: dumpWindow,
  power: (s) => dumpPower(s),
  activity: dumpActivity,
  wifi: (s) => dumpWifi(s),
  netstats: (s) => dumpNetstats(s),
  deviceidle: dumpDeviceIdle,
  account: (s) => dumpAccount(s),
  connectivity: (s) => dumpConnectivity(s),
  input_method: (s) => dumpInputMethod(s),
};

async function batteryControl(c: CommandContext, args: readonly string[]): Promise<number> {
  const s = c.phone.state;
  const [verb, key, value] = args;
  if (verb === 'set' && key === 'level' && value !== undefined) s.setBattery(Number(value));
  else if (verb === 'set' && key === 'temp' && value !== undefined)
    s.setBattery(s.batteryLevel, Number(value) / 10);
  else if (verb === 'set' && (key === 'usb' || key === 'ac')) s.batteryPlugged = value === '1';
  else if (verb === 'unplug') s.batteryPlugged = false;
  else if (verb === 'reset') {
    s.batteryPlugged = true;
    s.setBattery(s.profile.battery.level, s.profile.battery.temperature);
  } else return 1;
  s.emitChange('battery');
  return 0;
}

const dumpsys: CommandHandler = async (c) => {
  const [service, ...args] = c.args;
  const state = c.phone.state;
  if (service === undefined || service === '-l') {
    await c.out(
      `Currently running services:\n${Object.keys(SERVICES)
        .sort()
        .map((s) => `  ${s}\n`)
        .join('')}`,
    );
    return 0;
  }
  if (service === 'battery' && args.length > 0 && ['set', 'unplug', 'reset'].includes(args[0]!))
    return batteryControl(c, args);
  const fn = SERVICES[service];
  if (!fn) {
    await c.err(`Can't find service: ${service}\n`);
    return 0;
  }
  await c.out(fn(state, args));
  return 0;
};

/** dumpsys by name. */
export const dumpsysCommands: Record<string, CommandHandler> = { dumpsys };
