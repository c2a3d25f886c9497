/**
 * The simulated phone's adbd: a TCP listener that the real adb server reaches with
 * `adb connect 127.0.0.1:PORT`, one {@link AdbTransport} per connection.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { SimPhone } from '../contracts.js';
import { AdbTransport } from './transport.js';

/** Features this adbd implements, announced in its CNXN banner. */
export const DEFAULT_FEATURES: readonly string[] = [
  'shell_v2',
  'cmd',
  'stat_v2',
  'ls_v2',
  'fixed_push_mkdir',
];

/** Ports the adb server scans as emulators: a simulated phone must stay off them. */
const EMULATOR_PORTS = { first: 5554, last: 5585 };

export interface AdbdOptions {
  /** The phone that answers the services. */
  phone: SimPhone;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on; 0 or absent picks a free port outside 5554–5585. */
  port?: number;
  /** Features to announce (default {@link DEFAULT_FEATURES}). */
  features?: string[];
}

export interface Adbd {
  /** The TCP port adbd listens on. */
  readonly port: number;
  /** The serial as the adb server shows it: "HOST:PORT". */
  readonly serial: string;
  /** Simulates an unplugged cable: every connection is closed now. */
  dropTransports(): void;
  /** While offline, connections are closed as soon as they arrive (e.g. during a reboot). */
  setOffline(offline: boolean): void;
  /**
   * Reboots the phone as `adb reboot` does: drops the transports, stays offline while phone.reboot()
   * runs, then accepts again. For reboots the phone starts itself (`adb shell reboot`).
   */
  reboot(target?: string): void;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Starts an adbd for the phone; resolves once it listens. */
export async function startAdbd(opts: AdbdOptions): Promise<Adbd> {
  const host = opts.host ?? '127.0.0.1';
  const features = opts.features ?? [...DEFAULT_FEATURES];
  const transports = new Set<AdbTransport>();
  let offline = false;
  let closing = false;
  let rebooting = false;

  const dropTransports = (graceful: boolean) => {
    for (const transport of [...transports]) transport.close(graceful);
    transports.clear();
  };

  const reboot = (target: string) => {
    if (rebooting || closing) return;
    rebooting = true;
    offline = true;
    dropTransports(true);
    void opts.phone
      .reboot(target)
      .catch(() => {})
      .finally(() => {
        rebooting = false;
        if (!closing) offline = false;
      });
  };

  const onConnection = (socket: Socket) => {
    if (offline || closing) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const transport = new AdbTransport(socket, { phone: opts.phone, reboot }, features);
    transports.add(transport);
    void transport.closed.then(() => transports.delete(transport));
  };

  const server = await listen(onConnection, host, opts.port ?? 0);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    serial: `${host}:${port}`,
    dropTransports: () => dropTransports(false),
    reboot: (target = '') => reboot(target),
    setOffline(value: boolean) {
      offline = value;
      if (value) dropTransports(false);
    },
    async close() {
      if (closing) return;
      closing = true;
      offline = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      dropTransports(false);
      await closed;
    },
  };
}

/** Listens on the port; for port 0, retries until the kernel's pick is outside the emulator range. */
async function listen(onConnection: (socket: Socket) => void, host: string, port: number): Promise<Server> {
  for (;;) {
    const server = createServer(onConnection);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    const picked = typeof address === 'object' && address ? address.port : 0;
    if (port !== 0 || picked < EMULATOR_PORTS.first || picked > EMULATOR_PORTS.last) return server;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
