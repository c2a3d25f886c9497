/** The plain data of a simulated phone's state, shared by DeviceState and its parts. */
import type { PhoneProfile } from './profile.js';

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
  // a mount changed what a folder shows (a CA put in the system store)
  | 'mount'
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
  | 'contacts'
  // a factory reset; and setup finished (the wizard's last page, or device_provisioned put to 1)
  | 'reset'
  | 'setup'
  | 'messages'
  | 'process'
  | 'reboot';

/** What each part of the state reaches of the whole: the profile, change events and the log. */
export interface StateCore {
  readonly profile: PhoneProfile;
  /** Reports a change to listeners ('change' with its kind). */
  emitChange(kind: ChangeKind): void;
  /** Emits any other event (force-stop, log). */
  emit(event: string, ...args: unknown[]): boolean;
  /** Appends a line to the phone's log. */
  logLine(priority: number, tag: string, message: string, pid?: number, tid?: number): void;
  /** What HOME shows: the launcher, or the setup wizard while a reset phone is not set up. */
  homeScreen(): string;
  /**
   * A setting was written (`was` its value before): what follows from it on a phone happens here (a
   * backup stopping when backup is turned off, setup finishing when device_provisioned goes to 1).
   */
  settingWritten(ns: SettingsNamespace, key: string, was: string | undefined, value: string): void;
}
