import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';
import type { SimPhoneInstance } from './sim-phone.js';

after(cleanupPhones);

const APKS = 'node_modules/appium-uiautomator2-server/apks';
const SERVER_APK = `${APKS}/appium-uiautomator2-server-v10.6.6.apk`;
const TEST_APK = `${APKS}/appium-uiautomator2-server-debug-androidTest.apk`;

/** What `adb push` does: the file appears under the phone's path. */
function push(phone: SimPhoneInstance, local: string, remote: string): void {
  copyFileSync(local, phone.hostPath(remote)!);
}

// appium-adb's checks (UIA2.md I1, I3, G1).
const installedRe = (pkg: string) =>
  new RegExp(`^\\s*Package\\s+\\[${pkg.replace(/\./g, '\\.')}\\][^:]+:$`, 'm');
const LIST_RE = /^package:(\S+)(?:\s+versionCode:(\d+))?/gm;

test('pm install of the real UiAutomator2 APKs; list, dumpsys and instrumentation then show them', async () => {
  const p = await makePhone('pixel');
  push(p, SERVER_APK, '/data/local/tmp/server.apk');
  push(p, TEST_APK, '/data/local/tmp/test.apk');
  const server = await runShell(p, "pm install -r -g '/data/local/tmp/server.apk'");
  assert.equal(server.stdout, 'Success\n');
  assert.equal(server.code, 0);
  assert.equal((await runShell(p, 'pm install -r /data/local/tmp/test.apk')).stdout, 'Success\n');

  const list = await runShell(p, 'cmd package list packages --show-versioncode');
  const versions = new Map([...list.stdout.matchAll(LIST_RE)].map((m) => [m[1], m[2]]));
  assert.equal(versions.get('io.appium.uiautomator2.server'), '278');
  assert.ok(versions.has('io.appium.uiautomator2.server.test'));

  const dump = (await runShell(p, 'dumpsys package io.appium.uiautomator2.server')).stdout;
  assert.match(dump, installedRe('io.appium.uiautomator2.server'));
  assert.equal(/versionCode=(\d+)/.exec(dump)?.[1], '278');
  assert.equal(/versionName=([\d+.]+)/.exec(dump)?.[1], '10.6.6');

  const instr = await runShell(p, 'pm list instrumentation');
  assert.match(
    instr.stdout,
    /^instrumentation:io\.appium\.uiautomator2\.server\.test\/androidx\.test\.runner\.AndroidJUnitRunner \(target=io\.appium\.uiautomator2\.server\)$/m,
  );
  const path = (await runShell(p, 'pm path io.appium.uiautomator2.server')).stdout;
  assert.match(
    path,
    /^package:\/data\/app\/~~[\w=-]+\/io\.appium\.uiautomator2\.server-[\w=-]+\/base\.apk\n$/,
  );
  const onPhone = p.hostPath(path.slice('package:'.length).trim())!;
  assert.deepEqual(readFileSync(onPhone), readFileSync(SERVER_APK));
  // -g granted what the manifest asks for.
  assert.ok(p.state.apps.packages.get('io.appium.uiautomator2.server')!.granted.size > 0);
});

test('the streamed install adb sends over exec: reads exactly SIZE bytes of stdin', async () => {
  const p = await makePhone();
  const size = statSync(SERVER_APK).size;
  const r = await runShell(p, `cmd package 'install' '-S' ${size}`, {
    stdin: readFileSync(SERVER_APK),
    keepStdinOpen: true,
  });
  assert.equal(r.stdout, 'Success\n');
  assert.equal(p.state.apps.packages.get('io.appium.uiautomator2.server')?.versionName, '10.6.6');
  assert.notEqual(p.state.apps.packages.get('io.appium.uiautomator2.server')?.uid, undefined);
});

test('install failures: not an APK, missing file, downgrade, MIUI "Install via USB" off', async () => {
  const p = await makePhone();
  writeFileSync(p.hostPath('/data/local/tmp/junk.apk')!, 'not a zip');
  const junk = await runShell(p, 'pm install /data/local/tmp/junk.apk');
  assert.match(junk.stdout, /^Failure \[INSTALL_PARSE_FAILED_NOT_APK/);
  assert.equal(junk.code, 1);
  const missing = await runShell(p, 'pm install /data/local/tmp/none.apk');
  assert.match(missing.stdout, /^Failure \[INSTALL_FAILED_INVALID_URI/);
  assert.notEqual(missing.code, 0);
  push(p, SERVER_APK, '/data/local/tmp/s.apk');
  await runShell(p, 'pm install /data/local/tmp/s.apk');
  p.state.apps.packages.get('io.appium.uiautomator2.server')!.versionCode = 999;
  const down = await runShell(p, 'pm install -r /data/local/tmp/s.apk');
  assert.match(down.stdout, /^Failure \[INSTALL_FAILED_VERSION_DOWNGRADE/);
  assert.equal((await runShell(p, 'pm install -r -d /data/local/tmp/s.apk')).stdout, 'Success\n');
  p.state.system.setProp('persist.security.adbinstall', '0');
  assert.match(
    (await runShell(p, 'pm install -r /data/local/tmp/s.apk')).stdout,
    /INSTALL_FAILED_USER_RESTRICTED/,
  );
});

test('pm list packages flags: -3, -s, -f, -U, filter; pm path of a missing package exits 1', async () => {
  const p = await makePhone();
  const third = (await runShell(p, 'pm list packages -3')).stdout;
  assert.equal(third, 'package:com.emanuelef.remote_capture\n');
  const sys = (await runShell(p, 'pm list packages -s')).stdout;
  assert.ok(!sys.includes('remote_capture'));
  assert.match(sys, /^package:com\.miui\.analytics$/m);
  assert.equal(
    (await runShell(p, 'pm list packages -f -U analytics')).stdout,
    'package:/system/app/AnalyticsCore/AnalyticsCore.apk=com.miui.analytics uid:10117\n',
  );
  const r = await runShell(p, 'pm path com.nope');
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match((await runShell(p, 'pm list features')).stdout, /^feature:android\.hardware\.wifi$/m);
  const resolved = await runShell(p, 'cmd package resolve-activity --brief com.android.thememanager');
  assert.equal(
    resolved.stdout.trim().split('\n').at(-1),
    'com.android.thememanager/.ThemeResourceTabActivity',
  );
});

test('pm uninstall, clear, grant and revoke', async () => {
  const p = await makePhone();
  push(p, SERVER_APK, '/data/local/tmp/s.apk');
  await runShell(p, 'pm install /data/local/tmp/s.apk');
  const pkg = 'io.appium.uiautomator2.server';
  const perm = p.state.apps.packages.get(pkg)!.requestedPermissions[0]!;
  assert.equal((await runShell(p, `pm grant ${pkg} ${perm}`)).code, 0);
  assert.ok(p.state.apps.packages.get(pkg)!.granted.has(perm));
  assert.equal((await runShell(p, `pm revoke ${pkg} ${perm}`)).code, 0);
  assert.ok(!p.state.apps.packages.get(pkg)!.granted.has(perm));
  assert.equal((await runShell(p, 'pm clear com.android.thememanager')).stdout, 'Success\n');
  assert.equal((await runShell(p, `pm grant com.nope ${perm}`)).code, 255);
  assert.equal((await runShell(p, `pm uninstall ${pkg}`)).stdout, 'Success\n');
  assert.equal((await runShell(p, `pm list packages ${pkg}`)).stdout, '');
  assert.equal(
    (await runShell(p, 'pm uninstall com.miui.analytics')).stdout,
    'Failure [DELETE_FAILED_INTERNAL_ERROR]\n',
  );
  assert.equal((await runShell(p, 'pm uninstall -k --user 0 com.miui.analytics')).stdout, 'Success\n');
});
