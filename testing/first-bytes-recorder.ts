/**
 * Test support: a plain TCP or UDP listener on 127.0.0.1 that records what the first client sends,
 * so that the parsers here are tested on bytes real clients (Node, openssl, curl, Chromium) wrote.
 * It never answers, so a TLS or QUIC client gets no further than its first flight.
 */

import dgram from 'node:dgram';
import { once } from 'node:events';
import net from 'node:net';

/** A listening recorder. */
export interface TcpRecorder {
  /** The port it listens on (127.0.0.1). */
  port: number;
  /**
   * The bytes of the first accepted connection, once `done(bytes)` says they are enough or the
   * deadline passes (then whatever arrived). The connection is then closed.
   */
  firstStream(done: (bytes: Uint8Array) => boolean, signal: AbortSignal): Promise<Uint8Array>;
  /** Stops listening and drops any connection. */
  close(): Promise<void>;
}

/** Starts a TCP recorder on 127.0.0.1 (port 0 picks a free one). */
export async function startTcpRecorder(port = 0): Promise<TcpRecorder> {
  const sockets = new Set<net.Socket>();
  const chunks: Buffer[] = [];
  let first: net.Socket | undefined;
  let wake: (() => void) | undefined;
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    if (first) return;
    first = s;
    s.on('data', (d: Buffer) => {
      chunks.push(d);
      wake?.();
    });
    s.on('end', () => wake?.());
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    async firstStream(done, signal) {
      for (;;) {
        const bytes = Buffer.concat(chunks);
        if (done(bytes) || signal.aborted || first?.readableEnded) {
          first?.destroy();
          return new Uint8Array(bytes);
        }
        await waitFor(signal, (w) => {
          wake = w;
        });
      }
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A UDP recorder. */
export interface UdpRecorder {
  /** The port it is bound to (127.0.0.1). */
  port: number;
  /** Datagrams received so far, in order. */
  datagrams: Uint8Array[];
  /** Resolves once `done(datagrams)` holds or the signal aborts. */
  until(done: (datagrams: Uint8Array[]) => boolean, signal: AbortSignal): Promise<Uint8Array[]>;
  /** Closes the socket. */
  close(): Promise<void>;
}

/** Binds a UDP recorder to 127.0.0.1 (port 0 picks a free one). */
export async function startUdpRecorder(port = 0): Promise<UdpRecorder> {
  const sock = dgram.createSocket('udp4');
  const datagrams: Uint8Array[] = [];
  let wake: (() => void) | undefined;
  sock.on('message', (m: Buffer) => {
    datagrams.push(new Uint8Array(m));
    wake?.();
  });
  sock.bind(port, '127.0.0.1');
  await once(sock, 'listening');
  return {
    port: sock.address().port,
    datagrams,
    async until(done, signal) {
      while (!done(datagrams) && !signal.aborted) {
        await waitFor(signal, (w) => {
          wake = w;
        });
      }
      return datagrams;
    },
    async close() {
      await new Promise<void>((resolve) => sock.close(() => resolve()));
    },
  };
}

/** Waits until the registered wake-up is called or the signal aborts, without leaking listeners. */
function waitFor(signal: AbortSignal, register: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const on = () => {
      signal.removeEventListener('abort', on);
      resolve();
    };
    register(on);
    signal.addEventListener('abort', on, { once: true });
  });
}
