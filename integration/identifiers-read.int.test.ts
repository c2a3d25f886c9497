/**
 * The identifiers a phone holds, read over the real adb server from a simulated phone by the code that
 * reads a real one (harness/identifiers/read-identifiers.ts), and compared with its profile.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AdbClient } from '../harness/device/adb.js';
import { AdbDeviceControl } from '../harness/device/device-control.js';
import { readIdentifiers } from '../harness/identifiers/read-identifiers.js';
import { startPhoneRig } from './phone-rig.js';

const SOURCE_IMEI = (slot: number) => `service call iphonesubinfo 4 i32 ${slot} s16 com.android.shell`;

test('the simulated Xiaomi without a SIM: IMEIs of both slots, serial, Android ID, Bluetooth MAC, packages; no SIM values', async () => {
  const rig = await startPhoneRig({ profile: 'devices/sim/xiaomi-redmi-note-13.yaml' });
  try {
    const device = new AdbDeviceControl(
      new AdbClient({ host: '127.0.0.1', port: rig.port }).device(rig.serial),
    );
    const ids = rig.phone.state.profile.identifiers;
    const r = await readIdentifiers(device, { sdk: 34, rooted: false });
    const got = (kind: string) =>
      r.found.filter((f) => f.kind === kind).map((f) => [f.value, f.source, f.slot]);
    assert.deepEqual(got('imei'), [
      [ids.imei, SOURCE_IMEI(0), 0],
      [ids.imei2, SOURCE_IMEI(1), 1],
    ]);
    assert.deepEqual(got('serial')[0], [ids.serial, 'getprop ro.serialno', undefined]);
    assert.deepEqual(got('android-id'), [[ids.androidId, 'settings get secure android_id', undefined]]);
    assert.deepEqual(got('bluetooth-mac'), [
      [ids.bluetoothMac, 'settings get secure bluetooth_address', undefined],
    ]);
    const unread = new Map<string, string>(r.unread.map((u) => [u.kind, u.why]));
    for (const k of ['imsi', 'iccid', 'phone-number'])
      assert.equal(unread.get(k), 'the phone has none (null)', k);
    assert.equal(
      unread.get('advertising-id'),
      'needs root (/data/data/com.google.android.gms/shared_prefs/adid_settings.xml)',
    );
    assert.equal(unread.get('wifi-mac'), 'no wlan0', 'the rig phone has no network');
    assert.ok(r.packages.includes('com.xiaomi.xmsf'), 'the package list is read');
  } finally {
    await rig.dispose();
  }
});

test('with a SIM inserted: IMSI, ICCID and the phone number are read as the profile holds them', async () => {
  const rig = await startPhoneRig({
    profile: 'devices/sim/xiaomi-redmi-note-13.yaml',
    prepare: (phone) => {
      phone.state.setSim(true);
    },
  });
  try {
    const device = new AdbDeviceControl(
      new AdbClient({ host: '127.0.0.1', port: rig.port }).device(rig.serial),
    );
    const ids = rig.phone.state.profile.identifiers;
    const r = await readIdentifiers(device, { sdk: 34, rooted: false });
    const one = (kind: string) => r.found.find((f) => f.kind === kind);
    assert.deepEqual(
      [one('imsi')?.value, one('imsi')?.source],
      [ids.imsi, 'service call iphonesubinfo 8 s16 com.android.shell'],
    );
    assert.equal(one('iccid')?.value, ids.iccid);
    assert.equal(one('phone-number')?.value, ids.phoneNumber);
  } finally {
    await rig.dispose();
  }
});

test('a release whose transaction codes are not the ones assumed gives no wrong IMEI: the reply is validated', async () => {
  const rig = await startPhoneRig({ profile: 'devices/sim/pixel-7.yaml' });
  try {
    const device = new AdbDeviceControl(
      new AdbClient({ host: '127.0.0.1', port: rig.port }).device(rig.serial),
    );
    // Read as if the phone were Android 10: code 3 is getDeviceIdForPhone there, nothing on this phone (SDK 34).
    const r = await readIdentifiers(device, { sdk: 29, rooted: false });
    const imeis = r.found.filter((f) => f.kind === 'imei');
    assert.ok(
      imeis.every((f) => f.value === rig.phone.state.profile.identifiers.imei),
      `only the phone's own IMEI, from a source that told it: ${JSON.stringify(imeis)}`,
    );
  } finally {
    await rig.dispose();
  }
});
