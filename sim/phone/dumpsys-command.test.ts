import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { parseBattery } from '../../harness/device/facts.js';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

// appium-adb's lock detection (UIA2.md, lockmgmt.ts) and focus regexes (app-commands.ts).
function lockedPerAppium(window: string, power: string): boolean {
  if (/mShowingLockscreen=true/.test(window) || /mDreamingLockscreen=true/.test(window)) return true;
  if (/KeyguardStateMonitor[\n\s]+mIsShowing=true/.test(window) && /\s+mInputRestricted=true/.test(window))
    return true;
  if (/mCurrentFocus.+Keyguard/i.test(window)) return true;
  const m = /mScreenOnFully=(\w+)/.exec(window);
  if (m && m[1] !== 'true') return true;
  if (/\s+screenState=SCREEN_STATE_OFF/i.test(window)) return true;
  return /^[\s\w]+wakefulness[^=]*=Dozing$/im.test(power);
}
const FOCUSED_APP = /^\s*mFocusedApp.+Record\{.*\s([^\s/}]+)\/([^\s/},]+),?(\s[^\s/}]+)*\}/m;
const CURRENT_FOCUS = /^\s*mCurrentFocus.+\{.+\s([^\s/]+)\/([^\s]+)\b/m;

test('dumpsys window shows the focused activity in the shapes appium-adb parses', async () => {
  const p = await makePhone();
  await runShell(p, 'am start -n com.android.settings/.Settings');
  const w = (await runShell(p, 'dumpsys window displays')).stdout;
  assert.deepEqual(FOCUSED_APP.exec(w)?.slice(1, 3), ['com.android.settings', '.Settings']);
  assert.deepEqual(CURRENT_FOCUS.exec(w)?.slice(1, 3), [
    'com.android.settings',
    'com.android.settings.Settings',
  ]);
});

test('lock state: unlocked lab phone, then power key → locked and asleep, then wake + dismiss', async () => {
  const p = await makePhone();
  const state = async () => ({
    window: (await runShell(p, 'dumpsys window')).stdout,
    power: (await runShell(p, 'dumpsys power')).stdout,
  });
  let s = await state();
  assert.equal(lockedPerAppium(s.window, s.power), false);
  assert.match(s.power, /^ {2}mWakefulness=Awake$/m);
  await runShell(p, 'input keyevent 26');
  s = await state();
  assert.equal(lockedPerAppium(s.window, s.power), true);
  assert.match(s.power, /^ {2}mWakefulness=Asleep$/m);
  assert.equal(p.state.trafficState().screenOn, false);
  // Appium's unlock with no unlockType: power, wakeup, dismiss-keyguard.
  await runShell(p, 'input keyevent 26; input keyevent 224; wm dismiss-keyguard');
  s = await state();
  assert.equal(lockedPerAppium(s.window, s.power), false);
});

test('a PIN keyguard ignores wm dismiss-keyguard and a wrong PIN, and opens with the right one', async () => {
  const p = await makePhone('pixel', {
    edit: (pr) => {
      pr.screen.lock = 'pin';
      pr.screen.pin = '2468';
    },
    locked: true,
  });
  await runShell(p, 'wm dismiss-keyguard');
  assert.match((await runShell(p, 'dumpsys window')).stdout, /mShowingLockscreen=true/);
  await runShell(p, 'input text 1111 && input keyevent 66');
  assert.match((await runShell(p, 'dumpsys window')).stdout, /mShowingLockscreen=true/);
  await runShell(p, 'input text 2468 && input keyevent 66');
  assert.match((await runShell(p, 'dumpsys window')).stdout, /mShowingLockscreen=false/);
  // Appium's pinWithKeyEvent: digit keycodes, then ENTER.
  await runShell(p, 'input keyevent 26');
  await runShell(p, 'input keyevent 224; input keyevent 9 11 13 15 KEYCODE_ENTER');
  assert.equal(p.state.screen.locked, false);
});

test('dumpsys battery is read by the harness facts parser; dumpsys battery set level changes it', async () => {
  const p = await makePhone();
  assert.deepEqual(parseBattery((await runShell(p, 'dumpsys battery')).stdout), {
    level: 82,
    temperature: 29.5,
  });
  await runShell(p, 'dumpsys battery set level 15');
  assert.equal(parseBattery((await runShell(p, 'dumpsys battery')).stdout).level, 15);
  await runShell(p, 'dumpsys battery reset');
  assert.equal(parseBattery((await runShell(p, 'dumpsys battery')).stdout).level, 82);
});

test('dumpsys package of a missing package has no Package [...] line', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'dumpsys package io.appium.settings');
  assert.equal(r.code, 0);
  assert.doesNotMatch(r.stdout, /Package \[io\.appium\.settings\]/);
  const present = (await runShell(p, 'dumpsys package com.miui.analytics')).stdout;
  assert.match(present, /^ {2}Package \[com\.miui\.analytics\] \([0-9a-f]{7}\):$/m);
  assert.match(present, /^ {4}versionCode=2024041500 minSdk=\d+ targetSdk=34$/m);
});

test('dumpsys deviceidle whitelist +PKG as appium-adb sends it', async () => {
  const p = await makePhone();
  const r = await runShell(
    p,
    'dumpsys deviceidle whitelist +com.miui.analytics ; dumpsys deviceidle whitelist +io.appium.nope ;',
  );
  assert.equal(r.stdout, 'Added: com.miui.analytics\nUnknown package: io.appium.nope\n');
  assert.match(
    (await runShell(p, 'dumpsys deviceidle whitelist')).stdout,
    /^user,com\.miui\.analytics,10117$/m,
  );
});

test('dumpsys wifi, account and an unknown service', async () => {
  const p = await makePhone();
  assert.match((await runShell(p, 'dumpsys wifi')).stdout, /^Wi-Fi is enabled$/m);
  await runShell(p, 'svc wifi disable');
  assert.match((await runShell(p, 'dumpsys wifi')).stdout, /^Wi-Fi is disabled$/m);
  p.state.addAccount({ type: 'com.xiaomi', name: '6123456789' });
  assert.match(
    (await runShell(p, 'dumpsys account')).stdout,
    /Account \{name=6123456789, type=com\.xiaomi\}/,
  );
  assert.equal(p.state.trafficState().accountSignedIn, true);
  assert.equal((await runShell(p, 'dumpsys nosuch')).stderr, "Can't find service: nosuch\n");
});
