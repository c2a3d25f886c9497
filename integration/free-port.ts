/**
 * A TCP port on 127.0.0.1 that nothing listens on right now (for a test's own adb server or Appium).
 *
 * It is drawn below the kernel's ephemeral range (net.ipv4.ip_local_port_range, 32768 and up here):
 * a port the kernel handed out would be handed out again at once — to a listener on port 0 such as
 * the simulated adbd, or as the source port of any outgoing connection — and an adb client that
 * finds something else answering on its port waits for a reply that never comes (CI saw
 * `adb start-server` hang 30 s that way).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const LOW = 20_000;

function ephemeralStart(): number {
  try {
    const first = Number(
      readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
    );
    return Number.isInteger(first) && first > LOW + 1000 ? first : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  const high = ephemeralStart();
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port on 127.0.0.1 between ${LOW} and ${high} after 200 tries`);
}
