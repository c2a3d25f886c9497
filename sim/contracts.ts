/**
 * The seams inside a simulated phone. Three parts meet here:
 * - the adbd side (sim/adb/) speaks the ADB transport protocol to the real adb server and
 *   calls a {@link SimPhone} for everything a phone does;
 * - the phone (sim/phone/) holds the device state and answers shell commands and the file tree;
 * - the network side (sim/net/) makes the phone's real traffic from its own network namespace,
 *   following the phone's state, through {@link PhoneNet}.
 */
import type { Duplex, Readable, Writable } from 'node:stream';

/** What one shell invocation gets: its streams and a signal that fires when the client goes away. */
export interface ShellIo {
  /** Bytes the client sends (shell v2 stdin packets, or raw bytes for exec:/legacy shell). */
  stdin: Readable;
  /** Standard output towards the client. */
  stdout: Writable;
  /** Standard error (merged into stdout by the adbd side for legacy `shell:`). */
  stderr: Writable;
  /** Aborted when the client closes the stream or the transport drops (e.g. a reboot). */
  signal: AbortSignal;
  /** True when the client asked for a pty (interactive `adb shell`). */
  pty: boolean;
}

/** The ADB banner facts of the phone (CNXN payload). */
export interface AdbBanner {
  /** Connection state word: "device" normally. */
  state: 'device' | 'recovery' | 'bootloader' | 'sideload' | 'rescue';
  productName: string;
  productModel: string;
  productDevice: string;
}

/** Everything the adbd side needs from a phone. Implemented by sim/phone/. */
export interface SimPhone {
  /** Serial number (ro.serialno). */
  readonly serial: string;
  /** Banner facts for CNXN. */
  banner(): AdbBanner;
  /**
   * Runs a shell command line as the phone's /system/bin/sh would, writing to io.stdout/io.stderr.
   * Resolves with the exit status. Long-running commands (logcat, am instrument -w) run until they end
   * or io.signal aborts.
   */
  shell(command: string, io: ShellIo): Promise<number>;
  /** Absolute host path of the sandboxed directory that stands for the phone's "/" (for sync:). */
  readonly rootDir: string;
  /** Maps a phone path ("/sdcard/x") to a host path inside rootDir, or undefined if it escapes the sandbox. */
  hostPath(phonePath: string): string | undefined;
  /** Called after a file was pushed through sync: SEND (e.g. so pm install can find it). */
  filePushed?(phonePath: string): void;
  /**
   * Opens a TCP connection to a port the phone listens on (the `tcp:PORT` service for `adb forward`).
   * Rejects with an error whose code is ECONNREFUSED when nothing listens there.
   */
  connectTcp(port: number, host?: string): Promise<Duplex>;
  /** The phone reboots: the adbd side has dropped the transport; resolves when the phone is back. */
  reboot(target: string): Promise<void>;
  /** True when the phone should demand AUTH and stay unauthorized. */
  readonly unauthorized: boolean;
}

/** A snapshot of the phone state that drives its traffic. Produced by sim/phone/. */
export interface TrafficState {
  /** Wi-Fi connected and not in airplane mode: with false, the phone makes no traffic at all. */
  online: boolean;
  screenOn: boolean;
  /** Package name of the foreground app, if any (e.g. "com.android.thememanager"). */
  foregroundPackage?: string;
  /** Cloud backup enabled in settings. */
  backupEnabled: boolean;
  /** A backup is running right now ("Back up now" tapped or `am broadcast` of the backup action). */
  backupRunning: boolean;
  /** Analytics / user experience program consent. */
  analyticsConsent: boolean;
  /** Personalised ads consent. */
  adsConsent: boolean;
  /** A vendor account (e.g. Mi account) is signed in. */
  accountSignedIn: boolean;
  simInserted: boolean;
  /** Cloud messaging on (SMS through the maker's cloud), where the maker offers it. */
  cloudMessaging: boolean;
  /** Location on (the quick-settings switch, secure location_mode not 0). */
  locationOn: boolean;
  /**
   * Identifiers, for traffic that carries them; the SIM's (IMSI, ICCID, number) are empty while no
   * SIM is in.
   */
  ids: {
    imei: string;
    androidId: string;
    serial: string;
    advertisingId: string;
    wifiMac: string;
    imsi: string;
    iccid: string;
    phoneNumber: string;
  };
  /** Installed package names, for a misbehaviour that sends the app list. */
  packages: string[];
  /** The phone numbers of the contacts saved on the phone, oldest first. */
  contacts: string[];
  /**
   * How many times each event has happened on the phone since it started: a behaviour `on` an event
   * answers each rise of its count.
   */
  events: { contactAdded: number; smsReceived: number; smsSent: number; setupCompleted: number };
  /**
   * The certificates (PEM) in the phone's system trust store as its TLS clients see it now (the
   * Conscrypt APEX store from Android 14, /system/etc/security/cacerts before): a CA installed
   * there (mitmproxy's) is trusted from then on.
   */
  trust?: string[];
}

/** The phone's network side. Implemented by sim/net/. */
export interface PhoneNet {
  /** The phone's IPv4 address in its namespace. */
  readonly ip: string;
  /** The phone's MAC address. */
  readonly mac: string;
  /** Name of the host-side interface a capture tool watches (the lab access point). */
  readonly captureInterface: string;
  /** The lab internet's certificate (PEM), which the phone's trust store holds from the start. */
  readonly labCert?: string;
  /** The phone's state changed: traffic follows from now on. */
  setState(state: TrafficState): void;
  /**
   * Runs a network command inside the phone's namespace as the phone's shell would (ping, nslookup-like
   * lookups). Used by the phone's shell for `ping`. Resolves with output lines and exit code.
   */
  ping(host: string, count: number, signal: AbortSignal): Promise<{ output: string; exitCode: number }>;
  /** Resolves a name with the phone's DNS and opens a TCP connection to it on the port (canaries, curl-like). */
  touch(
    host: string,
    port: number,
    signal: AbortSignal,
  ): Promise<{ ok: boolean; address?: string; error?: string }>;
  /**
   * Starts a capture of the phone's own traffic inside its namespace, for the simulated PCAPdroid.
   * On stop() it writes hostFile as PCAPdroid would (../shared/reference/PCAPDROID.md): classic pcap,
   * link type RAW (101) without extensions; with `extensions`, the bogus Ethernet header and the
   * 32-byte UID/app-name trailer per packet, attributing each packet to the app that made it.
   */
  startOnPhoneCapture(
    hostFile: string,
    opts: {
      /** PCAPdroid's dump_extensions: per-packet app attribution trailer. */
      extensions: boolean;
      /** Package name -> Android UID, from the phone's installed packages. */
      appUids: Record<string, number>;
    },
  ): Promise<{ stop(): Promise<{ packets: number }> }>;
}
