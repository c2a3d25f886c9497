/** What phonehome knows about a phone: read once per run, saved as device.json. */
import { isIPv6 } from 'node:net';
import type { OpOptions } from '../deadline.js';
import type { AdbDevice } from './adb.js';

/** The ROM families phonehome tells apart. */
export type RomFamily =
  | 'MIUI'
  | 'HyperOS'
  | 'One UI'
  | 'Pixel stock'
  | 'LineageOS'
  | '/e/OS'
  | 'Android'
  | 'unknown';

/** Facts about one phone. Strings come from the phone: untrusted. */
export interface DeviceFacts {
  /** adb serial. */
  serial: string;
  /** ro.product.manufacturer. */
  manufacturer: string;
  /** ro.product.model. */
  model: string;
  /** ro.product.device (code name). */
  device: string;
  /** ro.build.version.release. */
  androidVersion: string;
  /** ro.build.version.sdk as a number (0 when unknown). */
  sdk: number;
  /** ROM family. */
  rom: RomFamily;
  /** ROM version as the vendor names it (e.g. "V14.0.4.0.TMGEUXM", "OS1.0.3.0"), or the build id. */
  romVersion: string;
  /** Region or locale the ROM is set up for (ro.miui.region, else persist.sys.locale / ro.product.locale). */
  region: string;
  /** ro.build.fingerprint. */
  fingerprint: string;
  /** ro.serialno (may differ from the adb serial for network phones). */
  hardwareSerial: string;
  /** Wi-Fi IPv4 address, if any. */
  wifiIp?: string;
  /**
   * Wi-Fi IPv6 addresses of global scope (stable and temporary ones: apps talk from the temporary
   * ones), when the network gives the phone any. Link-local addresses are left out.
   */
  wifiIpv6?: string[];
  /** Wi-Fi MAC address, if readable. */
  wifiMac?: string;
  /** `su` works. */
  rooted: boolean;
  /** PCAPdroid (com.emanuelef.remote_capture) is installed. */
  pcapdroidInstalled: boolean;
  /** A SIM card is in and readable (gsm.sim.state of some slot is LOADED or READY). */
  simCard: boolean;
  /** Battery level in percent, if known. */
  batteryLevel?: number;
  /** Battery temperature in °C, if known. */
  batteryTemperature?: number;
  /** All properties, for profile matching. */
  properties: Record<string, string>;
}

/**
 * The property a simulated phone tells its time compression in (sim/phone/device-state.ts sets it).
 * A ro. property: on a real phone nothing but a rooted boot could set it.
 */
export const SIM_SPEED_PROPERTY = 'ro.phonehome.sim.speed';

/**
 * How much faster than the wall clock a phone's time runs: a simulated phone's compression when it
 * tells one (a decimal number above 0 and below 1,000,000), else 1, as for every real phone.
 */
export function phoneSpeed(props: Record<string, string>): number {
  const text = props[SIM_SPEED_PROPERTY];
  if (text === undefined || !/^[0-9]{1,6}(\.[0-9]{1,6})?$/.test(text)) return 1;
  const n = Number(text);
  return n > 0 ? n : 1;
}

/** Works out the ROM family and version from properties. */
export function romOf(props: Record<string, string>): { rom: RomFamily; romVersion: string } {
  const p = (k: string) => props[k] ?? '';
  const fp = p('ro.build.fingerprint');
  if (p('ro.mi.os.version.name')) {
    return { rom: 'HyperOS', romVersion: p('ro.mi.os.version.incremental') || p('ro.mi.os.version.name') };
  }
  if (p('ro.miui.ui.version.name')) {
    return { rom: 'MIUI', romVersion: p('ro.build.version.incremental') || p('ro.miui.ui.version.name') };
  }
  if (p('ro.build.version.oneui')) return { rom: 'One UI', romVersion: p('ro.build.version.oneui') };
  if (p('ro.lineage.version')) return { rom: 'LineageOS', romVersion: p('ro.lineage.version') };
  if (p('ro.build.version.eos') || /\/e\//.test(fp)) return { rom: '/e/OS', romVersion: p('ro.build.id') };
  if (/^google\//.test(fp) && p('ro.product.manufacturer').toLowerCase() === 'google') {
    return { rom: 'Pixel stock', romVersion: p('ro.build.id') };
  }
  if (fp) return { rom: 'Android', romVersion: p('ro.build.id') };
  return { rom: 'unknown', romVersion: '' };
}

/** Parses `ip addr show wlan0` for the IPv4 address, the global IPv6 addresses and the MAC. */
export function parseIpAddr(text: string): { ip?: string; ipv6?: string[]; mac?: string } {
  const ip = /\binet (\d+\.\d+\.\d+\.\d+)\//.exec(text)?.[1];
  const ipv6: string[] = [];
  for (const m of text.matchAll(/\binet6 ([0-9a-fA-F:.]+)\/\d+ scope global\b/g)) {
    const a = m[1]!.toLowerCase();
    if (isIPv6(a) && !ipv6.includes(a)) ipv6.push(a);
  }
  const mac = /link\/ether ([0-9a-f]{2}(?::[0-9a-f]{2}){5})/i.exec(text)?.[1]?.toLowerCase();
  return { ...(ip ? { ip } : {}), ...(ipv6.length ? { ipv6 } : {}), ...(mac ? { mac } : {}) };
}

/** The phone's own addresses (IPv4 and global IPv6), for the capture filter and the analysis. */
export function phoneAddrs(facts: Pick<DeviceFacts, 'wifiIp' | 'wifiIpv6'>): string[] {
  return [...(facts.wifiIp ? [facts.wifiIp] : []), ...(facts.wifiIpv6 ?? [])];
}

/** A SIM is in: gsm.sim.state (one value per slot, comma-separated) shows a slot LOADED or READY. */
export function simCardIn(props: Record<string, string>): boolean {
  return (props['gsm.sim.state'] ?? '').split(',').some((s) => s.trim() === 'LOADED' || s.trim() === 'READY');
}

/** Parses `dumpsys battery`: level in percent and temperature in °C (the phone reports tenths). */
export function parseBattery(text: string): { level?: number; temperature?: number } {
  const level = /^\s*level: (\d+)/m.exec(text)?.[1];
  const temp = /^\s*temperature: (-?\d+)/m.exec(text)?.[1];
  return {
    ...(level !== undefined ? { level: Number(level) } : {}),
    ...(temp !== undefined ? { temperature: Number(temp) / 10 } : {}),
  };
}

/** Reads a phone's facts: one getprop plus a few small commands. */
export async function readFacts(device: AdbDevice, opts: OpOptions = {}): Promise<DeviceFacts> {
  const props = await device.getProperties(opts);
  const p = (k: string) => props[k] ?? '';
  const quiet = async (cmd: string) => {
    try {
      const r = await device.shell(cmd, { deadlineMs: 10_000, ...opts });
      return { text: r.output.toString('utf8'), exitCode: r.exitCode };
    } catch (err) {
      if (err instanceof Error && err.name === 'DeviceLostError') throw err;
      return { text: '', exitCode: -1 };
    }
  };
  const [ipText, battery, su, pcapdroid] = await Promise.all([
    quiet('ip addr show wlan0'),
    quiet('dumpsys battery'),
    quiet('su -c id 2>/dev/null'),
    quiet('pm list packages com.emanuelef.remote_capture'),
  ]);
  const net = parseIpAddr(ipText.text);
  const bat = parseBattery(battery.text);
  const { rom, romVersion } = romOf(props);
  return {
    serial: device.serial,
    manufacturer: p('ro.product.manufacturer'),
    model: p('ro.product.model'),
    device: p('ro.product.device'),
    androidVersion: p('ro.build.version.release'),
    sdk: Number.parseInt(p('ro.build.version.sdk'), 10) || 0,
    rom,
    romVersion,
    region: p('ro.miui.region') || p('persist.sys.locale') || p('ro.product.locale'),
    fingerprint: p('ro.build.fingerprint'),
    hardwareSerial: p('ro.serialno'),
    ...(net.ip ? { wifiIp: net.ip } : {}),
    ...(net.ipv6 ? { wifiIpv6: net.ipv6 } : {}),
    ...(net.mac ? { wifiMac: net.mac } : {}),
    rooted: su.exitCode === 0 && /uid=0\b/.test(su.text),
    pcapdroidInstalled: /package:com\.emanuelef\.remote_capture\b/.test(pcapdroid.text),
    simCard: simCardIn(props),
    ...(bat.level !== undefined ? { batteryLevel: bat.level } : {}),
    ...(bat.temperature !== undefined ? { batteryTemperature: bat.temperature } : {}),
    properties: props,
  };
}

/** Parses `pm list packages -U`: "package:NAME uid:UID" lines → UID → package names (shared UIDs list several). */
export function parsePackageUids(text: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const m of text.matchAll(/^package:(\S+)\s+uid:(\d+)/gm)) {
    const uid = Number(m[2]);
    out.set(uid, [...(out.get(uid) ?? []), m[1]!]);
  }
  return out;
}

/** The phone's UID → package names map. */
export async function readPackageUids(
  device: AdbDevice,
  opts: OpOptions = {},
): Promise<Map<number, string[]>> {
  return parsePackageUids(await device.sh('pm list packages -U', opts));
}
