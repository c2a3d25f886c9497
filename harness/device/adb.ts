/**
 * The only file that talks to the adb server (through adbkit). Every operation takes a deadline and an
 * AbortSignal. adbkit's own `timeout` aborts nothing, its promises are Bluebird and its streams emit
 * `error`; all of that is wrapped here so that callers see a typed DeviceLostError when the phone goes
 * away, an AdbCommandError when a command fails or overruns, and never a hang or an unhandled rejection.
 */
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import adbkit, { type Client, type DeviceClient } from '@devicefarmer/adbkit';
import { type OpOptions, race, sleep } from '../deadline.js';
import { AdbCommandError, AdbServerLostError, DeviceLostError, errorMessage } from '../errors.js';

/** Where the adb server is. */
export interface AdbServerAddress {
  /** Host of the adb server; 127.0.0.1 for a local one. */
  host: string;
  /** Port of the adb server (adb's -P). */
  port: number;
}

/** A phone as the adb server lists it. */
export interface ListedDevice {
  /** Serial, or host:port for a phone on the network. */
  serial: string;
  /** adb's state word: device, offline, unauthorized, authorizing, connecting, no permissions, … */
  state: string;
}

/** The output of a shell command run with its exit status. */
export interface ShellResult {
  /** Standard output and standard error, merged (adbkit's shell service merges them). */
  output: Buffer;
  /** The command's exit status. */
  exitCode: number;
}

const DEFAULT_DEADLINE_MS = 20_000;
/** adbkit is CommonJS: its class sits on the module object. */
const { Adb } = adbkit;

type Thenable<T> = PromiseLike<T> & { catch?(f: (e: unknown) => unknown): unknown };

/** Error messages by which adb says a device is not there (any more). */
const LOST_PATTERNS = [
  /device '.*' not found/i,
  /device not found/i,
  /device offline/i,
  /no devices/i,
  /closed/i,
];

function isLostMessage(err: unknown): boolean {
  const msg = errorMessage(err);
  return LOST_PATTERNS.some((re) => re.test(msg));
}

/**
 * Races adb work against its deadline (20 s unless told) and signal: AdbCommandError at the deadline,
 * the signal's reason when aborted; `onCancel` runs either way. Bluebird reports unhandled
 * rejections on its own, so the work always gets a handler (race() gives it one).
 */
export function adbDeadline<T>(
  what: string,
  work: Thenable<T>,
  opts: OpOptions,
  onCancel?: () => void,
): Promise<T> {
  return race(
    work,
    opts,
    (end) =>
      end.why === 'timeout'
        ? new AdbCommandError(what, undefined, `no answer within ${end.ms} ms`)
        : (end.reason ?? new Error('aborted')),
    { defaultMs: DEFAULT_DEADLINE_MS, ...(onCancel ? { onCancel } : {}) },
  );
}

/** Reads a stream to its end, within the deadline; destroys it when cancelled. */
export function readAll(stream: Readable, what: string, opts: OpOptions): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
    stream.once('close', () => resolve(Buffer.concat(chunks)));
  });
  return adbDeadline(what, done, opts, () => stream.destroy());
}

/**
 * One host service of the adb server, on a connection of its own (the smart-socket protocol: the
 * request as 4 hex digits of length and the text; the answer "OKAY" and, for services that answer,
 * a length-prefixed text, or "FAIL" and a length-prefixed message). Resolves with the answer's text;
 * rejects with AdbCommandError for FAIL. For the host services adbkit has no call for (reconnect).
 */
export function adbHostRequest(
  server: AdbServerAddress,
  service: string,
  opts: OpOptions = {},
): Promise<string> {
  const socket = connect({ host: server.host, port: server.port });
  const chunks: Buffer[] = [];
  const done = new Promise<string>((resolve, reject) => {
    socket.once('connect', () => {
      const body = Buffer.from(service, 'utf8');
      socket.write(`${body.length.toString(16).padStart(4, '0')}`);
      socket.write(body);
    });
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('error', reject);
    socket.once('close', () => {
      const all = Buffer.concat(chunks);
      const status = all.subarray(0, 4).toString('latin1');
      const length = Number.parseInt(all.subarray(4, 8).toString('latin1'), 16);
      const text = Number.isNaN(length) ? '' : all.subarray(8, 8 + length).toString('utf8');
      if (status === 'OKAY') resolve(text);
      else if (status === 'FAIL') reject(new AdbCommandError(service, undefined, text || 'FAIL'));
      else reject(new AdbCommandError(service, undefined, `unexpected answer ${JSON.stringify(status)}`));
    });
  });
  return adbDeadline(service, done, { deadlineMs: 5_000, ...opts }, () => socket.destroy());
}

/** How a lost phone's wait for its return ended. */
export interface PhoneReturn {
  /** True when the phone is listed as `device` again and answers a shell command. */
  back: boolean;
  /** Milliseconds waited. */
  ms: number;
  /** `adb reconnect` requests made for it. */
  reconnects: number;
  /** In words: how it came back, or how the adb server last listed it. */
  detail: string;
}

/** A connection to one adb server. */
export class AdbClient {
  /** The adbkit client; private to this file's classes. */
  readonly #client: Client;

  /** Starts the server again when it went away (set by ensureAdbServer for a local server). */
  #restart: (() => Promise<unknown>) | undefined;
  /** A restart under way: commands wait for it. */
  #restarting: Promise<void> | undefined;
  /** How many times the server was started again: a command that saw it change was cut by the loss. */
  #restarts = 0;
  #lastRecovery = '';

  /** Counts the server's restarts (see serverLost). */
  get restarts(): number {
    return this.#restarts;
  }

  constructor(readonly server: AdbServerAddress) {
    // adbkit starts a server itself when its connection is refused (`bin start-server`), which would
    // hide a server that went away mid-run behind a phone that looks lost. phonehome starts the server
    // (ensureAdbServer) and notices its loss (serverLost): adbkit's own start is made to fail.
    this.#client = Adb.createClient({ host: server.host, port: server.port, bin: 'false' });
    // adbkit's client re-emits socket errors; without a listener they would crash the process.
    this.#client.on('error', () => {});
  }

  /** How to start the server again when it goes away mid-run. */
  restartWith(restart: () => Promise<unknown>): void {
    this.#restart = restart;
  }

  /** Resolves once a restart under way is over (at once when there is none). */
  async ready(): Promise<void> {
    await this.#restarting;
  }

  /** True when the server answers host:version within 2 s. */
  async answers(): Promise<boolean> {
    await this.#restarting;
    try {
      await this.version({ deadlineMs: 2_000 });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The server went away during `command`: started again when phonehome may (one restart for every
   * command cut at once). Resolves with the error for the command.
   */
  async serverLost(command: string, cause: unknown, since?: number): Promise<AdbServerLostError> {
    const where = `${this.server.host}:${this.server.port}`;
    // Another command saw the loss first and the server is back already.
    if (since !== undefined && since !== this.#restarts && !this.#restarting)
      return new AdbServerLostError(where, command, this.#lastRecovery, { cause });
    if (!this.#restart)
      return new AdbServerLostError(where, command, "it is not phonehome's to restart", { cause });
    this.#restarting ??= this.#restart()
      .then(
        () => {
          this.#lastRecovery = 'it was started again';
        },
        (err: unknown) => {
          this.#lastRecovery = `starting it again failed: ${errorMessage(err)}`;
        },
      )
      .finally(() => {
        this.#restarts += 1;
        this.#restarting = undefined;
      });
    await this.#restarting;
    return new AdbServerLostError(where, command, this.#lastRecovery, { cause });
  }

  /** The adb server's protocol version, or an error when it does not answer. */
  version(opts: OpOptions = {}): Promise<number> {
    return adbDeadline('host:version', this.#client.version(), { deadlineMs: 5_000, ...opts });
  }

  /** The phones the server knows, in every state. */
  async listDevices(opts: OpOptions = {}): Promise<ListedDevice[]> {
    const list = await adbDeadline('host:devices', this.#client.listDevices(), opts);
    return list.map((d) => ({ serial: d.id, state: d.type }));
  }

  /** `adb connect HOST:PORT` for a phone on the network (or a simulated phone). */
  async connect(host: string, port: number, opts: OpOptions = {}): Promise<string> {
    return adbDeadline(`host:connect:${host}:${port}`, this.#client.connect(host, port), opts);
  }

  /** `adb disconnect HOST:PORT`. */
  async disconnect(host: string, port: number, opts: OpOptions = {}): Promise<void> {
    await adbDeadline(`host:disconnect:${host}:${port}`, this.#client.disconnect(host, port), opts);
  }

  /**
   * Live phone list: calls onChange with the full list each time it changes, until the signal aborts.
   * Resolves when tracking ends (abort, or the adb server went away: then with that error).
   */
  async track(
    onChange: (devices: ListedDevice[]) => void,
    opts: OpOptions & { signal: AbortSignal },
  ): Promise<void> {
    const tracker = await adbDeadline('host:track-devices', this.#client.trackDevices(), {
      deadlineMs: opts.deadlineMs ?? 5_000,
      signal: opts.signal,
    });
    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        tracker.end();
        resolve();
      };
      tracker.on('changeSet', () => {
        const list = (tracker as unknown as { deviceList: { id: string; type: string }[] }).deviceList;
        onChange(list.map((d) => ({ serial: d.id, state: d.type })));
      });
      tracker.on('error', (err: unknown) => {
        opts.signal.removeEventListener('abort', stop);
        reject(err);
      });
      tracker.on('end', () => {
        opts.signal.removeEventListener('abort', stop);
        resolve();
      });
      if (opts.signal.aborted) stop();
      else opts.signal.addEventListener('abort', stop, { once: true });
    });
  }

  /**
   * `adb -s SERIAL reconnect`: the server drops that phone's transport and connects it again (a USB
   * phone is enumerated again, a network one reconnected). Only that phone: the server and the other
   * phones on it go on. Resolves with the server's answer ("reconnecting SERIAL [offline]"); rejects
   * with AdbCommandError when the server has no such phone.
   */
  async reconnect(serial: string, opts: OpOptions = {}): Promise<string> {
    const service = `host-serial:${serial}:reconnect`;
    const answer = await adbHostRequest(this.server, service, opts);
    // The server says OKAY even when it has no such phone: its answer tells.
    if (/not found|no devices/i.test(answer)) throw new AdbCommandError(service, undefined, answer.trim());
    return answer;
  }

  /** A handle on one phone. */
  device(serial: string): AdbDevice {
    return new AdbDevice(this, this.#client.getDevice(serial), serial);
  }
}

/** One phone, through the adb server. */
export class AdbDevice {
  readonly #device: DeviceClient;

  constructor(
    readonly client: AdbClient,
    device: DeviceClient,
    readonly serial: string,
  ) {
    this.#device = device;
  }

  /** True when the adb server lists this phone as `device` (answers within a short deadline). */
  async isPresent(): Promise<boolean> {
    try {
      const list = await this.client.listDevices({ deadlineMs: 2_000 });
      return list.some((d) => d.serial === this.serial && d.state === 'device');
    } catch {
      return false;
    }
  }

  /**
   * Waits for this phone to come back after it was lost (a cable pulled and put back, a USB hub reset,
   * a reboot), up to the deadline: back when the adb server lists it as `device` and it answers a
   * shell command. While it is listed `offline` it is asked to reconnect (`adb -s SERIAL reconnect`);
   * a phone on the network (serial HOST:PORT) that is no longer listed is connected again (`adb
   * connect`); each at most every 10 s. A USB phone not listed can only be waited for. Never
   * restarts or kills the adb server, which other phones use.
   */
  async waitForReturn(opts: { deadlineMs: number; signal?: AbortSignal }): Promise<PhoneReturn> {
    const t0 = performance.now();
    const elapsed = () => Math.round(performance.now() - t0);
    let reconnects = 0;
    let askedAt = Number.NEGATIVE_INFINITY;
    let last = 'not listed by the adb server';
    while (elapsed() < opts.deadlineMs && !opts.signal?.aborted) {
      const listed = await this.client.listDevices({ deadlineMs: 2_000 }).catch(() => undefined);
      const me = listed?.find((d) => d.serial === this.serial);
      last =
        listed === undefined
          ? 'the adb server did not answer'
          : me
            ? `listed as ${me.state}`
            : 'not listed by the adb server';
      if (me?.state === 'device') {
        const answered = await this.sh('echo phonehome', { deadlineMs: 5_000 }).then(
          (out) => out.trim() === 'phonehome',
          () => false,
        );
        if (answered)
          return {
            back: true,
            ms: elapsed(),
            reconnects,
            detail: `back after ${(elapsed() / 1000).toFixed(1)} s${reconnects ? ` and ${reconnects} adb reconnect${reconnects === 1 ? '' : 's'}` : ''}`,
          };
        last = 'listed as device but not answering';
      } else if (listed && performance.now() - askedAt >= 10_000) {
        // Listed offline: the server reconnects that phone. Not listed: a phone on the network
        // (HOST:PORT, adb connect) is connected again, as the person who connected it would.
        const network = /^(.+):(\d{1,5})$/.exec(this.serial);
        if (me?.state === 'offline') {
          askedAt = performance.now();
          reconnects++;
          await this.client.reconnect(this.serial, { deadlineMs: 5_000 }).catch(() => undefined);
        } else if (!me && network) {
          askedAt = performance.now();
          reconnects++;
          await this.client
            .connect(network[1]!, Number(network[2]), { deadlineMs: 5_000 })
            .catch(() => undefined);
        }
      }
      await sleep(500, opts.signal).catch(() => undefined);
    }
    return { back: false, ms: elapsed(), reconnects, detail: last };
  }

  /** Turns an error from adbkit into DeviceLostError when the phone is gone, else AdbCommandError. */
  async #explain(command: string, err: unknown, since: number): Promise<Error> {
    if (err instanceof DeviceLostError) return err;
    if (err instanceof Error && err.name === 'AbortError') return err;
    if (err instanceof AdbServerLostError) return err;
    const restarted = since !== this.client.restarts;
    if (restarted || !(await this.client.answers())) return this.client.serverLost(command, err, since);
    if (isLostMessage(err) || !(await this.isPresent())) {
      return new DeviceLostError(this.serial, `device ${this.serial} was lost during: ${command}`, {
        cause: err,
      });
    }
    if (err instanceof AdbCommandError) return err;
    const msg = errorMessage(err);
    return new AdbCommandError(command, undefined, msg, { cause: err });
  }

  async #op<T>(command: string, work: () => Thenable<T>, opts: OpOptions, onCancel?: () => void): Promise<T> {
    await this.client.ready();
    const since = this.client.restarts;
    try {
      return await adbDeadline(command, work(), opts, onCancel);
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw await this.#explain(command, err, since);
    }
  }

  /** Opens a raw shell stream (adbkit's legacy `shell:` service): for long-running commands like logcat. */
  async shellStream(command: string, opts: OpOptions = {}): Promise<Duplex> {
    const stream = await this.#op(`shell:${command}`, () => this.#device.shell(command), opts);
    stream.on('error', () => {});
    if (opts.signal) {
      const s = opts.signal;
      const end = () => stream.destroy();
      if (s.aborted) end();
      else s.addEventListener('abort', end, { once: true });
      stream.once('close', () => s.removeEventListener('abort', end));
    }
    return stream;
  }

  /**
   * Runs a shell command and returns its output and exit status. The legacy shell service carries no
   * exit status, so a unique marker line with `$?` is appended; output without the marker means the
   * stream was cut: the phone went away.
   */
  async shell(command: string, opts: OpOptions = {}): Promise<ShellResult> {
    const marker = `__phonehome_exit_${randomBytes(6).toString('hex')}:`;
    // In a child shell, so that an `exit N` in the command still lets the marker line through.
    const full = `sh -c ${shellQuote(command)}; echo "${marker}$?"`;
    const deadline = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const started = Date.now();
    await this.client.ready();
    const since = this.client.restarts;
    const stream = await this.shellStream(full, { ...opts, deadlineMs: deadline });
    let output: Buffer;
    try {
      output = await readAll(stream, `shell:${command}`, {
        ...opts,
        deadlineMs: Math.max(1, deadline - (Date.now() - started)),
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw await this.#explain(command, err, since);
    }
    const text = output.toString('latin1');
    const at = text.lastIndexOf(marker);
    if (at < 0) {
      if (since !== this.client.restarts || !(await this.client.answers()))
        throw await this.client.serverLost(command, undefined, since);
      if (!(await this.isPresent())) {
        throw new DeviceLostError(this.serial, `device ${this.serial} was lost during: ${command}`);
      }
      throw new AdbCommandError(command, undefined, 'the shell ended without an exit status');
    }
    const exitCode = Number.parseInt(text.slice(at + marker.length), 10);
    return { output: output.subarray(0, at), exitCode: Number.isFinite(exitCode) ? exitCode : 255 };
  }

  /** Runs a shell command that must succeed; returns its output as text (\r\n normalised). */
  async sh(command: string, opts: OpOptions = {}): Promise<string> {
    const r = await this.shell(command, opts);
    const text = r.output.toString('utf8').replace(/\r\n/g, '\n');
    if (r.exitCode !== 0) throw new AdbCommandError(command, r.exitCode, text);
    return text;
  }

  /** All system properties (getprop). */
  async getProperties(opts: OpOptions = {}): Promise<Record<string, string>> {
    const text = await this.sh('getprop', opts);
    return parseGetprop(text);
  }

  /** Pushes bytes or a local file to a path on the phone. */
  async push(
    contents: string | Readable,
    remotePath: string,
    opts: OpOptions & { mode?: number } = {},
  ): Promise<void> {
    await this.#op(
      `push:${remotePath}`,
      () =>
        this.#device.push(contents, remotePath, opts.mode ?? 0o644).then(
          (transfer) =>
            new Promise<void>((resolve, reject) => {
              transfer.on('end', () => resolve());
              transfer.on('error', reject);
            }),
        ),
      opts,
    );
  }

  /** Pulls a file from the phone into memory. */
  async pull(remotePath: string, opts: OpOptions = {}): Promise<Buffer> {
    return this.#op(
      `pull:${remotePath}`,
      () =>
        this.#device.pull(remotePath).then(
          (transfer) =>
            new Promise<Buffer>((resolve, reject) => {
              const chunks: Buffer[] = [];
              transfer.on('data', (c: Buffer) => chunks.push(c));
              transfer.on('end', () => resolve(Buffer.concat(chunks)));
              transfer.on('error', reject);
            }),
        ),
      opts,
    );
  }

  /** A PNG screenshot (screencap -p). */
  async screencap(opts: OpOptions = {}): Promise<Buffer> {
    const stream = await this.#op('screencap', () => this.#device.screencap(), opts);
    stream.on('error', () => {});
    const png = await readAll(stream, 'screencap', opts);
    if (png.length < 8 || png.readUInt32BE(0) !== 0x89504e47) {
      throw new AdbCommandError('screencap -p', undefined, 'the phone did not return a PNG');
    }
    return png;
  }

  /** Installs an APK from a local path (push + pm install). */
  async install(apkPath: string, opts: OpOptions = {}): Promise<void> {
    await this.#op(`install:${apkPath}`, () => this.#device.install(apkPath), {
      deadlineMs: 60_000,
      ...opts,
    });
  }

  /** `adb forward LOCAL REMOTE`, e.g. ("tcp:8200", "tcp:6790"). */
  async forward(local: string, remote: string, opts: OpOptions = {}): Promise<void> {
    await this.#op(`forward:${local};${remote}`, () => this.#device.forward(local, remote), opts);
  }

  /** Opens a TCP connection to a port on the phone through the adb server. */
  async openTcp(port: number, opts: OpOptions = {}): Promise<Duplex> {
    const s = await this.#op(`tcp:${port}`, () => this.#device.openTcp(port), opts);
    s.on('error', () => {});
    return s;
  }

  /** Reboots the phone (returns once the command was accepted). */
  async reboot(opts: OpOptions = {}): Promise<void> {
    await this.#op('reboot', () => this.#device.reboot(), opts);
  }

  /**
   * Waits until the phone is listed as `device` again and sys.boot_completed is 1, polling; errors
   * while it is away are expected and ignored until the deadline.
   */
  async waitBootCompleted(opts: OpOptions = {}): Promise<void> {
    const ms = opts.deadlineMs ?? 120_000;
    const until = Date.now() + ms;
    while (Date.now() < until) {
      opts.signal?.throwIfAborted();
      if (await this.isPresent()) {
        try {
          const r = await this.shell('getprop sys.boot_completed', {
            deadlineMs: 5_000,
            signal: opts.signal,
          });
          if (r.output.toString().trim() === '1') return;
        } catch (err) {
          if (opts.signal?.aborted) throw err;
        }
      }
      await sleep(500, opts.signal);
    }
    throw new DeviceLostError(this.serial, `device ${this.serial} did not finish booting within ${ms} ms`);
  }
}

/** Single-quotes a word for the phone's /system/bin/sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Parses `getprop` output: lines "[key]: [value]". */
export function parseGetprop(text: string): Record<string, string> {
  const props: Record<string, string> = {};
  const re = /^\[([^\]]+)\]: \[([^\]]*)\]/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) props[m[1]!] = m[2]!;
  return props;
}
