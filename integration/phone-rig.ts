/**
 * A simulated phone on loopback, as the tests that drive it through adb and Appium need it: the
 * phone behind its adbd, a private real adb server on a free port with a throwaway HOME (so that no
 * other test's server or keys are touched), and, when asked, an ANDROID_HOME around Debian's adb and
 * a real Appium 3 server for the UiAutomator2 driver. dispose() and stop() end exactly what they
 * started, by pid or by the private server's port.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { sleep } from '../harness/deadline.js';
import { startAdbd } from '../sim/adb/adbd.js';
import {
  createSimPhone,
  type InstrumentRun,
  loadPhoneProfile,
  type SimPhoneInstance,
} from '../sim/phone/sim-phone.js';
import { freePort } from './free-port.js';

const ROOT = resolve('.');

/** What an adb client run printed and how it ended. */
export interface AdbRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A simulated phone connected to its own adb server. */
export interface PhoneRig {
  /** The private adb server's port. */
  port: number;
  /** The environment that points adb (and Appium, for rigs made with `appium: true`) at it. */
  env: NodeJS.ProcessEnv;
  /** Throwaway HOME of the adb server (and Appium). */
  home: string;
  phone: SimPhoneInstance;
  /** The phone's adb serial (host:port of its adbd). */
  serial: string;
  /** Runs the adb client against the private server (killed after timeoutMs). */
  adb(args: string[], timeoutMs?: number): Promise<AdbRun>;
  /** `adb -s SERIAL shell CMD`. */
  shell(cmd: string): Promise<AdbRun>;
  /** Starts `adb -s SERIAL ARGS…` and hands the child over; dispose() kills it if it still runs. */
  spawnAdb(args: string[]): ChildProcess;
  /** Kills the children, the private adb server, the adbd and the phone; removes the folders. */
  dispose(): Promise<void>;
}

export interface PhoneRigOptions {
  /** The simulated device file, e.g. devices/sim/pixel-7.yaml. */
  profile: string;
  /** The phone's `am instrument` hook (the simulated UiAutomator2 server, or a test's own). */
  onInstrument?: (run: InstrumentRun) => void;
  /** Prepares the phone's state before its adbd starts (settings the test begins from). */
  prepare?: (phone: SimPhoneInstance) => void;
  /** Adds ANDROID_HOME (platform-tools/adb around Debian's adb) and APPIUM_HOME for the driver. */
  appium?: boolean;
}

/**
 * The environment of a test's private adb server on `port`: its own HOME (keys, no shared state)
 * and no emulator scan, so that it sees only the phones the test connects.
 */
export function privateAdbEnv(port: number, home: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: home,
    ANDROID_ADB_SERVER_PORT: String(port),
    ADB_LOCAL_TRANSPORT_MAX_PORT: '5554',
    ADB_EMU: '0',
  };
}

/** Starts a phone and its private adb server, connected; throws (having cleaned up) when they are not. */
export async function startPhoneRig(opts: PhoneRigOptions): Promise<PhoneRig> {
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'phonehome-rig-'));
  const env = privateAdbEnv(port, home);
  if (opts.appium) {
    // The driver finds adb as ANDROID_HOME/platform-tools/adb: the same Debian binary and server.
    const sdk = join(home, 'android-sdk');
    mkdirSync(join(sdk, 'platform-tools'), { recursive: true });
    symlinkSync(
      realpathSync(execFileSync('which', ['adb']).toString().trim()),
      join(sdk, 'platform-tools/adb'),
    );
    Object.assign(env, { ANDROID_HOME: sdk, ANDROID_SDK_ROOT: sdk, APPIUM_HOME: join(ROOT, '.appium') });
  }
  const children: ChildProcess[] = [];
  const adb = (args: string[], timeoutMs = 30_000) =>
    new Promise<AdbRun>((done, fail) => {
      const child = spawn('adb', ['-P', String(port), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', fail);
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout, stderr });
      });
    });
  let phone: SimPhoneInstance | undefined;
  let adbd: Awaited<ReturnType<typeof startAdbd>> | undefined;
  const dispose = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await adb(['kill-server'], 10_000).catch(() => undefined);
    await adbd?.close();
    await phone?.close();
    rmSync(home, { recursive: true, force: true });
  };
  try {
    phone = await createSimPhone({
      profile: await loadPhoneProfile(opts.profile),
      dataDir: join(home, 'phone'),
      ...(opts.onInstrument ? { onInstrument: opts.onInstrument } : {}),
    });
    opts.prepare?.(phone);
    adbd = await startAdbd({ phone, host: '127.0.0.1' });
    const started = await adb(['start-server']);
    if (started.code !== 0) {
      const how = started.code === null ? 'killed after 30 s' : `exit ${started.code}`;
      throw new Error(`adb -P ${port} start-server (${how}): ${started.stderr}${started.stdout}`);
    }
    const connected = await adb(['connect', adbd.serial]);
    if (!/connected to/.test(connected.stdout)) throw new Error(`adb connect: ${connected.stdout}`);
  } catch (e) {
    await dispose();
    throw e;
  }
  const serial = adbd.serial;
  return {
    port,
    env,
    home,
    phone,
    serial,
    adb,
    shell: (cmd) => adb(['-s', serial, 'shell', cmd]),
    spawnAdb: (args) => {
      const child = spawn('adb', ['-P', String(port), '-s', serial, ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      return child;
    },
    dispose,
  };
}

/** An Appium server started for a test. */
export interface TestAppium {
  port: number;
  child: ChildProcess;
  /** Everything it logged so far. */
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves once it has exited. */
  stop(): Promise<void>;
}

/** Starts Appium 3 from node_modules on a free loopback port, ready once /status answers (60 s). */
export async function startAppium(rig: PhoneRig, logLevel = 'info'): Promise<TestAppium> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/appium/index.js'),
      'server',
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-no-colors',
      '--log-timestamp',
      '--log-level',
      logLevel,
    ],
    { env: rig.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (d: Buffer) => {
    log += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`appium exited ${child.exitCode}:\n${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/status`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`appium did not answer /status in 60 s:\n${log}`);
    }
    await sleep(250);
  }
  return { port, child, log: () => log, stop };
}

/**
 * WebdriverIO options for a UiAutomator2 session on the rig's phone, starting in `app`
 * (package/activity), through the rig's adb server, which the driver must leave running.
 */
export function uia2Session(
  rig: PhoneRig,
  appium: TestAppium,
  app: { appPackage: string; appActivity: string },
  extra: Record<string, unknown> = {},
) {
  return {
    hostname: '127.0.0.1',
    port: appium.port,
    path: '/',
    logLevel: 'warn' as const,
    connectionRetryTimeout: 180_000,
    connectionRetryCount: 0,
    capabilities: {
      platformName: 'Android',
      'appium:automationName': 'UiAutomator2',
      'appium:udid': rig.serial,
      'appium:noReset': true,
      'appium:adbPort': rig.port,
      'appium:suppressKillServer': true,
      'appium:disableWindowAnimation': true,
      'appium:appPackage': app.appPackage,
      'appium:appActivity': app.appActivity,
      ...extra,
    },
  };
}
