/**
 * Everything a simulated phone knows about itself: properties, settings, packages, screen, network
 * switches, accounts, consent, identifiers, PCAPdroid, battery, processes and the log buffer. Commands
 * read and change it; every change emits 'change' so the network side can follow (trafficState()).
 */
import { EventEmitter } from 'node:events';
import type { TrafficState } from '../contracts.js';
import { fullComponent } from './component-name.js';
import type { ConsentToggle, PhoneProfile, ProfileAccount } from './profile.js';

/** Settings table names. */
export type SettingsNamespace = 'global' | 'secure' | 'system';

/** An instrumentation a package declares (`<instrumentation>` in its manifest). */
export interface Instrumentation {
  /** Runner class, e.g. androidx.test.runner.AndroidJUnitRunner. */
  runner: string;
  /** Package under test. */
  targetPackage: string;
}

/** One installed package. */
export interface InstalledPackage {
  /** Package name. */
  name: string;
  /** Linux uid. */
  uid: number;
  /** versionCode (0 when the manifest has none). */
  versionCode: number;
  /** versionName ("" when the manifest has none). */
  versionName: string;
  /** Path of base.apk on the phone. */
  path: string;
  /** Part of the system image. */
  system: boolean;
  /** Launcher activity as pkg/cls (cls fully qualified), if any. */
  launchActivity?: string;
  /** All activities as pkg/cls (fully qualified), including the launcher one. */
  activities: string[];
  /** Instrumentations declared. */
  instrumentation: Instrumentation[];
  /** App label. */
  label: string;
  /** Installer package, if known. */
  installer?: string;
  /** Runs from boot. */
  persistent: boolean;
  /** Permissions requested in the manifest. */
  requestedPermissions: string[];
  /** Runtime permissions granted. */
  granted: Set<string>;
  /** minSdkVersion. */
  minSdk: number;
  /** targetSdkVersion. */
  targetSdk: number;
  /** First install time (ms since epoch). */
  installedAt: number;
  /** Last update time (ms since epoch). */
  updatedAt: number;
}

/** One log line in the ring buffer. */
export interface LogEntry {
  /** Phone time in ms since epoch. */
  time: number;
  /** Process id. */
  pid: number;
  /** Thread id. */
  tid: number;
  /** Android priority: 2 V, 3 D, 4 I, 5 W, 6 E, 7 F. */
  priority: number;
  /** Log tag. */
  tag: string;
  /** Message text. */
  message: string;
}

/** A running app process. */
export interface AppProcess {
  /** Process id. */
  pid: number;
  /** Package (and process name). */
  name: string;
  /** Owning uid. */
  uid: number;
  /** Start time (ms). */
  startedAt: number;
}

/** A started service. */
export interface RunningService {
  /** pkg/cls, cls possibly short (".Foo"). */
  component: string;
  /** Runs as a foreground service. */
  foreground: boolean;
}

/** The PCAPdroid capture as the app itself would report it. */
export interface PcapdroidState {
  /** A capture is running. */
  running: boolean;
  /** The consent dialog is on screen (a start came without the API key). */
  consentPending: boolean;
  /** Phone path of the dump, when dumping to a file. */
  file?: string;
  /** When the capture started (phone ms). */
  startedAt?: number;
  /** Packets written by the last stopped capture. */
  lastPackets?: number;
}

/** What changed, for 'change' listeners. */
export type ChangeKind =
  | 'property'
  | 'setting'
  | 'package'
  | 'screen'
  | 'foreground'
  | 'network'
  | 'account'
  | 'backup'
  | 'pcapdroid'
  | 'battery'
  | 'sim'
  | 'process'
  | 'reboot';

const LOG_CAPACITY = 5000;

/** The phone's state, shared by every shell command. */
export class DeviceState extends EventEmitter {
  /** System properties. */
  readonly props = new Map<string, string>();
  /** Settings tables. */
  readonly settings: Record<SettingsNamespace, Map<string, string>> = {
    global: new Map(),
    secure: new Map(),
    system: new Map(),
  };
  /** Installed packages by name. */
  readonly packages = new Map<string, InstalledPackage>();
  /** Signed-in accounts. */
  accounts: ProfileAccount[] = [];
  /** Display on. */
  screenOn = true;
  /** Keyguard showing. */
  locked = false;
  /** The resumed activity (pkg/cls, fully qualified), or undefined for none. */
  foreground: string | undefined;
  /** A backup is running. */
  backupRunning = false;
  /** SIM inserted. */
  simInserted: boolean;
  /** Battery level in percent. */
  batteryLevel: number;
  /** Battery temperature in °C. */
  batteryTemperature: number;
  /** Battery plugged into USB. */
  batteryPlugged = true;
  /** PCAPdroid's capture. */
  readonly pcapdroid: PcapdroidState = { running: false, consentPending: false };
  /** Phone clock minus host clock, in ms (date -s moves it). */
  clockOffsetMs = 0;
  /** Running app processes by name. */
  readonly processes = new Map<string, AppProcess>();
  /** Started services. */
  readonly services = new Map<string, RunningService>();
  /** App ops: "pkg op" → mode. */
  readonly appOps = new Map<string, string>();
  /** Packages on the deviceidle whitelist. */
  readonly idleWhitelist = new Set<string>();
  /** wm size / density overrides. */
  displayOverride: { width?: number; height?: number; density?: number } = {};
  /** Between a reboot's start and boot completion (no traffic then). */
  booting = false;
  /** When the phone last booted (host ms). */
  bootedAt = Date.now();
  /** IPv4 address and MAC of wlan0 (from PhoneNet), when the phone has a network. */
  netInfo: { ip: string; mac: string } | undefined;

  private readonly log: LogEntry[] = [];
  private nextPid = 3000;
  private backupTimer: NodeJS.Timeout | undefined;

  constructor(readonly profile: PhoneProfile) {
    super();
    this.setMaxListeners(100);
    this.simInserted = profile.sim.inserted;
    this.batteryLevel = profile.battery.level;
    this.batteryTemperature = profile.battery.temperature;
    this.resetToProfile();
  }

  /** Loads the profile's first-boot state (also used for a factory reset). */
  resetToProfile(): void {
    const p = this.profile;
    this.props.clear();
    for (const [k, v] of Object.entries(p.properties)) this.props.set(k, v);
    const ids = p.identifiers;
    this.props.set('ro.serialno', ids.serial);
    this.props.set('ro.boot.serialno', ids.serial);
    this.props.set('ro.sf.lcd_density', String(p.screen.density));
    this.props.set('persist.sys.usb.config', this.props.get('persist.sys.usb.config') ?? 'adb');
    for (const ns of ['global', 'secure', 'system'] as const) {
      this.settings[ns].clear();
      for (const [k, v] of Object.entries(p.settings[ns])) this.settings[ns].set(k, v);
    }
    this.settings.secure.set('android_id', ids.androidId);
    this.packages.clear();
    const now = Date.now();
    for (const pkg of p.packages) {
      const launch = pkg.launchActivity ? fullComponent(pkg.launchActivity) : undefined;
      const activities = pkg.activities.map(fullComponent);
      if (launch && !activities.includes(launch)) activities.unshift(launch);
      this.packages.set(pkg.name, {
        name: pkg.name,
        uid: pkg.uid,
        versionCode: pkg.versionCode,
        versionName: pkg.versionName,
        path: pkg.path,
        system: pkg.system,
        ...(launch ? { launchActivity: launch } : {}),
        activities,
        instrumentation: [],
        label: pkg.label ?? pkg.name,
        ...(pkg.installer ? { installer: pkg.installer } : {}),
        persistent: pkg.persistent,
        requestedPermissions: [],
        granted: new Set(),
        minSdk: 26,
        targetSdk: Number(this.props.get('ro.build.version.sdk') ?? 34),
        installedAt: now - 86_400_000 * 30,
        updatedAt: now - 86_400_000 * 30,
      });
    }
    this.accounts = p.accounts.map((a) => ({ ...a }));
    this.updateSimProps();
  }

  /** Simulates a boot: processes gone, screen on and locked, boot log lines. */
  boot(): void {
    this.booting = false;
    this.processes.clear();
    this.services.clear();
    this.bootedAt = Date.now();
    this.screenOn = true;
    this.locked = this.profile.screen.lock !== 'none';
    this.pcapdroid.running = false;
    this.pcapdroid.consentPending = false;
    this.stopBackup();
    this.log.length = 0;
    this.props.set('sys.boot_completed', '1');
    this.props.set('dev.bootcomplete', '1');
    this.logLine(4, 'init', 'starting service "zygote"...', 1);
    this.logLine(4, 'SystemServer', 'Entered the Android system server!', 1000);
    for (const pkg of this.packages.values()) if (pkg.persistent) this.startProcess(pkg.name);
    this.foreground = fullComponent(this.profile.homeActivity);
    this.startProcess(this.foreground.split('/')[0]!);
    this.logLine(4, 'ActivityManager', 'System now ready', 1000);
    this.logLine(4, 'BootReceiver', 'Copying audit failures to DropBox', 1000);
    this.emitChange('reboot');
  }

  /** Lab phones are set up unlocked with the screen on: call after boot() for that start. */
  unlockForLab(): void {
    this.locked = false;
    this.screenOn = true;
  }

  // ---- properties and settings ----

  /** Sets a property and reports the change. */
  setProp(key: string, value: string): void {
    this.props.set(key, value);
    this.emitChange('property');
  }

  /** Reads a setting (undefined when missing). */
  getSetting(ns: SettingsNamespace, key: string): string | undefined {
    return this.settings[ns].get(key);
  }

  /** Writes a setting; airplane mode, Wi-Fi and consent follow. */
  putSetting(ns: SettingsNamespace, key: string, value: string): void {
    this.settings[ns].set(key, value);
    this.emitChange('setting');
  }

  /** Deletes a setting; true if it existed. */
  deleteSetting(ns: SettingsNamespace, key: string): boolean {
    const had = this.settings[ns].delete(key);
    if (had) this.emitChange('setting');
    return had;
  }

  /** Whether a consent toggle is on, read through the profile's setting mapping. */
  consent(toggle: ConsentToggle): boolean {
    const ref = this.profile.consent[toggle];
    return this.settings[ref.namespace].get(ref.key) === ref.on;
  }

  /** Turns a consent toggle on or off by writing its setting. */
  setConsent(toggle: ConsentToggle, on: boolean): void {
    const ref = this.profile.consent[toggle];
    this.putSetting(ref.namespace, ref.key, on ? ref.on : ref.on === '0' ? '1' : '0');
  }

  // ---- network switches ----

  /** Wi-Fi radio enabled (settings global wifi_on). */
  get wifiEnabled(): boolean {
    return this.settings.global.get('wifi_on') !== '0';
  }

  /** Airplane mode (settings global airplane_mode_on). */
  get airplaneMode(): boolean {
    return this.settings.global.get('airplane_mode_on') === '1';
  }

  /** Mobile data enabled (settings global mobile_data). */
  get mobileData(): boolean {
    return this.settings.global.get('mobile_data') !== '0';
  }

  /** Wi-Fi joined: enabled, not in airplane mode, booted, and the phone has a network at all. */
  get online(): boolean {
    return this.wifiEnabled && !this.airplaneMode && this.netInfo !== undefined && !this.booting;
  }

  setWifi(on: boolean): void {
    this.putSetting('global', 'wifi_on', on ? '1' : '0');
    this.logLine(4, 'WifiService', `setWifiEnabled package=com.android.shell uid=2000 enable=${on}`, 1000);
  }

  setAirplaneMode(on: boolean): void {
    this.putSetting('global', 'airplane_mode_on', on ? '1' : '0');
    this.logLine(4, 'ConnectivityService', `setAirplaneMode(${on})`, 1000);
  }

  setMobileData(on: boolean): void {
    this.putSetting('global', 'mobile_data', on ? '1' : '0');
  }

  /** Inserts or removes the SIM; gsm.* properties follow. */
  setSim(inserted: boolean): void {
    this.simInserted = inserted;
    this.updateSimProps();
    this.emitChange('sim');
  }

  private updateSimProps(): void {
    const s = this.profile.sim;
    const slots = (this.props.get('gsm.sim.state') ?? 'ABSENT').split(',').length;
    const first = this.simInserted ? 'LOADED' : 'ABSENT';
    this.props.set('gsm.sim.state', [first, ...Array(slots - 1).fill('ABSENT')].join(','));
    const set = (k: string, v: string) => this.props.set(k, v);
    set('gsm.sim.operator.alpha', this.simInserted ? s.operator : '');
    set('gsm.sim.operator.numeric', this.simInserted ? s.numeric : '');
    set('gsm.sim.operator.iso-country', this.simInserted ? s.country : '');
    set('gsm.operator.alpha', this.simInserted ? s.operator : '');
    set('gsm.operator.numeric', this.simInserted ? s.numeric : '');
    set('gsm.operator.iso-country', this.simInserted ? s.country : '');
    set('gsm.network.type', this.simInserted ? 'LTE' : 'Unknown');
  }

  // ---- screen and activities ----

  /** Turns the display on or off; turning it off locks (when the profile has a lock screen). */
  setScreen(on: boolean): void {
    if (on === this.screenOn) return;
    this.screenOn = on;
    if (!on && this.profile.screen.lock !== 'none') this.locked = true;
    this.logLine(
      4,
      'PowerManagerService',
      on ? 'Waking up from Asleep (uid=2000)...' : 'Going to sleep due to power_button (uid 2000)...',
      1000,
    );
    this.emitChange('screen');
  }

  /** Dismisses the keyguard if it is not a secure (PIN) one; true when unlocked afterwards. */
  dismissKeyguard(): boolean {
    if (this.locked && this.profile.screen.lock !== 'pin' && this.screenOn) {
      this.locked = false;
      this.emitChange('screen');
    }
    return !this.locked;
  }

  /** Digits typed on the PIN keyguard so far. */
  private pinEntry = '';

  /** Typing on the keyguard: digits go into the PIN field, ENTER ("\n") checks it. */
  typeOnKeyguard(text: string): void {
    if (!this.locked || !this.screenOn || this.profile.screen.lock !== 'pin') return;
    for (const ch of text) {
      if (/\d/.test(ch)) this.pinEntry += ch;
      else if (ch === '\n') {
        const ok = this.profile.screen.pin !== undefined && this.pinEntry === this.profile.screen.pin;
        this.pinEntry = '';
        if (ok) {
          this.locked = false;
          this.emitChange('screen');
        } else this.logLine(4, 'KeyguardSecurityView', 'wrong PIN', 1500);
      }
    }
  }

  /** Package of the foreground activity. */
  get foregroundPackage(): string | undefined {
    return this.foreground?.split('/')[0];
  }

  /** Brings an activity (pkg/cls) to the front, starting its process. */
  setForeground(component: string | undefined): void {
    this.foreground = component ? fullComponent(component) : undefined;
    if (this.foreground) this.startProcess(this.foreground.split('/')[0]!);
    this.emitChange('foreground');
  }

  /** Shows the home screen. */
  goHome(): void {
    this.setForeground(this.profile.homeActivity);
  }

  // ---- processes ----

  /** Starts (or finds) the process of a package; returns its pid. */
  startProcess(name: string): number {
    const existing = this.processes.get(name);
    if (existing) return existing.pid;
    const pkg = this.packages.get(name.split(':')[0]!);
    const pid = this.nextPid;
    this.nextPid += 1 + Math.floor(Math.random() * 40);
    this.processes.set(name, { pid, name, uid: pkg?.uid ?? 10_000, startedAt: Date.now() });
    this.logLine(
      4,
      'ActivityManager',
      `Start proc ${pid}:${name}/u0a${(pkg?.uid ?? 10_000) % 10_000} for service`,
      1000,
    );
    this.emitChange('process');
    return pid;
  }

  /** Stops a package: its process, services, and foreground activity; returns whether anything ran. */
  forceStop(pkg: string): boolean {
    let any = false;
    for (const name of [...this.processes.keys()]) {
      if (name === pkg || name.startsWith(`${pkg}:`)) {
        this.processes.delete(name);
        any = true;
      }
    }
    for (const c of [...this.services.keys()]) if (c.startsWith(`${pkg}/`)) this.services.delete(c);
    if (this.foregroundPackage === pkg) this.goHome();
    if (pkg === this.profile.backup.package) this.stopBackup();
    this.logLine(
      4,
      'ActivityManager',
      `Force stopping ${pkg} appid=${(this.packages.get(pkg)?.uid ?? 0) % 100_000} user=0: from pid ${this.nextPid}`,
      1000,
    );
    this.emitChange('process');
    this.emit('force-stop', pkg);
    return any;
  }

  // ---- packages ----

  /** Adds or replaces a package; a replaced running app is stopped. */
  installPackage(pkg: InstalledPackage, opts: { dontKill?: boolean } = {}): void {
    const old = this.packages.get(pkg.name);
    if (old && !opts.dontKill) this.forceStop(pkg.name);
    this.packages.set(pkg.name, pkg);
    this.logLine(
      4,
      'PackageManager',
      `${old ? 'Replacing' : 'Installing'} package ${pkg.name} versionCode=${pkg.versionCode}`,
      1000,
    );
    this.emitChange('package');
  }

  /** Removes a package; false if it was not installed. */
  uninstallPackage(name: string): boolean {
    if (!this.packages.has(name)) return false;
    this.forceStop(name);
    this.packages.delete(name);
    this.logLine(4, 'PackageManager', `Removing package ${name}`, 1000);
    this.emitChange('package');
    return true;
  }

  /** A uid not used by any package (apps start at 10000). */
  freeUid(): number {
    const used = new Set([...this.packages.values()].map((p) => p.uid));
    let uid = 10_200;
    while (used.has(uid)) uid += 1;
    return uid;
  }

  /** Package name → uid, for PCAPdroid's app attribution. */
  appUids(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const p of this.packages.values()) out[p.name] = p.uid;
    return out;
  }

  // ---- accounts ----

  /** Signs an account in. */
  addAccount(account: ProfileAccount): void {
    if (!this.accounts.some((a) => a.type === account.type && a.name === account.name))
      this.accounts.push(account);
    this.emitChange('account');
  }

  /** Signs an account out. */
  removeAccount(type: string, name?: string): void {
    this.accounts = this.accounts.filter(
      (a) => !(a.type === type && (name === undefined || a.name === name)),
    );
    this.emitChange('account');
  }

  // ---- backup ----

  /** Starts a cloud backup (runs for the profile's duration); false when backup is off. */
  startBackup(): boolean {
    if (!this.consent('backupEnabled')) {
      this.logLine(5, 'CloudBackup', 'backup requested while cloud backup is off: ignored', 10_000);
      return false;
    }
    this.backupRunning = true;
    this.startProcess(this.profile.backup.package);
    this.logLine(
      4,
      'CloudBackup',
      'backup started',
      this.processes.get(this.profile.backup.package)?.pid ?? 0,
    );
    clearTimeout(this.backupTimer);
    this.backupTimer = setTimeout(() => this.stopBackup(), this.profile.backup.durationSeconds * 1000);
    this.backupTimer.unref();
    this.emitChange('backup');
    return true;
  }

  /** Ends a running backup. */
  stopBackup(): void {
    clearTimeout(this.backupTimer);
    this.backupTimer = undefined;
    if (!this.backupRunning) return;
    this.backupRunning = false;
    this.logLine(4, 'CloudBackup', 'backup finished', 0);
    this.emitChange('backup');
  }

  // ---- battery ----

  setBattery(level: number, temperature?: number): void {
    this.batteryLevel = Math.max(0, Math.min(100, Math.round(level)));
    if (temperature !== undefined) this.batteryTemperature = temperature;
    this.emitChange('battery');
  }

  // ---- display ----

  /** Effective screen size and density (wm overrides applied). */
  display(): { width: number; height: number; density: number } {
    const s = this.profile.screen;
    return {
      width: this.displayOverride.width ?? s.width,
      height: this.displayOverride.height ?? s.height,
      density: this.displayOverride.density ?? s.density,
    };
  }

  // ---- clock and log ----

  /** The phone's clock, in ms since epoch. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Appends a log line and tells logcat readers. */
  logLine(priority: number, tag: string, message: string, pid = 1000, tid = pid): void {
    const entry: LogEntry = { time: this.now(), pid, tid, priority, tag, message };
    this.log.push(entry);
    if (this.log.length > LOG_CAPACITY) this.log.splice(0, this.log.length - LOG_CAPACITY);
    this.emit('log', entry);
  }

  /** The log buffer, oldest first. */
  logEntries(): readonly LogEntry[] {
    return this.log;
  }

  /** logcat -c. */
  clearLog(): void {
    this.log.length = 0;
  }

  // ---- traffic ----

  /** The snapshot that drives the phone's traffic. */
  trafficState(): TrafficState {
    const ids = this.profile.identifiers;
    const fg = this.screenOn && !this.locked ? this.foregroundPackage : undefined;
    return {
      online: this.online,
      screenOn: this.screenOn,
      ...(fg ? { foregroundPackage: fg } : {}),
      backupEnabled: this.consent('backupEnabled'),
      backupRunning: this.backupRunning,
      analyticsConsent: this.consent('analyticsConsent'),
      adsConsent: this.consent('adsConsent'),
      accountSignedIn: this.accounts.some((a) => a.type === this.profile.vendorAccountType),
      simInserted: this.simInserted,
      ids: {
        imei: ids.imei,
        androidId: this.settings.secure.get('android_id') ?? ids.androidId,
        serial: ids.serial,
        advertisingId: ids.advertisingId,
      },
    };
  }

  /** Reports a change to listeners ('change' with its kind). */
  emitChange(kind: ChangeKind): void {
    this.emit('change', kind);
  }
}
