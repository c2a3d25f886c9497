/**
 * What every shell command of the simulated phone gets (CommandContext) and what it may reach on the
 * phone (PhoneEnv). Command families live in *-commands.ts files beside this one.
 */
import type { Duplex, Readable, Writable } from 'node:stream';
import type { PhoneNet } from '../contracts.js';
import type { DeviceState } from './device-state.js';

/** What an `am instrument` run hands to the hook that plays the instrumentation (e.g. the UiAutomator2 server). */
export interface InstrumentRun {
  /** The instrumentation component, e.g. io.appium.uiautomator2.server.test/androidx.test.runner.AndroidJUnitRunner. */
  component: string;
  /** The package under test (the instrumentation's targetPackage). */
  targetPackage: string;
  /** `-e KEY VALUE` arguments. */
  args: Record<string, string>;
  /** Started with `--no-window-animation`: window and transition animations are off while it runs. */
  noWindowAnimation: boolean;
  /** Aborts when the instrumentation ends: am force-stop of either package, the client went away, a reboot. */
  signal: AbortSignal;
  /** The phone's state (screen, foreground activity, display size …). */
  state: DeviceState;
  /** Makes a TCP port on the phone accept connections (what `adb forward tcp:X tcp:PORT` reaches); returns a function that stops listening. */
  listen(port: number, onConnection: (stream: Duplex) => void): () => void;
  /** Writes a line to the `am instrument` output (INSTRUMENTATION_STATUS lines and the like). */
  print(line: string): void;
  /** Runs a shell command line on the phone, e.g. `input tap X Y` for a click or `screencap -p`. */
  exec(line: string): Promise<{ stdout: Buffer; stderr: string; code: number }>;
  /**
   * The instrumentation ends by itself (e.g. the UiAutomator2 server after DELETE /session): its
   * process and ports go, and `am instrument -w` prints its result and returns.
   */
  finish(): void;
}

/** Called when an instrumentation starts; it runs until `run.signal` aborts. */
export type InstrumentHook = (run: InstrumentRun) => void | Promise<void>;

/** What commands can reach on the phone. */
export interface PhoneEnv {
  /** The device state. */
  readonly state: DeviceState;
  /** Host directory standing for the phone's "/". */
  readonly rootDir: string;
  /** Maps a phone path to a host path inside rootDir (undefined when it escapes), through the mounts. */
  hostPath(phonePath: string): string | undefined;
  /** Mounts made since boot (mount-commands.ts): phone folder → the host folder it shows. */
  readonly mounts: Map<string, string>;
  /** The network side, when the phone has one. */
  readonly net: PhoneNet | undefined;
  /** How much faster than the wall clock phone time runs (1: as fast). */
  readonly speed: number;
  /** Plays instrumentations (am instrument). */
  readonly onInstrument: InstrumentHook | undefined;
  /** TCP listeners on the phone, by port. */
  readonly listeners: Map<number, (stream: Duplex) => void>;
  /** Phone-side ends of open TCP connections, by port (closed when the listening process dies). */
  readonly openStreams: Map<number, Set<Duplex>>;
  /** Running instrumentations, by component. */
  readonly instrumentations: Map<string, { targetPackage: string; stop(): void }>;
  /** Names of the commands the shell knows (for `which`). */
  readonly commandNames: ReadonlySet<string>;
  /** Runs a command line on the phone as the shell user, collecting its output (for hooks). */
  exec(line: string, signal?: AbortSignal): Promise<{ stdout: Buffer; stderr: string; code: number }>;
  /** PCAPdroid's running on-phone capture, if any. */
  pcapCapture: { stop(): Promise<{ packets: number }> } | undefined;
}

/** One command invocation. */
export interface CommandContext {
  /** The command name as typed (basename for /system/bin/NAME). */
  name: string;
  /** Arguments after the name. */
  args: string[];
  /** Environment (exported and per-command variables). */
  env: Record<string, string>;
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** Aborts when the client goes away or a pipe reader stopped. */
  signal: AbortSignal;
  /** The phone. */
  phone: PhoneEnv;
  /** 2000 for the adb shell user, 0 under su. */
  uid: number;
  /** Runs a command line in a child shell (sh -c, su -c) with this command's streams. */
  run(line: string, opts?: { uid?: number }): Promise<number>;
  /** Writes to stdout (waits for the reader when it is slow). */
  out(data: string | Buffer): Promise<void>;
  /** Writes to stderr. */
  err(data: string): Promise<void>;
}

/** A command: resolves with its exit status. */
export type CommandHandler = (c: CommandContext) => Promise<number>;

/** Writes to a stream, waiting for 'drain' when it is full; never throws for a closed stream. */
export function writeTo(stream: Writable, data: string | Buffer, signal?: AbortSignal): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let ok: boolean;
    try {
      ok = stream.write(data);
    } catch {
      resolve();
      return;
    }
    if (ok) {
      resolve();
      return;
    }
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Reads a stream to its end (or until the signal aborts). */
export async function readAllFrom(stream: Readable, signal: AbortSignal, limit = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve) => {
    const finish = () => {
      stream.off('data', onData);
      stream.off('end', finish);
      stream.off('close', finish);
      stream.off('error', finish);
      signal.removeEventListener('abort', finish);
      stream.pause();
      resolve();
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      chunks.push(b);
      size += b.length;
      if (size >= limit) finish();
    };
    if (signal.aborted || stream.readableEnded) {
      resolve();
      return;
    }
    stream.on('data', onData);
    stream.on('end', finish);
    stream.on('close', finish);
    stream.on('error', finish);
    signal.addEventListener('abort', finish, { once: true });
  });
  const all = Buffer.concat(chunks);
  return size > limit ? all.subarray(0, limit) : all;
}

/** Waits ms or until the signal aborts; true if the full time passed. */
export function sleepFor(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve(false);
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
