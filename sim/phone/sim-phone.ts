/**
 * A simulated phone: a device profile brought to life. It keeps the device state, answers shell
 * commands like the phone's /system/bin/sh, lays out a sandboxed file tree (rootDir) for sync:, serves
 * TCP ports for adb forward, and tells the network side (PhoneNet) whenever its traffic state changes.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, posix, resolve, sep } from 'node:path';
import { Duplex, Readable, Transform, Writable } from 'node:stream';
import type { AdbBanner, PhoneNet, ShellIo, SimPhone, TrafficState } from '../contracts.js';
import { activityCommands } from './activity-commands.js';
import type { CommandHandler, InstrumentHook, PhoneEnv } from './command.js';
import { sleepFor } from './command.js';
import { DeviceState } from './device-state.js';
import { dumpsysCommands } from './dumpsys-command.js';
import { fileCommands } from './file-commands.js';
import { inputCommands } from './input-commands.js';
import { logcatCommands } from './logcat-command.js';
import { mountCommands } from './mount-commands.js';
import { netCommands } from './net-commands.js';
import { packageCommands } from './package-commands.js';
import { stopPcapdroid } from './pcapdroid.js';
import { loadPhoneProfile as loadProfile, type PhoneProfile } from './profile.js';
import { settingsCommands } from './settings-commands.js';
import { ShellSession } from './shell.js';
import { systemCommands } from './system-commands.js';
import { textCommands } from './text-commands.js';

export type { InstrumentHook, InstrumentRun } from './command.js';
export type { PhoneProfile } from './profile.js';

/** Reads and checks a device profile (devices/sim/NAME.yaml). Throws ConfigError. */
export function loadPhoneProfile(file: string): Promise<PhoneProfile> {
  return loadProfile(file);
}

/** Options of createSimPhone. */
export interface SimPhoneOptions {
  /** The device facts. */
  profile: PhoneProfile;
  /** Host directory that becomes the phone's "/" (created, laid out like a phone). */
  dataDir: string;
  /** The network side; without it the phone has no network. */
  net?: PhoneNet;
  /** adb serial (default: the profile's hardware serial). */
  serial?: string;
  /** Demand AUTH and stay unauthorized. */
  unauthorized?: boolean;
  /** Plays `am instrument` runs (e.g. the UiAutomator2 server). */
  onInstrument?: InstrumentHook;
  /** Start with the keyguard showing (default: unlocked, screen on, as a lab phone is left). */
  locked?: boolean;
  /** How long a reboot takes, in ms (default 500). */
  bootMs?: number;
  /**
   * How much faster than the wall clock the phone's time runs (the lab's --speed, default 1): the
   * shell's `sleep N` lasts N seconds of phone time, as the traffic's timers do.
   */
  speed?: number;
}

/** A running simulated phone. */
export interface SimPhoneInstance extends SimPhone {
  /** The device state (read it, or change it from scenario code). */
  readonly state: DeviceState;
  /** Makes a TCP port on the phone accept connections; returns a function that stops listening. */
  listen(port: number, onConnection: (stream: Duplex) => void): () => void;
  /**
   * Who performs reboots the phone starts itself (`adb shell reboot`, `svc power reboot`): typically
   * the adbd's reboot(), which drops the transport and then calls phone.reboot(). Without one, the
   * phone restarts in place and the transport stays up.
   */
  setRebootHandler(handler: ((target: string) => void) | undefined): void;
  /** Stops instrumentations, the PCAPdroid capture and timers. */
  close(): Promise<void>;
}

/** All shell commands by name. */
export const COMMANDS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({
    ...textCommands,
    ...fileCommands,
    ...settingsCommands,
    ...packageCommands,
    ...dumpsysCommands,
    ...activityCommands,
    ...inputCommands,
    ...logcatCommands,
    ...netCommands,
    ...systemCommands,
    ...mountCommands,
  }),
);

const ALIASES: [string, string][] = [
  ['/sdcard', '/storage/emulated/0'],
  ['/storage/self/primary', '/storage/emulated/0'],
  ['/mnt/sdcard', '/storage/emulated/0'],
  ['/mnt/user/0/primary', '/storage/emulated/0'],
  ['/data/user/0', '/data/data'],
];

const LAYOUT = [
  '/storage/emulated/0/Download',
  '/storage/emulated/0/DCIM',
  '/storage/emulated/0/Pictures',
  '/storage/emulated/0/Android/data',
  '/data/local/tmp',
  '/data/app',
  '/data/data',
  '/data/system',
  '/system/bin',
  '/system/app',
  '/system/priv-app',
  '/system/framework',
  '/system_ext/priv-app',
  '/product/app',
  '/vendor/bin',
  '/proc',
  '/dev',
  '/etc',
];

/** Two connected in-memory streams: what one writes, the other reads; each looks enough like a socket for node:http. */
export function duplexPair(): [Duplex, Duplex] {
  let a: Duplex | undefined;
  let b: Duplex | undefined;
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(err, cb) {
        // The peer sees the end of its input; after an abort it is closed too (without an error event
        // nobody may be listening for, as a reset socket's owner would otherwise crash).
        const p = peer();
        if (!p.destroyed) {
          if (!p.readableEnded) p.push(null);
          if (err) p.destroy();
        }
        cb(err);
      },
    });
  a = make(() => b!);
  b = make(() => a!);
  // Enough of net.Socket that node:http can serve on it (server.emit('connection', stream)).
  for (const s of [a, b]) {
    Object.assign(s, {
      remoteAddress: '127.0.0.1',
      remotePort: 0,
      setTimeout: () => s,
      setNoDelay: () => s,
      setKeepAlive: () => s,
    });
  }
  return [a, b];
}

/** A writable that turns "\n" into "\r\n" on its way to `out` (a terminal's ONLCR), leaving `out` open. */
function crlf(out: Writable): Writable {
  let lastCr = false;
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const bytes: number[] = [];
      for (const b of chunk) {
        if (b === 0x0a && !lastCr) bytes.push(0x0d);
        bytes.push(b);
        lastCr = b === 0x0d;
      }
      cb(null, Buffer.from(bytes));
    },
  });
  t.pipe(out, { end: false });
  return t;
}

/** Ends a crlf() writable and waits until everything went through to its target. */
function drain(w: Writable): Promise<void> {
  return new Promise((resolve) => {
    const t = w as Transform;
    if (t.readableEnded) {
      resolve();
      return;
    }
    t.once('end', () => resolve());
    t.once('close', () => resolve());
    t.end();
  });
}

/** A certificate's file name in Android's store: OpenSSL's old subject hash (MD5 of the subject's DER). */
function subjectHashOld(pem: string): string {
  return execFileSync('openssl', ['x509', '-noout', '-subject_hash_old'], { input: pem, encoding: 'utf8' })
    .trim()
    .split('\n')[0]!;
}

/** Builds a simulated phone from a profile. */
export async function createSimPhone(opts: SimPhoneOptions): Promise<SimPhoneInstance> {
  const rootDir = resolve(opts.dataDir);
  const state = new DeviceState(opts.profile);
  if (opts.speed !== undefined && opts.speed > 0) state.setSpeed(opts.speed);
  for (const dir of LAYOUT) mkdirSync(rootDir + dir, { recursive: true });
  for (const p of state.apps.packages.values())
    mkdirSync(`${rootDir}/data/data/${p.name}`, { recursive: true });
  writeFileSync(
    `${rootDir}/system/build.prop`,
    [...state.system.props.entries()]
      .filter(([k]) => k.startsWith('ro.'))
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );

  const kernel = state.system.props.get('ro.kernel.version') ?? '5.10';
  writeFileSync(
    `${rootDir}/proc/version`,
    `Linux version ${kernel}.198-android-g5c1d2e3 (build-user@build-host) (Android (10087095, +pgo, +bolt, +lto, -mlgo, based on r487747c) clang version 17.0.2, LLD 17.0.2) #1 SMP PREEMPT ${state.system.props.get('ro.build.date') ?? ''}\n`,
  );
  // A new random boot id at every boot, as the kernel makes one: how a harness tells that a phone
  // rebooted while it looked away.
  const writeBootId = () => {
    mkdirSync(`${rootDir}/proc/sys/kernel/random`, { recursive: true });
    writeFileSync(`${rootDir}/proc/sys/kernel/random/boot_id`, `${randomUUID()}\n`);
  };
  writeBootId();
  // The Wi-Fi interface's address, as `cat /sys/class/net/wlan0/address` shows it.
  if (opts.net) {
    mkdirSync(`${rootDir}/sys/class/net/wlan0`, { recursive: true });
    writeFileSync(`${rootDir}/sys/class/net/wlan0/address`, `${opts.net.mac}\n`);
  }
  writeFileSync(
    `${rootDir}/proc/meminfo`,
    'MemTotal:        7723356 kB\nMemFree:          412880 kB\nMemAvailable:    3390412 kB\nBuffers:            3148 kB\nCached:          2991224 kB\nSwapTotal:       4194300 kB\nSwapFree:        3466236 kB\n',
  );

  const mounts = new Map<string, string>();
  const hostPath = (phonePath: string): string | undefined => {
    if (phonePath.includes('\0')) return undefined;
    let p = posix.normalize(posix.join('/', phonePath));
    for (const [alias, real] of ALIASES) {
      if (p === alias || p.startsWith(`${alias}/`)) {
        p = real + p.slice(alias.length);
        break;
      }
    }
    // The deepest mount over the path shows its own folder there.
    let over: string | undefined;
    for (const at of mounts.keys())
      if ((p === at || p.startsWith(`${at}/`)) && (!over || at.length > over.length)) over = at;
    if (over) {
      const base = mounts.get(over)!;
      const host = resolve(base + p.slice(over.length));
      return host === base || host.startsWith(base + sep) ? host : undefined;
    }
    const host = resolve(rootDir + p);
    return host === rootDir || host.startsWith(rootDir + sep) ? host : undefined;
  };

  const env: PhoneEnv = {
    state,
    rootDir,
    hostPath,
    mounts,
    net: opts.net,
    speed: opts.speed !== undefined && opts.speed > 0 ? opts.speed : 1,
    onInstrument: opts.onInstrument,
    listeners: new Map(),
    openStreams: new Map(),
    instrumentations: new Map(),
    commandNames: new Set([...COMMANDS.keys(), 'sh', 'su', 'sleep', 'test', 'true', 'false']),
    pcapCapture: undefined,
    async exec(line: string, signal?: AbortSignal) {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const sink = (into: Buffer[]) =>
        new Writable({
          write(chunk: Buffer, _e, cb) {
            into.push(Buffer.from(chunk));
            cb();
          },
        });
      const code = await new ShellSession(env, COMMANDS).run(line, {
        stdin: Readable.from([]),
        stdout: sink(out),
        stderr: sink(err),
        signal: signal ?? new AbortController().signal,
      });
      return { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code };
    },
  };

  if (opts.net) state.netInfo = { ip: opts.net.ip, mac: opts.net.mac };
  state.boot();
  if (!opts.locked) state.unlockForLab();

  // A phone logs all the time; logcat readers see a line every few seconds even when nothing happens.
  const chatter: [number, string, string][] = [
    [4, 'BatteryService', 'battery level update'],
    [3, 'WifiHAL', 'RSSI poll'],
    [4, 'NetworkController', 'onDefaultNetworkChanged'],
    [3, 'ThermalManager', 'skin temperature normal'],
  ];
  let tick = 0;
  const heartbeat = setInterval(() => {
    const [pr, tag, msg] = chatter[tick++ % chatter.length]!;
    if (state.system.props.get('sys.boot_completed') === '1')
      state.logLine(pr, tag, msg, 1161, 1161 + (tick % 40));
  }, 3000);
  heartbeat.unref();

  // The system trust store, as Android keeps it: one PEM file per CA named by its subject hash; from
  // Android 14 apps read the Conscrypt APEX copy. The lab's certificate stands for the public roots.
  const sdk = Number(state.system.props.get('ro.build.version.sdk') ?? '34');
  const storeDir = sdk >= 34 ? '/apex/com.android.conscrypt/cacerts' : '/system/etc/security/cacerts';
  const labCert = opts.net?.labCert;
  const seedStore = () => {
    if (!labCert) return;
    const name = `${subjectHashOld(labCert)}.0`;
    for (const d of ['/system/etc/security/cacerts', storeDir]) {
      mkdirSync(rootDir + d, { recursive: true });
      writeFileSync(`${rootDir}${d}/${name}`, labCert);
    }
  };
  seedStore();
  const trustStore = (): string[] | undefined => {
    if (!labCert) return undefined;
    const dir = hostPath(storeDir);
    try {
      return readdirSync(dir!)
        .filter((f) => /^[0-9a-f]{8}\.\d+$/.test(f))
        .sort()
        .map((f) => readFileSync(join(dir!, f), 'utf8'))
        .filter((pem) => pem.includes('-----BEGIN CERTIFICATE-----'));
    } catch {
      return [];
    }
  };

  let lastSent = '';
  const tell = () => {
    if (!opts.net) return;
    const snapshot: TrafficState = { ...state.trafficState(), trust: trustStore() };
    const text = JSON.stringify(snapshot);
    if (text === lastSent) return;
    lastSent = text;
    opts.net.setState(snapshot);
  };
  state.on('change', tell);
  tell();
  // Files copied into the store change no phone state: the store is looked at again every second.
  const storeWatch = labCert ? setInterval(tell, 1000) : undefined;
  storeWatch?.unref();

  let booting: Promise<void> | undefined;
  const reboot = (target: string): Promise<void> => {
    if (booting) return booting;
    booting = (async () => {
      state.emit('reboot-start', target);
      for (const run of [...env.instrumentations.values()]) run.stop();
      await stopPcapdroid({ phone: env });
      state.system.props.set('sys.boot_completed', '0');
      state.system.props.set('dev.bootcomplete', '0');
      state.screen.on = false;
      state.booting = true;
      state.emitChange('screen');
      await sleepFor(opts.bootMs ?? 500, new AbortController().signal);
      // Mounts do not survive a reboot: a CA put in the store by a tmpfs is gone.
      mounts.clear();
      writeBootId();
      // The Wi-Fi interface's address, as `cat /sys/class/net/wlan0/address` shows it.
      if (opts.net) {
        mkdirSync(`${rootDir}/sys/class/net/wlan0`, { recursive: true });
        writeFileSync(`${rootDir}/sys/class/net/wlan0/address`, `${opts.net.mac}\n`);
      }
      state.boot();
    })().finally(() => {
      booting = undefined;
    });
    return booting;
  };
  // `adb shell reboot` (or `svc power reboot`): whoever owns the transport performs it (the adbd's
  // reboot() drops the connection and calls phone.reboot()); without one, the state restarts in place.
  let rebootHandler: ((target: string) => void) | undefined;
  state.on('reboot-request', (target: string) => {
    if (rebootHandler) rebootHandler(target);
    else void reboot(target);
  });

  const shell = async (command: string, io: ShellIo): Promise<number> => {
    const session = new ShellSession(env, COMMANDS);
    // A pty is a terminal: output lines end in CR LF (and an interactive shell echoes what is typed).
    const tio: ShellIo = io.pty
      ? {
          ...io,
          stdout: crlf(io.stdout),
          stderr: io.stderr === io.stdout ? crlf(io.stdout) : crlf(io.stderr),
        }
      : io;
    try {
      if (command.trim() === '' && io.pty) return await interactive(session, tio, io.stdout);
      return await session.run(command, tio);
    } finally {
      if (tio !== io) await Promise.all([drain(tio.stdout), drain(tio.stderr)]);
    }
  };

  const interactive = async (session: ShellSession, io: ShellIo, raw: Writable): Promise<number> => {
    const prompt = () =>
      `${state.system.props.get('ro.product.device') ?? 'android'}:/ ${session.uid === 0 ? '#' : '$'} `;
    raw.write(prompt());
    let buf = '';
    for await (const chunk of io.stdin) {
      const text = Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      raw.write(text.replace(/\r\n|\r|\n/g, '\r\n'));
      buf += text;
      let nl = buf.search(/\r\n|\r|\n/);
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
        const exit = /^\s*exit(?:\s+(\d+))?\s*$/.exec(line);
        if (exit) return exit[1] === undefined ? session.status : Number(exit[1]);
        await session.run(line, io);
        await new Promise<void>((r) => setImmediate(r));
        raw.write(prompt());
        nl = buf.search(/\r\n|\r|\n/);
      }
      if (io.signal.aborted) break;
    }
    return session.status;
  };

  const listen = (port: number, onConnection: (stream: Duplex) => void) => {
    env.listeners.set(port, onConnection);
    return () => {
      if (env.listeners.get(port) === onConnection) env.listeners.delete(port);
    };
  };

  const phone: SimPhoneInstance = {
    serial: opts.serial ?? opts.profile.identifiers.serial,
    unauthorized: opts.unauthorized ?? false,
    rootDir,
    state,
    banner(): AdbBanner {
      const b = opts.profile.banner;
      return {
        state: 'device',
        productName: b.product,
        productModel: b.model,
        productDevice: b.device,
      };
    },
    shell,
    hostPath,
    filePushed(phonePath: string) {
      state.logLine(3, 'adbd', `sync: received ${phonePath}`, 926);
    },
    async connectTcp(port: number): Promise<Duplex> {
      const handler = env.listeners.get(port);
      if (!handler) {
        const err = new Error(`connect ECONNREFUSED 127.0.0.1:${port}`) as NodeJS.ErrnoException;
        err.code = 'ECONNREFUSED';
        throw err;
      }
      const [client, server] = duplexPair();
      const open = env.openStreams.get(port) ?? new Set<Duplex>();
      env.openStreams.set(port, open);
      open.add(server);
      server.once('close', () => open.delete(server));
      handler(server);
      return client;
    },
    reboot,
    listen,
    setRebootHandler(handler) {
      rebootHandler = handler;
    },
    async close() {
      clearInterval(heartbeat);
      if (storeWatch) clearInterval(storeWatch);
      for (const run of [...env.instrumentations.values()]) run.stop();
      await stopPcapdroid({ phone: env });
      state.stopBackup();
      state.removeAllListeners();
    },
  };
  return phone;
}
