/**
 * Test support: real client bytes for the parsers' tests. Committed fixtures (fixtures/names/),
 * payloads read out of the PCAPdroid captures with tshark, and live recordings of clients that run
 * here (Node's tls, openssl s_client, curl) talking to a silent recorder on 127.0.0.1.
 * Paths are relative to the project root, the test runner's working directory.
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { startTcpRecorder } from './first-bytes-recorder.js';

/** PCAPdroid's own test captures (see their SOURCE.md). */
export const PCAPDROID_DIR = '../shared/captures/pcapdroid';
/** This part's committed test data. */
export const FIXTURES_DIR = 'fixtures/names';

/** Bytes of a committed hex fixture (whitespace ignored). */
export function hexFixture(name: string): Uint8Array {
  return new Uint8Array(
    Buffer.from(readFileSync(`${FIXTURES_DIR}/${name}`, 'utf8').replace(/\s+/g, ''), 'hex'),
  );
}

/** A committed JSON fixture. */
export function jsonFixture<T>(name: string): T {
  return JSON.parse(readFileSync(`${FIXTURES_DIR}/${name}`, 'utf8')) as T;
}

/** Chromium's recorded QUIC datagrams. */
export function chromiumQuicFixture(): { chromium: string; host: string; datagrams: Uint8Array[] } {
  const f = jsonFixture<{ chromium: string; host: string; datagrams: string[] }>(
    'chromium-quic-initials.json',
  );
  return { ...f, datagrams: f.datagrams.map((h) => new Uint8Array(Buffer.from(h, 'hex'))) };
}

/** Chromium's recorded first bytes over TCP (a ClientHello). */
export function chromiumTlsFixture(): { chromium: string; host: string; stream: Uint8Array } {
  const f = jsonFixture<{ chromium: string; host: string; stream: string }>('chromium-tls-client-hello.json');
  return { ...f, stream: new Uint8Array(Buffer.from(f.stream, 'hex')) };
}

/** True when a command runs here (`cmd -version`-style probe). */
export function haveCommand(cmd: string, probe: string[] = ['--version']): boolean {
  try {
    execFileSync(cmd, probe, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * tshark's view of a capture: one row per packet matching the display filter, one string per
 * requested field ("" when absent; multiple values comma-separated).
 */
export function tsharkFields(file: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 * 1024 * 1024 },
  );
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** How a recorded client is started against the recorder's port, and stopped. */
export type ClientStarter = (port: number) => { stop(): void };

/** Records the first bytes a client sends, until `done` says they suffice or timeoutMs passes. */
export async function recordClient(
  start: ClientStarter,
  done: (bytes: Uint8Array) => boolean,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const rec = await startTcpRecorder();
  const client = start(rec.port);
  try {
    return await rec.firstStream(done, AbortSignal.timeout(timeoutMs));
  } finally {
    client.stop();
    await rec.close();
  }
}

function stopChild(child: ChildProcess): { stop(): void } {
  child.on('error', () => {});
  return {
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Node's own TLS client. */
export function nodeTlsClient(opts: {
  servername: string;
  alpn?: string[];
  maxVersion?: tls.SecureVersion;
}): ClientStarter {
  return (port) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port,
      servername: opts.servername,
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
      ...(opts.maxVersion ? { maxVersion: opts.maxVersion } : {}),
      rejectUnauthorized: false,
    });
    s.on('error', () => {});
    return { stop: () => s.destroy() };
  };
}

/** `openssl s_client` with -servername and -alpn. */
export function opensslClient(servername: string, alpn: string[]): ClientStarter {
  return (port) =>
    stopChild(
      spawn(
        'openssl',
        ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', servername, '-alpn', alpn.join(',')],
        { stdio: ['pipe', 'ignore', 'ignore'] },
      ),
    );
}

/** curl fetching https://host:port/ with the name mapped to 127.0.0.1. */
export function curlClient(host: string): ClientStarter {
  return (port) =>
    stopChild(
      spawn(
        'curl',
        ['-sk', '--max-time', '10', '--resolve', `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`],
        { stdio: 'ignore' },
      ),
    );
}

/** curl fetching http://host:port/path in plain HTTP, the name mapped to 127.0.0.1. */
export function curlHttpClient(host: string, path: string, extra: string[] = []): ClientStarter {
  return (port) =>
    stopChild(
      spawn(
        'curl',
        [
          '-s',
          '--max-time',
          '10',
          ...extra,
          '--resolve',
          `${host}:${port}:127.0.0.1`,
          `http://${host}:${port}${path}`,
        ],
        { stdio: 'ignore' },
      ),
    );
}

/** curl fetching `url` through an HTTP proxy at the recorder (absolute-form, or CONNECT with -p). */
export function curlProxyClient(url: string, extra: string[] = []): ClientStarter {
  return (port) =>
    stopChild(
      spawn('curl', ['-sk', '--max-time', '10', ...extra, '-x', `http://127.0.0.1:${port}`, url], {
        stdio: 'ignore',
      }),
    );
}
