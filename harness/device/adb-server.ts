/**
 * The adb server phonehome uses: started by phonehome when it is local and not running, or a remote
 * one used as it is. Every part of phonehome (adbkit, Appium's adb, the adb CLI) must use this one
 * server and the same adb binary: two adb versions on one port kill each other's server.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { OpOptions } from '../deadline.js';
import { AdbCommandError, errorMessage } from '../errors.js';
import { AdbClient, type AdbServerAddress } from './adb.js';

const run = promisify(execFile);

/** Settings for the adb server. */
export interface AdbServerConfig extends AdbServerAddress {
  /** The adb binary; Debian's `adb` by default. */
  bin: string;
}

export const DEFAULT_ADB: AdbServerConfig = {
  host: '127.0.0.1',
  port: Number(process.env.ANDROID_ADB_SERVER_PORT) || 5037,
  bin: process.env.PHONEHOME_ADB ?? 'adb',
};

function isLocal(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1';
}

/** The adb binary's version line, e.g. "Android Debug Bridge version 1.0.41 / Version 29.0.6-debian". */
export async function adbVersion(bin: string): Promise<string> {
  const { stdout } = await run(bin, ['version'], { timeout: 10_000 });
  return stdout.trim().split('\n').slice(0, 2).join(' / ');
}

/**
 * Returns a client of a running adb server: the configured remote one, or the local one, started
 * with `adb -P PORT start-server` when it is not running.
 */
export async function ensureAdbServer(
  config: AdbServerConfig = DEFAULT_ADB,
  opts: OpOptions = {},
): Promise<AdbClient> {
  const client = new AdbClient({ host: config.host, port: config.port });
  // A local server that goes away mid-run (killed, crashed) is started again, as it was the first time.
  if (isLocal(config.host)) client.restartWith(() => startLocal(config, client, { deadlineMs: 20_000 }));
  try {
    await client.version({ deadlineMs: 3_000, ...opts });
    return client;
  } catch (err) {
    if (!isLocal(config.host)) {
      throw new AdbCommandError(
        `adb server ${config.host}:${config.port}`,
        undefined,
        `the remote adb server does not answer (${errorMessage(err)})`,
      );
    }
  }
  await startLocal(config, client, opts);
  return client;
}

/** `adb -P PORT start-server`, then waits for it to answer. */
async function startLocal(config: AdbServerConfig, client: AdbClient, opts: OpOptions): Promise<void> {
  try {
    await run(config.bin, ['-P', String(config.port), 'start-server'], {
      timeout: opts.deadlineMs ?? 20_000,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    const e = err as { code?: unknown; stderr?: string; message?: string };
    const why =
      e.code === 'ENOENT'
        ? `${config.bin} is not installed (Debian package adb)`
        : (e.stderr ?? e.message ?? '');
    throw new AdbCommandError(`${config.bin} -P ${config.port} start-server`, undefined, why, { cause: err });
  }
  await client.version({ deadlineMs: 5_000, ...opts });
}

/** Stops the local adb server on that port (tests that started their own). */
export async function killAdbServer(config: AdbServerConfig): Promise<void> {
  try {
    await run(config.bin, ['-P', String(config.port), 'kill-server'], { timeout: 10_000 });
  } catch {
    // Not running: nothing to stop.
  }
}
