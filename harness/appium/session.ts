/**
 * WebdriverIO sessions on an Appium server: UiAutomator2 capabilities built from a device profile,
 * one session per phone reused across its scenarios, and every WebDriver call under a deadline.
 * A call made while the local Appium process is dead fails with AppiumError 'crashed' at once.
 */
import { remote } from 'webdriverio';
import type { OpOptions } from '../deadline.js';
import { type AdbServerConfig, DEFAULT_ADB } from '../device/adb-server.js';
import { AppiumError, ConfigError, errorMessage } from '../errors.js';
import type { AppiumEndpoint } from './appium-server.js';
import { appiumDeadline, delay } from './deadline.js';
import { explainObstacle } from './xiaomi-obstacles.js';

/** A WebdriverIO session (the Browser object of `remote()`). */
export type Browser = WebdriverIO.Browser;

/** Capabilities as sent in the W3C new-session request. */
export type Capabilities = Record<string, unknown>;

/** What a phone's session needs besides its serial. */
export interface Uia2Options {
  /** The profile's `appium:` map (locale, language…); it may override any default but the identity keys. */
  profile?: Record<string, unknown>;
  /** The profile file, for error messages about the map. */
  profileFile?: string;
  /** phonehome's adb server: the driver must use the same one. */
  adb?: Pick<AdbServerConfig, 'host' | 'port'>;
  /** Seconds without a command before Appium ends the session itself (default 600). */
  newCommandTimeoutS?: number;
  /** How long the driver waits for the on-phone UiAutomator2 server, ms (default 60 000). */
  serverLaunchTimeoutMs?: number;
}

const W3C_STANDARD = new Set([
  'browserName',
  'browserVersion',
  'platformName',
  'acceptInsecureCerts',
  'pageLoadStrategy',
  'proxy',
  'setWindowRect',
  'timeouts',
  'strictFileInteractability',
  'unhandledPromptBehavior',
  'webSocketUrl',
]);

/** UiAutomator2 capabilities for a phone, with the profile's `appium:` map laid over phonehome's defaults. */
export function uiautomator2Capabilities(serial: string, opts: Uia2Options = {}): Capabilities {
  const adb = opts.adb ?? DEFAULT_ADB;
  const caps: Capabilities = {
    platformName: 'Android',
    'appium:automationName': 'UiAutomator2',
    'appium:udid': serial,
    'appium:noReset': true,
    'appium:newCommandTimeout': opts.newCommandTimeoutS ?? 600,
    'appium:adbPort': adb.port,
    ...(adb.host === '127.0.0.1' || adb.host === 'localhost' ? {} : { 'appium:remoteAdbHost': adb.host }),
    // Never kill phonehome's adb server: it holds the capture's and the other phones' connections.
    'appium:suppressKillServer': true,
    'appium:skipLogcatCapture': true,
    'appium:uiautomator2ServerLaunchTimeout': opts.serverLaunchTimeoutMs ?? 60_000,
    'appium:uiautomator2ServerInstallTimeout': 120_000,
    'appium:adbExecTimeout': 30_000,
    // Screens change without transitions while the UiAutomator2 server runs (--no-window-animation):
    // a tap answers as soon as its screen is there, and nothing on the phone's settings is changed.
    'appium:disableWindowAnimation': true,
  };
  for (const [key, value] of Object.entries(opts.profile ?? {})) {
    if (!key.includes(':') && !W3C_STANDARD.has(key))
      throw new ConfigError(
        opts.profileFile ?? 'device profile',
        0,
        0,
        `appium.${key}`,
        `an Appium capability needs the "appium:" prefix ("appium:${key}")`,
      );
    if (key === 'appium:udid' || key === 'platformName' || key === 'appium:automationName') continue;
    caps[key] = value;
  }
  return caps;
}

/** How to make a session. */
export interface SessionOptions {
  endpoint: AppiumEndpoint;
  capabilities: Capabilities;
  /** A name for messages: the phone's serial. */
  name: string;
  /** Deadline for creating the session, ms (default 180 000: a first UiAutomator2 start installs APKs). */
  createDeadlineMs?: number;
  /** Default deadline of each later call, ms (default 30 000). */
  commandDeadlineMs?: number;
  signal?: AbortSignal;
}

/** A WebDriver session on one phone. */
export class AppiumSession {
  #deleted = false;
  /** Set once a call showed the session is gone (expired, server crashed). */
  #lost = false;

  private constructor(
    /** The WebdriverIO session; use it through `run()` so that calls have deadlines. */
    readonly browser: Browser,
    readonly endpoint: AppiumEndpoint,
    readonly name: string,
    /** The server generation the session lives on. */
    readonly generation: number,
    /** Milliseconds session creation took. */
    readonly createMs: number,
    readonly commandDeadlineMs: number,
  ) {}

  /** Creates a session. Throws AppiumError (session-failed with advice for known phone obstacles, not-installed, crashed, timeout). */
  static async create(opts: SessionOptions): Promise<AppiumSession> {
    const { endpoint } = opts;
    const commandDeadlineMs = opts.commandDeadlineMs ?? 30_000;
    const createDeadlineMs = opts.createDeadlineMs ?? 180_000;
    const generation = endpoint.generation;
    const started = Date.now();
    const what = `Appium session on ${opts.name}`;
    let browser: Browser;
    try {
      browser = await appiumDeadline(
        what,
        { deadlineMs: createDeadlineMs, ...(opts.signal ? { signal: opts.signal } : {}) },
        () =>
          remote({
            protocol: endpoint.url.protocol.replace(':', '') as 'http' | 'https',
            hostname: endpoint.url.hostname,
            port: Number(endpoint.url.port) || (endpoint.url.protocol === 'https:' ? 443 : 80),
            path: endpoint.url.pathname,
            logLevel: 'silent',
            connectionRetryCount: 0,
            connectionRetryTimeout: createDeadlineMs,
            // Classic WebDriver only. WebdriverIO asks for a BiDi socket only when browserName is set
            // (a browser on the phone); the opt-out then keeps it classic.
            capabilities: (typeof opts.capabilities.browserName === 'string'
              ? { ...opts.capabilities, 'wdio:enforceWebDriverClassic': true }
              : opts.capabilities) as WebdriverIO.Capabilities,
          }),
        endpoint.failure(),
      );
    } catch (err) {
      throw sessionError(err, what, opts.capabilities);
    }
    // Later requests get the command deadline as their HTTP timeout (run() enforces it too).
    browser.options.connectionRetryTimeout = commandDeadlineMs;
    return new AppiumSession(
      browser,
      endpoint,
      opts.name,
      generation,
      Date.now() - started,
      commandDeadlineMs,
    );
  }

  /** The W3C session id. */
  get id(): string {
    return this.browser.sessionId;
  }

  /** False once deleted, lost (expired, crashed server), or when its server restarted since. */
  get usable(): boolean {
    return !this.#deleted && !this.#lost && this.generation === this.endpoint.generation;
  }

  /**
   * Runs WebDriver calls under a deadline (default: the session's command deadline). Failures become
   * AppiumError: crashed (Appium exited), session-lost, no-such-element, timeout, aborted, command-failed.
   */
  async run<T>(what: string, op: OpOptions, fn: (browser: Browser) => Promise<T>): Promise<T> {
    try {
      return await this.#run(what, op, fn);
    } catch (err) {
      if (err instanceof AppiumError && (err.kind === 'session-lost' || err.kind === 'crashed'))
        this.#lost = true;
      throw err;
    }
  }

  async #run<T>(what: string, op: OpOptions, fn: (browser: Browser) => Promise<T>): Promise<T> {
    const label = `${what} on ${this.name}`;
    if (this.#deleted) throw new AppiumError('session-lost', `${label}: the session was deleted`);
    if (this.#lost) throw new AppiumError('session-lost', `${label}: the session was lost earlier`);
    if (this.generation !== this.endpoint.generation)
      throw new AppiumError('session-lost', `${label}: the Appium server restarted since the session began`);
    const serverFailure = this.endpoint.failure();
    // The server's end, told as this call's failure.
    const failure = serverFailure?.catch((e: unknown) => {
      const a = e as AppiumError;
      throw new AppiumError(a.kind, `${label}: ${a.what}`, a.advice, { cause: e });
    });
    try {
      return await appiumDeadline(
        label,
        { deadlineMs: op.deadlineMs ?? this.commandDeadlineMs, ...(op.signal ? { signal: op.signal } : {}) },
        () => fn(this.browser),
        failure,
      );
    } catch (err) {
      if (err instanceof AppiumError && err.kind !== 'timeout') throw err;
      // A request cut by the server's death: report the death, not the socket error.
      if (serverFailure) {
        const crash = await Promise.race([
          serverFailure.catch((e: unknown) => e),
          delay(300).then(() => undefined),
        ]);
        if (crash instanceof AppiumError)
          throw new AppiumError(crash.kind, `${label}: ${crash.what}`, crash.advice, { cause: err });
      }
      throw commandError(err, label);
    }
  }

  /** Ends the session; a session whose server is gone is just forgotten. */
  async delete(op: OpOptions = {}): Promise<void> {
    if (this.#deleted) return;
    const live = this.usable;
    this.#deleted = true;
    if (!live) return;
    try {
      await appiumDeadline(
        `delete session on ${this.name}`,
        { deadlineMs: op.deadlineMs ?? this.commandDeadlineMs, ...(op.signal ? { signal: op.signal } : {}) },
        () => this.browser.deleteSession(),
        this.endpoint.failure(),
      );
    } catch (err) {
      // A server that died or was stopped took the session with it.
      if (err instanceof AppiumError && (err.kind === 'crashed' || err.kind === 'session-lost')) return;
      throw commandError(err, `delete session on ${this.name}`);
    }
  }
}

/** W3C error name of a WebdriverIO error ("no such element", "invalid session id"…), if any. */
function w3cError(err: unknown): string {
  const e = err as { name?: unknown; error?: unknown };
  return typeof e?.error === 'string' ? e.error : typeof e?.name === 'string' ? e.name : '';
}

function errorText(err: unknown): string {
  return errorMessage(err);
}

function sessionError(err: unknown, what: string, caps: Capabilities): AppiumError {
  if (err instanceof AppiumError) return err;
  const text = errorText(err);
  if (/Could not find a driver for automationName/i.test(text))
    return new AppiumError(
      'not-installed',
      `${what}: ${firstLine(text)}`,
      'run make setup (scripts/appium-setup.sh installs the drivers into .appium)',
      { cause: err },
    );
  if (/Could not find a connected Android device|was not in the list of connected devices/i.test(text)) {
    const port = caps['appium:adbPort'] ?? 5037;
    return new AppiumError(
      'session-failed',
      `${what}: ${firstLine(text)}`,
      `the adb server phonehome uses does not list ${String(caps['appium:udid'] ?? 'the phone')}: check the cable or Wi-Fi debugging and \`adb -P ${String(port)} devices\``,
      { cause: err },
    );
  }
  const obstacle = explainObstacle(text);
  return new AppiumError('session-failed', `${what}: ${firstLine(text)}`, obstacle?.advice, { cause: err });
}

/** Maps a failed WebDriver call to an AppiumError. */
export function commandError(err: unknown, what: string): AppiumError {
  if (err instanceof AppiumError) return err;
  const name = w3cError(err);
  const text = errorText(err);
  if (name === 'no such element' || /no such element|could not be located/i.test(text))
    return new AppiumError('no-such-element', `${what}: no element matched`, undefined, { cause: err });
  if (name === 'invalid session id' || /invalid session id|session is either terminated/i.test(text))
    return new AppiumError('session-lost', `${what}: the session is gone (${firstLine(text)})`, undefined, {
      cause: err,
    });
  const obstacle = explainObstacle(text);
  return new AppiumError('command-failed', `${what}: ${firstLine(text)}`, obstacle?.advice, { cause: err });
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim()) ?? text;
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/** Runs WebDriver calls under a deadline; the shape of AppiumSession.run, which the UI helpers use. */
export type CallRunner = <T>(what: string, op: OpOptions, fn: (browser: Browser) => Promise<T>) => Promise<T>;

/** What PhoneSessions needs to make a phone's session. */
export interface PhoneSessionSpec {
  serial: string;
  capabilities: Capabilities;
}

/**
 * One session per phone, reused across its scenarios and made anew when it is gone (server
 * restarted, session expired, deleted).
 */
export class PhoneSessions {
  readonly #sessions = new Map<string, AppiumSession>();

  constructor(
    readonly endpoint: AppiumEndpoint,
    readonly defaults: Pick<SessionOptions, 'createDeadlineMs' | 'commandDeadlineMs'> = {},
  ) {}

  /** The phone's session: the current one if still usable, else a new one. */
  async get(phone: PhoneSessionSpec, op: OpOptions = {}): Promise<AppiumSession> {
    // A local Appium that died (killed, crashed) since the last call is started again first; its
    // sessions are gone with it (the restart bumps the generation).
    await this.endpoint.ensureRunning?.(op);
    const current = this.#sessions.get(phone.serial);
    if (current?.usable) return current;
    this.#sessions.delete(phone.serial);
    const session = await AppiumSession.create({
      endpoint: this.endpoint,
      capabilities: phone.capabilities,
      name: phone.serial,
      ...this.defaults,
      ...(op.deadlineMs !== undefined ? { createDeadlineMs: op.deadlineMs } : {}),
      ...(op.signal ? { signal: op.signal } : {}),
    });
    this.#sessions.set(phone.serial, session);
    return session;
  }

  /**
   * Runs calls on the phone's current session, making one when needed. A call that finds the session
   * gone (Appium ended it after newCommandTimeout, e.g. during a long idle capture) is tried once more
   * on a new session: the command never ran, so nothing happens twice.
   */
  runner(phone: PhoneSessionSpec): CallRunner {
    return async (what, op, fn) => {
      const until = op.deadlineMs === undefined ? undefined : Date.now() + op.deadlineMs;
      const left = () => (until === undefined ? {} : { deadlineMs: Math.max(0, until - Date.now()) });
      const signal = op.signal ? { signal: op.signal } : {};
      for (let attempt = 1; ; attempt++) {
        const session = await this.get(phone, { ...left(), ...signal });
        try {
          return await session.run(what, { ...left(), ...signal }, fn);
        } catch (err) {
          if (attempt === 1 && err instanceof AppiumError && err.kind === 'session-lost') continue;
          throw err;
        }
      }
    };
  }

  /** Deletes the phone's session. */
  async close(serial: string, op: OpOptions = {}): Promise<void> {
    const s = this.#sessions.get(serial);
    this.#sessions.delete(serial);
    await s?.delete(op);
  }

  /** Deletes every session; failures are collected, not thrown one by one. */
  async closeAll(op: OpOptions = {}): Promise<Error[]> {
    const all = [...this.#sessions.keys()];
    const results = await Promise.allSettled(all.map((serial) => this.close(serial, op)));
    return results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  }
}
