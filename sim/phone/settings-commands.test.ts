import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

// adbkit's getproperties parser: the format every adb client reads.
const RE_KEYVAL = /^\[([\s\S]*?)\]: \[([\s\S]*?)\]\r?$/gm;

test('getprop lists every property as "[key]: [value]", sorted, with the identifiers filled in', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'getprop');
  const props: Record<string, string> = {};
  for (const m of r.stdout.matchAll(RE_KEYVAL)) props[m[1]!] = m[2]!;
  assert.equal(props['ro.serialno'], 'a1b2c3d4');
  assert.equal(props['ro.boot.serialno'], 'a1b2c3d4');
  assert.equal(props['sys.boot_completed'], '1');
  assert.equal(props['ro.miui.ui.version.name'], 'V816');
  const keys = Object.keys(props);
  assert.deepEqual(keys, [...keys].sort());
  assert.equal(keys.length, r.stdout.trim().split('\n').length);
});

test('getprop KEY prints the value or an empty line, exit 0 either way; a default is used for missing keys', async () => {
  const p = await makePhone();
  assert.deepEqual(await runShell(p, 'getprop ro.build.version.release'), {
    stdout: '14\n',
    stdoutBytes: Buffer.from('14\n'),
    stderr: '',
    code: 0,
  });
  const missing = await runShell(p, 'getprop no.such.prop');
  assert.equal(missing.stdout, '\n');
  assert.equal(missing.code, 0);
  assert.equal((await runShell(p, 'getprop no.such.prop fallback')).stdout, 'fallback\n');
});

test('setprop: ro.* cannot change, debug.* can', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'setprop ro.build.type eng');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Failed to set property 'ro.build.type' to 'eng'/);
  assert.equal((await runShell(p, 'getprop ro.build.type')).stdout, 'user\n');
  assert.equal((await runShell(p, 'setprop debug.phonehome 1 && getprop debug.phonehome')).stdout, '1\n');
});

test('settings get/put/delete/list with null for missing keys', async () => {
  const p = await makePhone();
  assert.equal((await runShell(p, 'settings get global adb_enabled')).stdout, '1\n');
  assert.equal((await runShell(p, 'settings get global hidden_api_policy')).stdout, 'null\n');
  const put = await runShell(
    p,
    'settings put global hidden_api_policy_pre_p_apps 1;settings put global hidden_api_policy_p_apps 1;settings put global hidden_api_policy 1',
  );
  assert.equal(put.code, 0);
  assert.equal((await runShell(p, 'settings get global hidden_api_policy')).stdout, '1\n');
  const del = await runShell(
    p,
    'settings delete global hidden_api_policy_pre_p_apps;settings delete global hidden_api_policy_p_apps;settings delete global hidden_api_policy',
  );
  assert.equal(del.code, 0);
  assert.equal(del.stdout, 'Deleted 1 rows\n'.repeat(3));
  assert.match((await runShell(p, 'settings list secure')).stdout, /^android_id=3f6a1c92b07e45d8$/m);
  assert.equal((await runShell(p, 'settings get bogus x')).code, 255);
});

test('the consent settings named in the profile drive the traffic state', async () => {
  const p = await makePhone();
  const seen: string[] = [];
  p.state.on('change', (k: string) => seen.push(k));
  assert.equal(p.state.trafficState().analyticsConsent, false);
  await runShell(p, 'settings put secure upload_log_pref 1');
  assert.equal(p.state.trafficState().analyticsConsent, true);
  await runShell(p, 'settings put secure personalized_ad_enabled 1');
  assert.equal(p.state.trafficState().adsConsent, true);
  await runShell(p, 'settings put secure micloud_backup_enabled 1');
  assert.equal(p.state.trafficState().backupEnabled, true);
  assert.ok(seen.includes('setting'));
  const pixel = await makePhone('pixel');
  await runShell(pixel, 'settings put global usage_diagnostics_enabled 1');
  assert.equal(pixel.state.trafficState().analyticsConsent, true);
  assert.equal(pixel.state.trafficState().adsConsent, false);
});

test('settings put global airplane_mode_on 1 turns airplane mode on', async () => {
  const p = await makePhone();
  await runShell(p, 'settings put global airplane_mode_on 1');
  assert.equal(p.state.system.airplaneMode, true);
  assert.equal((await runShell(p, 'cmd connectivity airplane-mode')).stdout, 'enabled\n');
});
