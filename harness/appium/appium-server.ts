/**
 * The Appium server phonehome talks to: a local Appium 3 process that phonehome starts from its own
 * dependencies (node_modules/appium, APPIUM_HOME = the project's .appium), or a configured remote URL
 * used as it is. The local one listens on 127.0.0.1 only, uses phonehome's adb server and adb binary,
 * logs to a file in the run folder, and is watched: if it exits while in use, callers get
 * AppiumError 'crashed' instead of waiting for a dead socket.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { msLeft, type OpOptions } from '../deadline.js';
import { type AdbServerConfig, DEFAULT_ADB } from '../device/adb-server.js';
import { AppiumError } from '../errors.js';
import { ensureAndroidHome, installedDrivers, projectRoot } from './appium-install.js';
import { descendants, freePort, portIsFree, signalChild, watchForExit } from './appium-process.js';
import { appiumDeadline, delay } from './deadline.js';

const SETUP_ADVICE = 'run make setup (scripts/appium-setup.sh installs the drivers into .appium)';

/** A running Appium server, local or remote: what sessions need from it. */
export interface AppiumEndpoint {
  /** Base URL, e.g. http://127.0.0.1:4723/. */
  readonly url: URL;
  /** Bumped by every restart: sessions made on an older generation are gone. */
  readonly generation: number;
  /**
   * Rejects once the server can no longer be used: AppiumError 'crashed' when the local process exited
   * on its own, 'session-lost' when it was stopped. Undefined for a remote server, whose failures show
   * as failed requests.
   */
  failure(): Promise<never> | undefined;
  /** Starts a local server again when it is gone (crashed, killed); absent for a remote one. */
  ensureRunning?(op?: OpOptions): Promise<void>;
}

/** A remote Appium server: nothing is started or stopped. */
export function remoteAppium(url: string): AppiumEndpoint {
  const u = new URL(url);
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return { url: u, generation: 0, failure: () => undefined };
}

/** How to start the local server. */
export interface AppiumServerOptions {
  /** Appium's own log (stdout and stderr), normally in the run folder. */
  logFile: string;
  /** Port on 127.0.0.1; a free one is picked when absent or 0. */
  port?: number;
  /** The adb server and binary the driver must use (phonehome's own). */
  adb?: AdbServerConfig;
  /** APPIUM_HOME; the project's .appium by default. */
  appiumHome?: string;
  /** The project root (holds node_modules/appium); found from this file by default. */
  root?: string;
  /** automationNames that must be installed in APPIUM_HOME; UiAutomator2 by default. */
  drivers?: string[];
  /** Appium's --log-level; "info" by default. */
  logLevel?: string;
  /** Deadline for the process to answer GET /status, ms (default 60 000). */
  startDeadlineMs?: number;
  signal?: AbortSignal;
}

const TAIL_LINES = 40;

/**
 * The line with each secret replaced by "[typed text]" in the forms Appium's log shows a typed text in:
 * as it is, JSON-escaped, and as a JSON array of its characters (W3C's `value`).
 */
export function maskSecrets(line: string, secrets: Iterable<string>): string {
  let out = line;
  for (const secret of secrets) {
    if (secret === '') continue;
    const chars = [...secret].map((c) => JSON.stringify(c));
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), chars.join(','), chars.join(', ')])
      out = out.split(form).join('[typed text]');
  }
  return out;
}

/** A local Appium 3 server process. */
export class AppiumServer implements AppiumEndpoint {
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #tail: string[] = [];
  #failure: Promise<never> | undefined;
  #stopping = false;
  #generation = 0;
  #port: number;
  readonly #autoPort: boolean;
  /** Milliseconds the last start took, spawn to a ready /status. */
  startMs = 0;
  /** Texts typed into phones (accounts, passwords), masked wherever Appium's log would show them. */
  readonly #secrets = new Set<string>();

  private constructor(
    readonly options: Required<Pick<AppiumServerOptions, 'logFile' | 'appiumHome' | 'root' | 'adb'>> &
      AppiumServerOptions,
    port: number,
  ) {
    this.#port = port;
    this.#autoPort = !options.port;
  }

  /** Starts a server and resolves once GET /status answers ready. Throws AppiumError. */
  static async start(options: AppiumServerOptions): Promise<AppiumServer> {
    const root = options.root ?? projectRoot();
    const appiumHome = options.appiumHome ?? join(root, '.appium');
    const adb = options.adb ?? DEFAULT_ADB;
    const server = new AppiumServer({ ...options, root, appiumHome, adb }, options.port ?? 0);
    await server.#checkInstall();
    await server.#launch();
    return server;
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${this.#port}/`);
  }
  get port(): number {
    return this.#port;
  }
  get generation(): number {
    return this.#generation;
  }
  /** PID of the Appium process, while it runs. */
  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }
  get running(): boolean {
    return !!this.#child && this.#child.exitCode === null && this.#child.signalCode === null;
  }
  /**
   * Masks `text` in the server's log and tail from now on: Appium logs each command's arguments,
   * so a text typed into a phone would be there as it is, JSON-escaped, or as an array of characters.
   */
  redact(text: string): void {
    if (text.length > 0) this.#secrets.add(text);
  }

  /** A line of Appium's output with every secret masked. */
  #masked(line: string): string {
    return maskSecrets(line, this.#secrets);
  }

  /** Last lines Appium printed, for error messages. */
  get tail(): string {
    return this.#tail.join('\n');
  }

  failure(): Promise<never> | undefined {
    return this.#failure;
  }

  async #checkInstall(): Promise<void> {
    const main = join(this.options.root, 'node_modules', 'appium', 'index.js');
    if (!existsSync(main))
      throw new AppiumError('not-installed', `Appium is not installed (${main} is missing)`, SETUP_ADVICE);
    const wanted = this.options.drivers ?? ['UiAutomator2'];
    const have = [...(await installedDrivers(this.options.appiumHome)).values()].map((d) =>
      d.automationName.toLowerCase(),
    );
    const missing = wanted.filter((w) => !have.includes(w.toLowerCase()));
    if (missing.length)
      throw new AppiumError(
        'not-installed',
        `Appium driver${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not installed in ${this.options.appiumHome}`,
        SETUP_ADVICE,
      );
  }

  async #launch(): Promise<void> {
    const deadlineMs = this.options.startDeadlineMs ?? 60_000;
    const until = Date.now() + deadlineMs;
    for (let attempt = 1; ; attempt++) {
      if (this.#autoPort) this.#port = await freePort();
      else if (!(await portIsFree(this.#port)))
        throw new AppiumError(
          'port-in-use',
          `cannot start Appium on 127.0.0.1:${this.#port}: another program listens on that port`,
          'stop it, or leave the Appium port unset so that phonehome picks a free one',
        );
      try {
        await this.#spawnAndWait(until);
        return;
      } catch (err) {
        // An automatically picked port can be taken between the check and Appium's listen: try another.
        if (err instanceof AppiumError && err.kind === 'port-in-use' && this.#autoPort && attempt < 3)
          continue;
        throw err;
      }
    }
  }

  async #spawnAndWait(until: number): Promise<void> {
    const { root, appiumHome, adb, logFile } = this.options;
    const androidHome = await ensureAndroidHome(appiumHome, adb.bin);
    await mkdir(dirname(logFile), { recursive: true });
    this.#log?.end();
    const log = createWriteStream(logFile, { flags: 'a' });
    this.#log = log;
    this.#tail = [];
    const started = Date.now();
    const args = [
      join(root, 'node_modules', 'appium', 'index.js'),
      'server',
      '--address',
      '127.0.0.1',
      '--port',
      String(this.#port),
      '--log-no-colors',
      '--log-timestamp',
      '--log-level',
      this.options.logLevel ?? 'info',
    ];
    log.write(`# phonehome: ${process.execPath} ${args.join(' ')}\n`);
    const child = spawn(process.execPath, args, {
      cwd: root,
      // Same process group as phonehome: a Ctrl-C in the terminal reaches Appium too.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        APPIUM_HOME: appiumHome,
        ANDROID_HOME: androidHome,
        ANDROID_SDK_ROOT: androidHome,
        ANDROID_ADB_SERVER_PORT: String(adb.port),
        ...(isLocalHost(adb.host) ? {} : { ANDROID_ADB_SERVER_ADDRESS: adb.host }),
      },
    });
    this.#child = child;
    this.#stopping = false;
    this.#generation++;
    watchForExit(child);
    // Whole lines only, so that a secret cut between two chunks is still masked; an unfinished last
    // line is written when the process ends.
    let partial = '';
    const onData = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (let i = 0; i < lines.length; i++) lines[i] = this.#masked(lines[i]!);
      if (lines.length > 0) log.write(`${lines.join('\n')}\n`);
      this.#tail.push(...lines);
      if (this.#tail.length > TAIL_LINES) this.#tail.splice(0, this.#tail.length - TAIL_LINES);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', () => {
      if (partial && log.writable) log.write(`${this.#masked(partial)}\n`);
      partial = '';
    });

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => {
      child.once('exit', (code, signal) => res({ code, signal }));
      child.once('error', () => res({ code: null, signal: null }));
    });
    const generation = this.#generation;
    this.#failure = exited.then(({ code, signal }) => {
      const which = `the Appium server (pid ${child.pid}, port ${this.#port}${generation > 1 ? `, restart ${generation - 1}` : ''})`;
      // Stopped on purpose: its sessions are simply over.
      if (this.#stopping) throw new AppiumError('session-lost', `${which} was stopped`);
      const how = signal ? `killed by ${signal}` : `exited with code ${code}`;
      throw new AppiumError('crashed', `${which} ${how}`, `see ${logFile}`);
    });
    this.#failure.catch(() => {});

    const ready = async (signal: AbortSignal): Promise<void> => {
      for (;;) {
        try {
          const res = await fetch(new URL('status', this.url), {
            signal: AbortSignal.any([signal, AbortSignal.timeout(2_000)]),
          });
          const body = (await res.json()) as { value?: { ready?: boolean } };
          if (res.ok && body.value?.ready !== false) return;
        } catch {
          // not listening yet
        }
        if (signal.aborted) return;
        await delay(100, signal).catch(() => {});
      }
    };
    const failedToStart = exited.then(({ code, signal }) => {
      const text = this.tail;
      if (/EADDRINUSE|port may already be in use/.test(text))
        throw new AppiumError(
          'port-in-use',
          `cannot start Appium on 127.0.0.1:${this.#port}: the port is in use`,
        );
      if (/Could not find a driver|not installed/i.test(text))
        throw new AppiumError(
          'not-installed',
          `Appium could not load its drivers: ${lastLines(text, 3)}`,
          SETUP_ADVICE,
        );
      throw new AppiumError(
        'start-failed',
        `Appium ${signal ? `was killed by ${signal}` : `exited with code ${code}`} while starting: ${lastLines(text, 5)}`,
        `see ${logFile}`,
      );
    });
    try {
      await appiumDeadline(
        `Appium start on 127.0.0.1:${this.#port}`,
        { deadlineMs: msLeft(until), ...(this.options.signal ? { signal: this.options.signal } : {}) },
        ready,
        failedToStart,
      );
    } catch (err) {
      await this.stop({ deadlineMs: 5_000 });
      if (err instanceof AppiumError && err.kind === 'timeout')
        throw new AppiumError(
          'start-failed',
          `${err.message}: ${lastLines(this.tail, 5)}`,
          `see ${logFile}`,
          {
            cause: err,
          },
        );
      throw err;
    }
    this.startMs = Date.now() - started;
  }

  /**
   * Stops the server: SIGTERM (Appium ends its sessions), SIGKILL if it is still there at the deadline
   * (default 10 s), then SIGKILL to any process it spawned that outlived it. Resolves once it is gone.
   */
  async stop(op: OpOptions = {}): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#stopping = true;
    const gone = new Promise<void>((res) => {
      if (child.exitCode !== null || child.signalCode !== null) res();
      else child.once('exit', () => res());
    });
    const spawned = child.pid !== undefined && this.running ? await descendants(child.pid) : [];
    signalChild(child, 'SIGTERM');
    try {
      await appiumDeadline(
        'Appium stop',
        { deadlineMs: op.deadlineMs ?? 10_000, ...(op.signal ? { signal: op.signal } : {}) },
        () => gone,
      );
    } catch {
      signalChild(child, 'SIGKILL');
      await appiumDeadline('Appium kill', { deadlineMs: 5_000 }, () => gone).catch(() => {});
    }
    for (const pid of spawned) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ended with Appium
      }
    }
    await new Promise<void>((res) => (this.#log ? this.#log.end(res) : res()));
    this.#log = undefined;
  }

  /** Restarts the server if its process is gone (crashed or stopped); nothing when it runs. */
  async ensureRunning(op: OpOptions = {}): Promise<void> {
    // Two phones that find it gone at once share one restart.
    if (this.running) return;
    this.#restarting ??= this.restart(op).finally(() => {
      this.#restarting = undefined;
    });
    await this.#restarting;
  }
  #restarting: Promise<void> | undefined;

  /**
   * Stops the server if it still runs and starts a new one, on the same port when it is free. Sessions
   * of the old server are gone; `generation` tells session holders to make new ones.
   */
  async restart(op: OpOptions = {}): Promise<void> {
    await this.stop({ deadlineMs: 10_000, ...(op.signal ? { signal: op.signal } : {}) });
    const until = Date.now() + (op.deadlineMs ?? this.options.startDeadlineMs ?? 60_000);
    if (this.#autoPort && !(await portIsFree(this.#port))) this.#port = await freePort();
    await this.#spawnAndWait(until);
  }
}

function isLocalHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

function lastLines(text: string, n: number): string {
  return (
    text
      .split('\n')
      .filter((l) => l.trim())
      .slice(-n)
      .join(' | ') || '(no output)'
  );
}
