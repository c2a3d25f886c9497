import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import type { InstrumentRun } from './command.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

const APKS = 'node_modules/appium-uiautomator2-server/apks';

test('am start brings the activity to the foreground and the traffic state follows', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'am start -n com.android.thememanager/.ThemeResourceTabActivity');
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Starting: Intent { cmp=com.android.thememanager/.ThemeResourceTabActivity }\n');
  assert.equal(p.state.trafficState().foregroundPackage, 'com.android.thememanager');
  assert.match((await runShell(p, 'ps -A')).stdout, / com\.android\.thememanager$/m);
});

test("Appium's start-activity with -W -S: Status ok, LaunchState, TotalTime, Complete", async () => {
  const p = await makePhone('pixel');
  const r = await runShell(
    p,
    'am start-activity -W -n com.android.settings/.Settings -S -a android.intent.action.MAIN -c android.intent.category.LAUNCHER -f 0x10200000',
  );
  assert.equal(r.code, 0);
  assert.match(
    r.stdout,
    /^Starting: Intent \{ act=android\.intent\.action\.MAIN cat=\[android\.intent\.category\.LAUNCHER\] flg=0x10200000 cmp=com\.android\.settings\/\.Settings \}\nStatus: ok\nLaunchState: COLD\nActivity: com\.android\.settings\/\.Settings\nTotalTime: \d+\nWaitTime: \d+\nComplete\n$/,
  );
  const again = await runShell(p, 'am start -W -n com.android.settings/.Settings');
  assert.match(
    again.stdout,
    /Warning: Activity not started, intent has been delivered to currently running top-most instance\./,
  );
});

test('an unknown activity or package errors like a phone and the foreground stays', async () => {
  const p = await makePhone();
  const before = p.state.apps.foreground;
  const r = await runShell(p, 'am start -n com.android.settings/.NoSuch');
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /^Error type 3\nError: Activity class \{com\.android\.settings\/com\.android\.settings\.NoSuch\} does not exist\.$/m,
  );
  const pkg = await runShell(p, 'am start -n com.nope/.Main');
  assert.match(pkg.stderr, /Activity class \{com\.nope\/com\.nope\.Main\} does not exist/);
  const intent = await runShell(p, 'am start -a com.nope.ACTION');
  assert.match(
    intent.stderr,
    /^Error: Activity not started, unable to resolve Intent \{ act=com\.nope\.ACTION \}$/m,
  );
  assert.equal(p.state.apps.foreground, before);
});

test('am force-stop ends the app: the foreground returns home and its process is gone', async () => {
  const p = await makePhone();
  await runShell(p, 'monkey -p com.mi.globalbrowser -c android.intent.category.LAUNCHER 1');
  assert.equal(p.state.apps.foregroundPackage, 'com.mi.globalbrowser');
  await runShell(p, 'am force-stop com.mi.globalbrowser');
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.home');
  assert.doesNotMatch((await runShell(p, 'ps -A')).stdout, /com\.mi\.globalbrowser/);
  assert.equal(
    (await runShell(p, 'monkey -p com.miui.analytics -c android.intent.category.LAUNCHER 1')).code,
    252,
  );
});

test('the backup broadcast starts a backup only when cloud backup is on', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'am broadcast -a com.miui.cloudbackup.action.BACKUP_NOW');
  assert.equal(
    r.stdout,
    'Broadcasting: Intent { act=com.miui.cloudbackup.action.BACKUP_NOW flg=0x400000 }\nBroadcast completed: result=0\n',
  );
  assert.equal(p.state.trafficState().backupRunning, false);
  await runShell(p, 'settings put secure micloud_backup_enabled 1');
  await runShell(p, 'am broadcast -a com.miui.cloudbackup.action.BACKUP_NOW');
  assert.equal(p.state.trafficState().backupRunning, true);
  await runShell(p, 'am force-stop com.miui.cloudbackup');
  assert.equal(p.state.trafficState().backupRunning, false);
  // Turning cloud backup off stops the backup under way: it does not go on, unseen, until backup is
  // turned on again.
  await runShell(p, 'am broadcast -a com.miui.cloudbackup.action.BACKUP_NOW');
  await runShell(p, 'settings put secure micloud_backup_enabled 0');
  assert.equal(p.state.backupRunning, false);
  // A backup lasts the profile's duration in phone time: at speed 900, 90 s take 100 ms.
  p.state.setSpeed(900);
  await runShell(p, 'settings put secure micloud_backup_enabled 1');
  await runShell(p, 'am broadcast -a com.miui.cloudbackup.action.BACKUP_NOW');
  assert.equal(p.state.backupRunning, true);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(p.state.backupRunning, false);
});

test('am instrument -w runs until am force-stop; the hook serves a phone port meanwhile', async () => {
  const runs: InstrumentRun[] = [];
  const p = await makePhone('pixel', {
    onInstrument: (run) => {
      runs.push(run);
      run.listen(6790, (s: Duplex) => {
        s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
      });
      run.print('INSTRUMENTATION_STATUS_CODE: 1');
    },
  });
  copyFileSync(`${APKS}/appium-uiautomator2-server-v10.6.6.apk`, p.hostPath('/data/local/tmp/s.apk')!);
  copyFileSync(
    `${APKS}/appium-uiautomator2-server-debug-androidTest.apk`,
    p.hostPath('/data/local/tmp/t.apk')!,
  );
  await runShell(p, 'pm install /data/local/tmp/s.apk && pm install /data/local/tmp/t.apk');
  await assert.rejects(p.connectTcp(6790), { code: 'ECONNREFUSED' });
  let finished = false;
  const instrument = runShell(
    p,
    'am instrument -w -e disableAnalytics true io.appium.uiautomator2.server.test/androidx.test.runner.AndroidJUnitRunner',
  ).then((r) => {
    finished = true;
    return r;
  });
  for (let i = 0; i < 500 && runs.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(finished, false, 'am instrument -w keeps running');
  assert.equal(runs.length, 1);
  assert.deepEqual(runs[0]!.args, { disableAnalytics: 'true' });
  assert.equal(runs[0]!.targetPackage, 'io.appium.uiautomator2.server');
  const sock = await p.connectTcp(6790);
  let reply = '';
  for await (const chunk of sock) reply += chunk;
  assert.match(reply, /^HTTP\/1\.1 200 OK/);
  assert.match((await runShell(p, 'ps -A')).stdout, / io\.appium\.uiautomator2\.server$/m);
  await runShell(p, 'am force-stop io.appium.uiautomator2.server');
  const r = await instrument;
  assert.equal(runs[0]!.signal.aborted, true);
  assert.match(r.stdout, /^INSTRUMENTATION_STATUS_CODE: 1\n[\s\S]*INSTRUMENTATION_CODE: -1\n$/);
  await assert.rejects(p.connectTcp(6790), { code: 'ECONNREFUSED' });
  assert.doesNotMatch((await runShell(p, 'ps -A')).stdout, / io\.appium\.uiautomator2\.server$/m);
});

test('am instrument of an unknown instrumentation fails as on a phone', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'am instrument -w com.nope.test/androidx.test.runner.AndroidJUnitRunner');
  assert.equal(r.code, 1);
  assert.match(
    r.stdout,
    /INSTRUMENTATION_STATUS: Error=Unable to find instrumentation info for: ComponentInfo\{com\.nope\.test\/androidx\.test\.runner\.AndroidJUnitRunner\}/,
  );
  assert.match(r.stderr, /INSTRUMENTATION_FAILED/);
});

test("Appium Settings' launch starts its foreground service (dumpsys activity services isForeground=true)", async () => {
  const p = await makePhone('pixel');
  // Install a package named io.appium.settings with a .Settings activity, as the real helper APK has.
  p.state.apps.install({
    ...p.state.apps.packages.get('com.android.settings')!,
    name: 'io.appium.settings',
    uid: 10_300,
    system: false,
    path: '/data/app/~~x==/io.appium.settings-y==/base.apk',
    launchActivity: 'io.appium.settings/io.appium.settings.Settings',
    activities: ['io.appium.settings/io.appium.settings.Settings'],
    granted: new Set(),
  });
  assert.doesNotMatch(
    (await runShell(p, 'dumpsys activity services io.appium.settings')).stdout,
    /isForeground=true/,
  );
  await runShell(
    p,
    'am start-activity -n io.appium.settings/.Settings -a android.intent.action.MAIN -c android.intent.category.LAUNCHER',
  );
  assert.match(
    (await runShell(p, 'dumpsys activity services io.appium.settings')).stdout,
    /isForeground=true/,
  );
  const rec = (await runShell(p, 'dumpsys activity services io.appium.settings/.recorder.RecorderService'))
    .stdout;
  assert.doesNotMatch(rec, /RecorderService/);
});

test('the hook can run shell commands and end its own instrumentation (as the UiAutomator2 server does after DELETE /session)', async () => {
  let finish: (() => void) | undefined;
  const execCodes: number[] = [];
  const p = await makePhone('pixel', {
    onInstrument: (run) => {
      run.listen(6790, (s: Duplex) => s.end());
      finish = () => run.finish();
      void run.exec('input keyevent 26').then((r) => execCodes.push(r.code));
    },
  });
  copyFileSync(`${APKS}/appium-uiautomator2-server-v10.6.6.apk`, p.hostPath('/data/local/tmp/s.apk')!);
  copyFileSync(
    `${APKS}/appium-uiautomator2-server-debug-androidTest.apk`,
    p.hostPath('/data/local/tmp/t.apk')!,
  );
  await runShell(p, 'pm install /data/local/tmp/s.apk && pm install /data/local/tmp/t.apk');
  const instrument = runShell(
    p,
    'am instrument -w io.appium.uiautomator2.server.test/androidx.test.runner.AndroidJUnitRunner',
  );
  for (let i = 0; i < 500 && !finish; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(finish);
  finish();
  const r = await instrument;
  assert.match(r.stdout, /INSTRUMENTATION_CODE: -1/);
  await assert.rejects(p.connectTcp(6790), { code: 'ECONNREFUSED' });
  assert.equal(p.state.apps.processes.has('io.appium.uiautomator2.server'), false);
  assert.deepEqual(execCodes, [0]);
  assert.equal(p.state.screen.on, false, 'the hook pressed POWER through the shell');
});
