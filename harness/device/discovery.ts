/** Which phones are attached, in what state, and what a lab engineer should do about each. */
import type { OpOptions } from '../deadline.js';
import type { AdbClient, ListedDevice } from './adb.js';

/** A phone as discovery reports it. */
export interface DiscoveredDevice extends ListedDevice {
  /** True when phonehome can drive it now. */
  usable: boolean;
  /** What to do when it is not usable; empty when it is. */
  advice: string;
}

/** Advice for each adb state a phone can be in. */
export function adviceFor(state: string): string {
  switch (state) {
    case 'device':
      return '';
    case 'unauthorized':
      return 'unauthorized: unlock the phone and accept the "Allow USB debugging?" prompt for this computer (tick "Always allow"); if no prompt shows, revoke USB debugging authorisations in Developer options and replug';
    case 'authorizing':
      return "authorizing: the phone is checking this computer's adb key; wait a few seconds";
    case 'offline':
      return 'offline: the phone stopped answering adb; replug the cable or run `adb reconnect offline`, and check it is not rebooting';
    case 'no permissions':
      return 'no permissions: this user may not open the USB device; add a udev rule for the vendor id or run phonehome in the plugdev group';
    case 'connecting':
      return 'connecting: adb is still connecting to the phone; wait a few seconds';
    case 'recovery':
    case 'bootloader':
    case 'sideload':
    case 'rescue':
      return `${state}: the phone is not booted into Android; reboot it normally`;
    default:
      return `${state}: adb reports an unknown state; replug the phone`;
  }
}

/** Lists the phones the adb server knows, each with whether it is usable and what to do if not. */
export async function discoverDevices(client: AdbClient, opts: OpOptions = {}): Promise<DiscoveredDevice[]> {
  const list = await client.listDevices(opts);
  return list
    .map((d) => ({ ...d, usable: d.state === 'device', advice: adviceFor(d.state) }))
    .sort((a, b) => a.serial.localeCompare(b.serial));
}

/** What changed between two phone lists. */
export interface DeviceChange {
  kind: 'add' | 'remove' | 'change';
  device: DiscoveredDevice;
}

/** Compares two lists by serial: phones that came, went, or changed state. */
export function diffDevices(before: ListedDevice[], after: ListedDevice[]): DeviceChange[] {
  const prev = new Map(before.map((d) => [d.serial, d.state]));
  const next = new Map(after.map((d) => [d.serial, d.state]));
  const out: DeviceChange[] = [];
  const mk = (serial: string, state: string) => ({
    serial,
    state,
    usable: state === 'device',
    advice: adviceFor(state),
  });
  for (const [serial, state] of next) {
    const was = prev.get(serial);
    if (was === undefined) out.push({ kind: 'add', device: mk(serial, state) });
    else if (was !== state) out.push({ kind: 'change', device: mk(serial, state) });
  }
  for (const [serial, state] of prev) {
    if (!next.has(serial)) out.push({ kind: 'remove', device: mk(serial, state) });
  }
  return out;
}

/**
 * Follows the phone list live, calling onChange for each phone that comes, goes or changes state,
 * until the signal aborts.
 */
export async function trackDevices(
  client: AdbClient,
  onChange: (change: DeviceChange) => void,
  opts: OpOptions & { signal: AbortSignal },
): Promise<void> {
  let last: ListedDevice[] = [];
  await client.track((list) => {
    for (const c of diffDevices(last, list)) onChange(c);
    last = list;
  }, opts);
}
