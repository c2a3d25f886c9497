/**
 * Everything a simulated phone knows about itself, in parts the shell commands use: its system
 * properties and settings (system), apps (apps), display (screen) and log (log), plus accounts,
 * consent, the SIM, identifiers, PCAPdroid and the battery. Commands read and change it; every change
 * emits 'change' so the network side can follow (trafficState()).
 */
import { EventEmitter } from 'node:events';
import type { TrafficState } from '../contracts.js';
import { AppsState } from './apps-state.js';
import { fullComponent } from './component-name.js';
import { PhoneLog } from './phone-log.js';
import type { PhoneProfile, ProfileAccount } from './profile.js';
import { ScreenState } from './screen-state.js';
import type { ChangeKind, PcapdroidState, SettingsNamespace, StateCore } from './state-types.js';
import { SystemSettings } from './system-settings.js';

/**
 * The property a simulated phone tells its time compression in (harness/device/facts.ts reads it).
 * A ro. property: on a real phone nothing but a rooted boot could set it.
 */
export const SIM_SPEED_PROPERTY = 'ro.phonehome.sim.speed';

/** The phone's state, shared by every shell command. */
export class DeviceState extends EventEmitter implements StateCore {
  /** System properties and settings tables. */
  readonly system = new SystemSettings(this);
  /** Installed apps, processes and the activity in front. */
  readonly apps = new AppsState(this, (pkg) => {
    if (pkg === this.profile.backup.package) this.stopBackup();
  });
  /** The display and keyguard. */
  readonly screen = new ScreenState(this);
  /** The log buffer. */
  readonly log = new PhoneLog(
    () => this.now(),
    (entry) => this.emit('log', entry),
  );
  /** Signed-in accounts. */
  accounts: ProfileAccount[] = [];
  /** A backup is running. */
  backupRunning = false;
  /** Contacts saved on the phone (its Contacts app), oldest first. */
  contacts: { name: string; number: string }[] = [];
  /** The contact the Contacts app has open (an index into contacts), if any. */
  openContact: number | undefined;
  /** Text messages on the phone, received and sent, oldest first. */
  messages: { direction: 'in' | 'out'; peer: string; body: string; at: number }[] = [];
  /**
   * How many contacts were saved and SMS received and sent since the phone started (a factory reset
   * included): what traffic answering such events follows.
   */
  readonly events = { contactAdded: 0, smsReceived: 0, smsSent: 0, setupCompleted: 0 };
  /** Factory resets since the phone started. */
  resets = 0;
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
  /** Between a reboot's start and boot completion (no traffic then). */
  booting = false;
  /** When the phone last booted (host ms). */
  bootedAt = Date.now();
  /** IPv4 address and MAC of wlan0 (from PhoneNet), when the phone has a network. */
  netInfo: { ip: string; mac: string } | undefined;

  /**
   * How much faster than the wall clock this phone's time runs (the lab's --speed). The phone says
   * so in ro.phonehome.sim.speed, which no real phone has, so that a harness driving it by serial
   * scales its waits as it does for the phones it starts itself.
   */
  speed = 1;

  private backupTimer: NodeJS.Timeout | undefined;

  constructor(readonly profile: PhoneProfile) {
    super();
    this.setMaxListeners(100);
    this.simInserted = profile.sim.inserted;
    this.batteryLevel = profile.battery.level;
    this.batteryTemperature = profile.battery.temperature;
    this.resetToProfile();
  }

  /** Sets the phone's time compression and the property that tells it. */
  setSpeed(speed: number): void {
    this.speed = speed;
    this.system.props.set(SIM_SPEED_PROPERTY, String(speed));
  }

  /** Loads the profile's first-boot state (also used for a factory reset). */
  resetToProfile(): void {
    const p = this.profile;
    const { props, tables } = this.system;
    props.clear();
    for (const [k, v] of Object.entries(p.properties)) props.set(k, v);
    const ids = p.identifiers;
    props.set('ro.serialno', ids.serial);
    props.set('ro.boot.serialno', ids.serial);
    props.set('ro.sf.lcd_density', String(p.screen.density));
    props.set('persist.sys.usb.config', props.get('persist.sys.usb.config') ?? 'adb');
    props.set(SIM_SPEED_PROPERTY, String(this.speed));
    for (const ns of ['global', 'secure', 'system'] as const) {
      tables[ns].clear();
      for (const [k, v] of Object.entries(p.settings[ns])) tables[ns].set(k, v);
    }
    tables.secure.set('android_id', ids.androidId);
    if (ids.bluetoothMac) tables.secure.set('bluetooth_address', ids.bluetoothMac);
    this.apps.loadProfile(Number(props.get('ro.build.version.sdk') ?? 34));
    this.accounts = p.accounts.map((a) => ({ ...a }));
    this.contacts = [];
    this.openContact = undefined;
    this.messages = [];
    this.updateSimProps();
  }

  /** Simulates a boot: processes gone, screen on and locked, boot log lines. */
  boot(): void {
    this.booting = false;
    this.apps.processes.clear();
    this.apps.services.clear();
    this.bootedAt = Date.now();
    this.screen.on = true;
    this.screen.locked = this.profile.screen.lock !== 'none';
    this.pcapdroid.running = false;
    this.pcapdroid.consentPending = false;
    this.stopBackup();
    this.log.clear();
    this.system.props.set('sys.boot_completed', '1');
    this.system.props.set('dev.bootcomplete', '1');
    this.logLine(4, 'init', 'starting service "zygote"...', 1);
    this.logLine(4, 'SystemServer', 'Entered the Android system server!', 1000);
    for (const pkg of this.apps.packages.values()) if (pkg.persistent) this.apps.startProcess(pkg.name);
    // A phone fresh from a reset has no screen lock yet, and boots into its setup wizard.
    if (!this.provisioned) this.screen.locked = false;
    this.apps.foreground = this.homeScreen();
    this.apps.startProcess(this.apps.foreground.split('/')[0]!);
    this.logLine(4, 'ActivityManager', 'System now ready', 1000);
    this.logLine(4, 'BootReceiver', 'Copying audit failures to DropBox', 1000);
    this.emitChange('reboot');
  }

  /** Lab phones are set up unlocked with the screen on: call after boot() for that start. */
  unlockForLab(): void {
    this.screen.locked = false;
    this.screen.on = true;
  }

  /** Set up: Android's device_provisioned is not 0 (a reset phone is in its setup wizard until then). */
  get provisioned(): boolean {
    return this.system.tables.global.get('device_provisioned') !== '0';
  }

  /** What HOME shows: the launcher, or the setup wizard while a reset phone is not set up. */
  homeScreen(): string {
    const wizard = this.profile.setupWizard;
    return fullComponent(wizard && !this.provisioned ? wizard.activity : this.profile.homeActivity);
  }

  /**
   * A factory reset, as the lab's procedure leaves the phone before it reboots: the profile's first
   * boot with the setup wizard's defaults (its optional settings on), not set up, a new Android ID
   * (Android 8 and later derive it anew), no accounts, contacts or messages, only the apps the phone
   * came with. The SIM card stays as it is; so does the lab's Wi-Fi, which the lab's procedure joins
   * on the wizard's network page. Throws when the profile has no setup wizard.
   */
  factoryReset(newAndroidId: string): void {
    const wizard = this.profile.setupWizard;
    if (!wizard)
      throw new Error(`the ${this.profile.banner.model} profile has no setupWizard: it cannot be reset`);
    this.stopBackup();
    this.resetToProfile();
    const { tables } = this.system;
    for (const ns of ['global', 'secure', 'system'] as const)
      for (const [k, v] of Object.entries(wizard.defaults[ns])) tables[ns].set(k, v);
    tables.global.set('device_provisioned', '0');
    tables.secure.set('user_setup_complete', '0');
    tables.secure.set('android_id', newAndroidId);
    this.accounts = [];
    this.resets++;
    this.logLine(4, 'MasterClear', 'factory reset: wiping data', 1000);
    this.emitChange('reset');
  }

  /**
   * A setting was written: a backup running when cloud backup is turned off stops, as it does on a
   * phone; device_provisioned going from 0 to 1 finishes setup (the wizard's last page writes it, so
   * does a lab skipping the wizard over adb).
   */
  settingWritten(ns: SettingsNamespace, key: string, was: string | undefined, value: string): void {
    if (this.backupRunning && !this.system.consent('backupEnabled')) this.stopBackup();
    if (ns === 'global' && key === 'device_provisioned' && was === '0' && value === '1') this.setupFinished();
  }

  /** Setup has just been finished: the wizard gives way to the launcher, and the phone tells its makers. */
  private setupFinished(): void {
    this.system.tables.secure.set('user_setup_complete', '1');
    this.events.setupCompleted++;
    this.logLine(4, 'SetupWizard', 'setup complete', 10_060);
    const wizard = this.profile.setupWizard;
    if (wizard && this.apps.foregroundPackage === wizard.activity.split('/')[0]) this.apps.goHome();
    this.emitChange('setup');
  }

  /** Wi-Fi joined: enabled, not in airplane mode, booted, and the phone has a network at all. */
  get online(): boolean {
    return (
      this.system.wifiEnabled && !this.system.airplaneMode && this.netInfo !== undefined && !this.booting
    );
  }

  /** Inserts or removes the SIM; gsm.* properties follow. */
  setSim(inserted: boolean): void {
    this.simInserted = inserted;
    this.updateSimProps();
    this.emitChange('sim');
  }

  private updateSimProps(): void {
    const s = this.profile.sim;
    const props = this.system.props;
    const slots = (props.get('gsm.sim.state') ?? 'ABSENT').split(',').length;
    const first = this.simInserted ? 'LOADED' : 'ABSENT';
    props.set('gsm.sim.state', [first, ...Array(slots - 1).fill('ABSENT')].join(','));
    const set = (k: string, v: string) => props.set(k, v);
    set('gsm.sim.operator.alpha', this.simInserted ? s.operator : '');
    set('gsm.sim.operator.numeric', this.simInserted ? s.numeric : '');
    set('gsm.sim.operator.iso-country', this.simInserted ? s.country : '');
    set('gsm.operator.alpha', this.simInserted ? s.operator : '');
    set('gsm.operator.numeric', this.simInserted ? s.numeric : '');
    set('gsm.operator.iso-country', this.simInserted ? s.country : '');
    set('gsm.network.type', this.simInserted ? 'LTE' : 'Unknown');
  }

  // ---- contacts and messages ----

  /** Saves a contact (the Contacts app's editor); the app then shows it. */
  addContact(name: string, number: string): void {
    this.contacts.push({ name, number });
    this.openContact = this.contacts.length - 1;
    this.events.contactAdded++;
    this.logLine(4, 'ContactsProvider', `inserted raw contact ${this.contacts.length}`, 10_040);
    this.emitChange('contacts');
  }

  /** Deletes the contact the Contacts app has open; false when none is. */
  deleteOpenContact(): boolean {
    const i = this.openContact;
    if (i === undefined || i >= this.contacts.length) return false;
    this.contacts.splice(i, 1);
    this.openContact = undefined;
    this.emitChange('contacts');
    return true;
  }

  /** An SMS arrives from the network (the lab's SMS sender); ignored without a SIM. */
  receiveSms(from: string, body: string): boolean {
    if (!this.simInserted) return false;
    this.messages.push({ direction: 'in', peer: from, body, at: this.now() });
    this.events.smsReceived++;
    this.logLine(4, 'SmsReceiver', 'SMS received', 10_050);
    this.emitChange('messages');
    return true;
  }

  /** The Messages app sends an SMS; false without a SIM (the app says it cannot send). */
  sendSms(to: string, body: string): boolean {
    if (!this.simInserted) return false;
    this.messages.push({ direction: 'out', peer: to, body, at: this.now() });
    this.events.smsSent++;
    this.logLine(4, 'SmsController', 'SMS sent', 10_050);
    this.emitChange('messages');
    return true;
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
    if (!this.system.consent('backupEnabled')) {
      this.logLine(5, 'CloudBackup', 'backup requested while cloud backup is off: ignored', 10_000);
      return false;
    }
    this.backupRunning = true;
    this.apps.startProcess(this.profile.backup.package);
    this.logLine(
      4,
      'CloudBackup',
      'backup started',
      this.apps.processes.get(this.profile.backup.package)?.pid ?? 0,
    );
    clearTimeout(this.backupTimer);
    // Phone time: a lab at --speed N sees the backup end N times sooner, as everything else.
    this.backupTimer = setTimeout(
      () => this.stopBackup(),
      (this.profile.backup.durationSeconds * 1000) / this.speed,
    );
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

  // ---- clock and log ----

  /** The phone's clock, in ms since epoch. */
  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Appends a line to the log buffer and tells logcat readers. */
  logLine(priority: number, tag: string, message: string, pid = 1000, tid = pid): void {
    this.log.add(priority, tag, message, pid, tid);
  }

  // ---- traffic ----

  /** The snapshot that drives the phone's traffic. */
  trafficState(): TrafficState {
    const ids = this.profile.identifiers;
    const fg = this.screen.on && !this.screen.locked ? this.apps.foregroundPackage : undefined;
    // In the setup wizard nothing is agreed yet: its switches take effect when setup is finished.
    const agreed = (on: boolean) => on && this.provisioned;
    return {
      online: this.online,
      screenOn: this.screen.on,
      ...(fg ? { foregroundPackage: fg } : {}),
      backupEnabled: agreed(this.system.consent('backupEnabled')),
      backupRunning: this.backupRunning,
      analyticsConsent: agreed(this.system.consent('analyticsConsent')),
      adsConsent: agreed(this.system.consent('adsConsent')),
      accountSignedIn: this.accounts.some((a) => a.type === this.profile.vendorAccountType),
      simInserted: this.simInserted,
      cloudMessaging: agreed(this.system.consent('cloudMessaging')),
      locationOn: agreed(this.system.locationOn),
      ids: {
        imei: ids.imei,
        androidId: this.system.tables.secure.get('android_id') ?? ids.androidId,
        serial: ids.serial,
        advertisingId: ids.advertisingId,
        wifiMac: this.netInfo?.mac ?? '',
        imsi: this.simInserted ? (ids.imsi ?? '') : '',
        iccid: this.simInserted ? (ids.iccid ?? '') : '',
        phoneNumber: this.simInserted ? (ids.phoneNumber ?? '') : '',
      },
      packages: [...this.apps.packages.keys()].sort(),
      contacts: this.contacts.map((c) => c.number),
      events: { ...this.events },
    };
  }

  /** Reports a change to listeners ('change' with its kind). */
  emitChange(kind: ChangeKind): void {
    this.emit('change', kind);
  }
}
