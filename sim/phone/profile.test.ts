import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { romOf } from '../../harness/device/facts.js';
import { SimConfigError } from '../errors.js';
import { loadPhoneProfile, parsePhoneProfile } from './profile.js';

const XIAOMI = 'devices/sim/xiaomi-redmi-note-13.yaml';
const PIXEL = 'devices/sim/pixel-7.yaml';

test('the Xiaomi profile is a HyperOS global Redmi Note 13 on Android 14 with Xiaomi system apps', async () => {
  const p = await loadPhoneProfile(XIAOMI);
  assert.equal(p.properties['ro.product.manufacturer'], 'Xiaomi');
  assert.equal(p.properties['ro.build.version.sdk'], '34');
  assert.equal(p.properties['ro.build.type'], 'user');
  assert.match(p.properties['ro.build.fingerprint'] ?? '', /^Redmi\/sapphire_global\/sapphire:14\//);
  // The harness's own ROM detection reads these properties.
  assert.deepEqual(romOf(p.properties), { rom: 'HyperOS', romVersion: 'OS1.0.7.0.UNGMIXM' });
  const names = p.packages.map((x) => x.name);
  for (const n of [
    'com.miui.analytics',
    'com.xiaomi.xmsf',
    'com.miui.msa.global',
    'com.miui.cloudbackup',
    'com.android.thememanager',
    'com.xiaomi.account',
    'com.miui.securitycenter',
    'com.mi.globalbrowser',
  ]) {
    assert.ok(names.includes(n), n);
  }
  assert.equal(p.pcapdroid?.apiKey !== undefined, true);
  assert.ok(names.includes('com.emanuelef.remote_capture'));
});

test('the Pixel profile is stock Android 14 with Google packages and no PCAPdroid', async () => {
  const p = await loadPhoneProfile(PIXEL);
  assert.equal(p.properties['ro.product.model'], 'Pixel 7');
  assert.equal(romOf(p.properties).rom, 'Pixel stock');
  const names = p.packages.map((x) => x.name);
  assert.ok(names.includes('com.google.android.gms'));
  assert.ok(!names.includes('com.emanuelef.remote_capture'));
  assert.ok(!names.some((n) => n.startsWith('com.miui.')));
});

test('an unquoted number among the properties is pointed at by file:line:column', () => {
  const text = readFileSync(XIAOMI, 'utf8').replace('ro.build.version.sdk: "34"', 'ro.build.version.sdk: 34');
  const line = text.split('\n').findIndex((l) => l.includes('ro.build.version.sdk: 34')) + 1;
  assert.throws(
    () => parsePhoneProfile(text, 'x.yaml'),
    (e: unknown) => {
      assert.ok(e instanceof SimConfigError);
      assert.equal(e.line, line);
      assert.equal(e.path, 'properties.ro.build.version.sdk');
      assert.match(
        e.message,
        new RegExp(`^x\\.yaml:${line}:\\d+: properties\\.ro\\.build\\.version\\.sdk: expected a string`),
      );
      return true;
    },
  );
});

test('a package listed twice, a bad IMEI and broken YAML are errors with positions', () => {
  const base = readFileSync(PIXEL, 'utf8');
  const dup = `${base}\n  - { name: com.android.chrome, uid: 10151, versionCode: 1, versionName: "1", path: /x.apk }\n`;
  assert.throws(
    () => parsePhoneProfile(dup, 'p.yaml'),
    /p\.yaml:\d+:\d+: packages\[\d+\]\.name: com\.android\.chrome is listed twice/,
  );
  const badImei = base.replace('imei: "355296241876544"', 'imei: "35529"');
  assert.throws(() => parsePhoneProfile(badImei, 'p.yaml'), /identifiers\.imei: expected a 15-digit IMEI/);
  const badCheck = base.replace('imei: "355296241876544"', 'imei: "355296241876543"');
  assert.throws(
    () => parsePhoneProfile(badCheck, 'p.yaml'),
    /identifiers\.imei: the last digit is not the check digit/,
  );
  assert.throws(
    () => parsePhoneProfile('a: [1, 2\n', 'b.yaml'),
    (e: unknown) => e instanceof SimConfigError && /not valid YAML/.test(e.message),
  );
});

test('a missing file is a SimConfigError naming it', async () => {
  await assert.rejects(
    loadPhoneProfile('devices/sim/none.yaml'),
    /devices\/sim\/none\.yaml: cannot read the device profile/,
  );
});
