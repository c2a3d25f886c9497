/**
 * Test support: makes Debian's Chromium open one connection (TLS over TCP, or QUIC) to a recorder
 * on 127.0.0.1 under a made-up name, and returns what it sent first. This is how the committed
 * fixtures in fixtures/names/ were made and how the integration tests check them live.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QuicInitialReader } from '../harness/names/quic-initial.js';
import { readTlsClientHello } from '../harness/names/tls-client-hello.js';
import { startTcpRecorder, startUdpRecorder } from './first-bytes-recorder.js';
import { CHROMIUM } from './tools.js';

/** The Chromium binary the tests use. */

/** Options for one Chromium run. */
export interface ChromiumFlightOptions {
  /** The host name Chromium is told to visit (mapped to 127.0.0.1). */
  host: string;
  /** Give up after this long (ms); Chromium is killed either way. */
  timeoutMs: number;
}

function chromiumArgs(host: string, port: number, quic: boolean, profile: string): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-gpu',
    '--no-first-run',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${profile}`,
    ...(quic ? ['--enable-quic', `--origin-to-force-quic-on=${host}:${port}`] : []),
    `--host-resolver-rules=MAP ${host} 127.0.0.1`,
    `https://${host}:${port}/`,
  ];
}

/** Runs Chromium until `until` resolves or the deadline passes, then kills its process group. */
async function withChromium<T>(args: string[], profile: string, until: Promise<T>): Promise<T> {
  const child = spawn(CHROMIUM, args, { stdio: 'ignore', detached: true });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  try {
    return await until;
  } finally {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL'); // the group we created: Chromium and its helpers only
      } catch {
        // already gone
      }
    }
    await exited;
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The first bytes Chromium sends on a TLS-over-TCP connection (a complete ClientHello, if it got that far). */
export async function chromiumTlsFirstBytes(opts: ChromiumFlightOptions): Promise<Uint8Array> {
  const rec = await startTcpRecorder();
  const profile = mkdtempSync(join(tmpdir(), 'phonehome-names-chromium-'));
  try {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const got = rec.firstStream((b) => readTlsClientHello(b).status !== 'need-more', signal);
    return await withChromium(chromiumArgs(opts.host, rec.port, false, profile), profile, got);
  } finally {
    await rec.close();
  }
}

/**
 * The datagrams Chromium sends when forced onto QUIC, recorded until together they yield a
 * ClientHello or the deadline passes (then whatever arrived, perhaps nothing).
 */
export async function chromiumQuicDatagrams(opts: ChromiumFlightOptions): Promise<Uint8Array[]> {
  const rec = await startUdpRecorder();
  const profile = mkdtempSync(join(tmpdir(), 'phonehome-names-chromium-'));
  try {
    const signal = AbortSignal.timeout(opts.timeoutMs);
    const got = rec
      .until((ds) => {
        const r = new QuicInitialReader();
        for (const d of ds) r.push(d);
        return r.result() !== undefined;
      }, signal)
      .then((ds) => ds.slice());
    return await withChromium(chromiumArgs(opts.host, rec.port, true, profile), profile, got);
  } finally {
    await rec.close();
  }
}
