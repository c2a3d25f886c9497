/**
 * The `tcp:PORT[:HOST]` service behind `adb forward`: a connection to a port the phone listens on,
 * relayed both ways with flow control (a chunk is read from one side only when the other took the last).
 */
import type { Duplex } from 'node:stream';
import type { SimPhone } from '../contracts.js';
import type { AdbStream } from './stream.js';

/** Reads "tcp:PORT" or "tcp:PORT:HOST"; undefined when it is not a valid tcp service. */
export function parseTcpService(service: string): { port: number; host?: string } | undefined {
  const m = /^tcp:(\d{1,5})(?::(.+))?$/.exec(service);
  if (!m) return undefined;
  const port = Number(m[1]);
  if (port < 1 || port > 65535) return undefined;
  return m[2] === undefined ? { port } : { port, host: m[2] };
}

/** Connects on the phone; undefined when refused (the stream is then refused with CLSE). */
export async function connectOnPhone(
  phone: SimPhone,
  target: { port: number; host?: string },
): Promise<Duplex | undefined> {
  try {
    return await phone.connectTcp(target.port, target.host);
  } catch {
    return undefined;
  }
}

/** Relays bytes between the stream and the phone-side socket until either closes. */
export function relay(stream: AdbStream, socket: Duplex): void {
  let socketClosed = false;
  const closeSocket = () => {
    if (socketClosed) return;
    socketClosed = true;
    socket.destroy();
  };
  stream.signal.addEventListener('abort', closeSocket, { once: true });

  socket.on('data', (data: Buffer) => {
    socket.pause();
    stream.write(data).then(() => {
      if (!socketClosed) socket.resume();
    });
  });
  // ADB streams have no half-close: the phone side ending means the stream ends, after its last bytes.
  socket.on('end', () => void stream.end());
  socket.on('close', () => {
    socketClosed = true;
    void stream.end();
  });
  socket.on('error', () => {});

  stream.onData(
    (data) =>
      new Promise<void>((resolve) => {
        if (socketClosed) return resolve();
        if (socket.write(data)) return resolve();
        const done = () => {
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        socket.on('drain', done);
        socket.on('close', done);
      }),
  );
}
