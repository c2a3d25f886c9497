/**
 * Every identifier a phone tells over adb, read at run start by the same code for real and simulated
 * phones (../shared/reference/IDENTIFIERS.md): IMEI per slot, serials, Android ID, Wi-Fi and Bluetooth
 * MACs, IMSI, ICCID, phone number, accounts, advertising ID (root), Wi-Fi SSID/BSSID and the installed
 * packages. Each value says where it came from; each one the phone would not tell says what was tried
 * and why it failed (refused, needs root, no SIM). Values are validated (IMEI by Luhn), since the
 * transaction codes of `service call` differ by release and vendor.
 */
import type { OpOptions } from '../deadline.js';
import { decodeParcelString, luhnValid, type ParcelReply } from './parcel.js';

/** The kinds of identifier phonehome looks for. */
export const ID_KINDS = [
  'imei',
  'serial',
  'android-id',
  'wifi-mac',
  'bluetooth-mac',
  'imsi',
  'iccid',
  'phone-number',
  'advertising-id',
  'account',
  'wifi-ssid',
  'wifi-bssid',
] as const;
export type IdKind = (typeof ID_KINDS)[number];

/** One identifier: its kind, value, SIM slot where it has one, and how it was read. */
export interface PhoneIdentifier {
  kind: IdKind;
  value: string;
  slot?: number;
  /** The command or property it came from, or "supplied by FILE" for a lab's value. */
  source: string;
}

/** An identifier the phone did not tell: what was tried and why it gave nothing. */
export interface UnreadIdentifier {
  kind: IdKind;
  slot?: number;
  tried: string[];
  why: string;
}

export interface PhoneIdentifiers {
  found: PhoneIdentifier[];
  unread: UnreadIdentifier[];
  /** Installed packages (`pm list packages`), to detect an app list being sent. */
  packages: string[];
}

const PKG = 'com.android.shell';

/** What reading needs of a phone: its shell (run/'s DeviceControl has it). */
export interface PhoneShell {
  shell(command: string, op?: OpOptions): Promise<{ output: Buffer; exitCode: number }>;
}

/** The `service call iphonesubinfo` arguments for each method at this SDK level (IDENTIFIERS.md 1.1). */
export function subInfoCalls(sdk: number): {
  imeiForSlot?: (slot: number) => string;
  imei: string;
  imsi?: string;
  iccid?: string;
  line1?: string;
} {
  if (sdk > 0 && sdk < 21) return { imei: '1', imsi: '3', iccid: '5', line1: '6' };
  if (sdk === 21) return { imei: '1' };
  if (sdk === 22) return { imeiForSlot: (n) => `3 i32 ${n}`, imei: '1', imsi: '7', iccid: '10', line1: '12' };
  if (sdk >= 23 && sdk <= 29)
    return {
      imeiForSlot: (n) => `3 i32 ${n} s16 ${PKG}`,
      imei: `1 s16 ${PKG}`,
      imsi: `7 s16 ${PKG}`,
      iccid: `10 s16 ${PKG}`,
      line1: `12 s16 ${PKG}`,
    };
  if (sdk >= 30 && sdk <= 34)
    return {
      imeiForSlot: (n) => `4 i32 ${n} s16 ${PKG}`,
      imei: `1 s16 ${PKG}`,
      imsi: `8 s16 ${PKG}`,
      iccid: `12 s16 ${PKG}`,
      line1: `15 s16 ${PKG}`,
    };
  // Newer trees (getGroupIdLevel2 added); unverified on devices: every value is validated.
  return {
    imeiForSlot: (n) => `4 i32 ${n} s16 ${PKG}`,
    imei: `1 s16 ${PKG}`,
    imsi: `8 s16 ${PKG}`,
    iccid: `13 s16 ${PKG}`,
    line1: `16 s16 ${PKG}`,
  };
}

/** Props some vendors keep identifiers in, in the order to try. */
const SERIAL_PROPS = [
  'ro.serialno',
  'ro.boot.serialno',
  'ril.serialnumber',
  'ro.ril.oem.psno',
  'ro.ril.oem.sno',
  'sys.serialnumber',
];
const IMEI_PROPS = [
  ['ro.ril.miui.imei0', 'ro.ril.oem.imei1', 'persist.radio.imei1'],
  ['ro.ril.miui.imei1', 'ro.ril.oem.imei2', 'persist.radio.imei2'],
];

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** What apps are given instead of a MAC since Android 6: not an identifier. */
const PLACEHOLDER_MAC = '02:00:00:00:00:00';

const valid: Partial<Record<IdKind, (v: string) => boolean>> = {
  imei: luhnValid,
  imsi: (v) => /^\d{6,15}$/.test(v),
  iccid: (v) => /^\d{18,20}[0-9F]?$/.test(v),
  'phone-number': (v) => /^\+?\d{3,20}$/.test(v),
};

/** Reads the phone's identifiers; never throws for a refusal, only when the phone is gone. */
export async function readIdentifiers(
  device: PhoneShell,
  o: { sdk: number; rooted: boolean; op?: OpOptions },
): Promise<PhoneIdentifiers> {
  const op = o.op ?? {};
  const found: PhoneIdentifier[] = [];
  const unread: UnreadIdentifier[] = [];
  const sh = async (command: string): Promise<{ text: string; ok: boolean }> => {
    const r = await device.shell(command, op);
    return { text: r.output.toString('utf8').replace(/\r/g, ''), ok: r.exitCode === 0 };
  };
  const add = (kind: IdKind, value: string, source: string, slot?: number) => {
    if (!found.some((f) => f.kind === kind && f.value === value && f.slot === slot))
      found.push({ kind, value, source, ...(slot !== undefined ? { slot } : {}) });
  };
  const prop = async (name: string): Promise<string> => {
    const v = (await sh(`getprop ${name}`)).text.trim();
    return v === 'unknown' ? '' : v;
  };
  /** A String16 from iphonesubinfo, validated for its kind. */
  const subInfo = async (kind: IdKind, args: string): Promise<{ value?: string; why: string }> => {
    const command = `service call iphonesubinfo ${args}`;
    const r: ParcelReply = decodeParcelString((await sh(command)).text);
    if (r.kind === 'refused')
      return { why: `refused (exception ${r.code}${r.message ? `: ${r.message.slice(0, 120)}` : ''})` };
    if (r.kind === 'unreadable') return { why: `no Parcel in the reply (${r.why})` };
    if (r.kind === 'null' || r.value === '') return { why: 'the phone has none (null)' };
    const check = valid[kind];
    if (check && !check(r.value)) return { why: `the reply is not a valid ${kind}` };
    return { value: r.value, why: '' };
  };

  // IMEI, per slot: service call (codes by SDK level), then dumpsys, then vendor props.
  const calls = subInfoCalls(o.sdk);
  for (const slot of [0, 1]) {
    const tried: string[] = [];
    const whys: string[] = [];
    let value: string | undefined;
    let source = '';
    const args = calls.imeiForSlot ? calls.imeiForSlot(slot) : slot === 0 ? calls.imei : undefined;
    if (args) {
      tried.push(`service call iphonesubinfo ${args}`);
      const r = await subInfo('imei', args);
      if (r.value) [value, source] = [r.value, tried[0]!];
      else whys.push(r.why);
    }
    if (!value && slot === 0) {
      tried.push('dumpsys iphonesubinfo');
      const m = /Device ID = (\d{15})\b/.exec((await sh('dumpsys iphonesubinfo')).text);
      if (m && luhnValid(m[1]!)) [value, source] = [m[1], 'dumpsys iphonesubinfo'];
      else whys.push('dumpsys iphonesubinfo names no valid Device ID');
    }
    for (const p of value ? [] : IMEI_PROPS[slot]!) {
      tried.push(`getprop ${p}`);
      const v = await prop(p);
      if (luhnValid(v)) {
        [value, source] = [v, `getprop ${p}`];
        break;
      }
    }
    if (value) add('imei', value, source, slot);
    else if (slot === 0 || whys.some((w) => !w.includes('null')))
      unread.push({ kind: 'imei', slot, tried, why: whys.join('; ') || 'no source gave one' });
  }

  // Serials: every distinct value of the serial props (vendors keep another beside ro.serialno).
  for (const p of SERIAL_PROPS) {
    const v = await prop(p);
    if (v) add('serial', v, `getprop ${p}`);
  }
  if (!found.some((f) => f.kind === 'serial'))
    unread.push({
      kind: 'serial',
      tried: SERIAL_PROPS.map((p) => `getprop ${p}`),
      why: 'every property is empty',
    });

  const setting = async (kind: IdKind, key: string, normalise: (v: string) => string | undefined) => {
    const command = `settings get secure ${key}`;
    const r = await sh(command);
    const v = r.text.trim();
    const value = r.ok && v !== 'null' && v !== '' ? normalise(v) : undefined;
    if (value) add(kind, value, command);
    else
      unread.push({ kind, tried: [command], why: r.ok ? `the setting is ${v || 'empty'}` : v.slice(0, 120) });
  };
  // Android ID: 64-bit hex, padded to 16 digits as apps send it.
  await setting('android-id', 'android_id', (v) =>
    /^[0-9a-f]{1,16}$/i.test(v) ? v.toLowerCase().padStart(16, '0') : undefined,
  );
  await setting('bluetooth-mac', 'bluetooth_address', (v) => {
    const m = v.toLowerCase();
    return MAC.test(m) && m !== PLACEHOLDER_MAC ? m : undefined;
  });

  // The Wi-Fi interface's MAC: the randomized one while such a network is connected.
  {
    const command = 'cat /sys/class/net/wlan0/address';
    const r = await sh(command);
    const v = r.text.trim().toLowerCase();
    if (r.ok && MAC.test(v) && v !== PLACEHOLDER_MAC) add('wifi-mac', v, command);
    else unread.push({ kind: 'wifi-mac', tried: [command], why: r.ok ? 'not a MAC address' : 'no wlan0' });
  }

  // SIM: IMSI, ICCID and the phone number need privileges from Android 10; a phone without a SIM has none.
  for (const [kind, args] of [
    ['imsi', calls.imsi],
    ['iccid', calls.iccid],
    ['phone-number', calls.line1],
  ] as const) {
    if (!args) {
      unread.push({ kind, tried: [], why: `no known transaction code on SDK ${o.sdk}` });
      continue;
    }
    const r = await subInfo(kind, args);
    if (r.value) add(kind, r.value, `service call iphonesubinfo ${args}`);
    else unread.push({ kind, tried: [`service call iphonesubinfo ${args}`], why: r.why });
  }

  // Accounts (Google, Mi …): names as the account manager lists them.
  {
    const command = 'dumpsys account';
    const text = (await sh(command)).text;
    for (const m of text.matchAll(/Account \{name=([^,}\n]+), type=([^}\n]+)\}/g))
      add('account', m[1]!.trim(), `${command} (${m[2]!.trim()})`);
  }

  // Advertising ID: Play services' private file, root only.
  {
    const file = '/data/data/com.google.android.gms/shared_prefs/adid_settings.xml';
    const command = `su -c cat ${file}`;
    if (!o.rooted) unread.push({ kind: 'advertising-id', tried: [], why: `needs root (${file})` });
    else {
      const m = /name="adid_key">([0-9a-f-]{36})</i.exec((await sh(command)).text);
      if (m) add('advertising-id', m[1]!.toLowerCase(), command);
      else unread.push({ kind: 'advertising-id', tried: [command], why: 'no adid_key in the file' });
    }
  }

  // Wi-Fi network: SSID and BSSID of the connection.
  {
    const command = 'cmd wifi status';
    const text = (await sh(command)).text;
    const ssid = /SSID: "([^"\n]*)"/.exec(text)?.[1] ?? /connected to "([^"\n]*)"/.exec(text)?.[1];
    if (ssid) add('wifi-ssid', ssid, command);
    else unread.push({ kind: 'wifi-ssid', tried: [command], why: 'not connected, or not told' });
    const bssid = /BSSID: ([0-9a-f:]{17})/i.exec(text)?.[1]?.toLowerCase();
    if (bssid && bssid !== PLACEHOLDER_MAC) add('wifi-bssid', bssid, command);
    else unread.push({ kind: 'wifi-bssid', tried: [command], why: 'not told' });
  }

  const list = await sh('pm list packages');
  const packages = [...list.text.matchAll(/^package:(\S+)$/gm)].map((m) => m[1]!).sort();
  return { found, unread, packages };
}
