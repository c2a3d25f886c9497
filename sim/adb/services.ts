/**
 * Which service an OPEN names and how the phone answers it. A service this adbd does not implement
 * is refused (undefined → CLSE(0, hostId)), as a real adbd refuses unknown ones.
 */
import type { SimPhone } from '../contracts.js';
import { reverseReply } from './reverse-service.js';
import { parseShellService, runShell } from './shell-service.js';
import type { AdbStream } from './stream.js';
import { runSync } from './sync-service.js';
import { connectOnPhone, parseTcpService, relay } from './tcp-service.js';

/** What services need from the adbd around them. */
export interface ServiceContext {
  /** The phone that answers. */
  phone: SimPhone;
  /** The phone reboots into target ("" for a normal boot): drop the transports and go offline meanwhile. */
  reboot(target: string): void;
}

/** An accepted service. */
export interface AcceptedService {
  /** Runs the service on its stream (called right after the OKAY went out). */
  run(stream: AdbStream): void;
  /** Releases what opening took when the transport went away before the service could run. */
  cancel?(): void;
}

/** Texts a user build prints for the privileged services instead of doing them. */
const USER_BUILD_REPLIES: Record<string, string> = {
  'root:': 'adbd cannot run as root in production builds\n',
  'unroot:': 'adbd not running as root\n',
  'remount:': 'Not running as root. Try "adb root" first.\n',
};

/** Decides whether to accept an OPEN; resolves with how to run it, or undefined to refuse it. */
export async function openService(
  service: string,
  ctx: ServiceContext,
): Promise<AcceptedService | undefined> {
  const shell = parseShellService(service);
  if (shell) return { run: (stream) => runShell(stream, ctx.phone, shell) };
  if (service === 'sync:') return { run: (stream) => runSync(stream, ctx.phone) };
  const tcp = parseTcpService(service);
  if (tcp) {
    const socket = await connectOnPhone(ctx.phone, tcp);
    return socket && { run: (stream) => relay(stream, socket), cancel: () => socket.destroy() };
  }
  if (service === 'reboot:' || service.startsWith('reboot:')) {
    const target = service.slice('reboot:'.length);
    return { run: (stream) => void stream.end().then(() => ctx.reboot(target)) };
  }
  if (service.startsWith('reverse:')) {
    const reply = reverseReply(service.slice('reverse:'.length));
    return { run: (stream) => void stream.write(reply).then(() => stream.end()) };
  }
  const text = USER_BUILD_REPLIES[service];
  if (text !== undefined) {
    return { run: (stream) => void stream.write(Buffer.from(text)).then(() => stream.end()) };
  }
  return undefined;
}
