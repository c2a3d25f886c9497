import assert from 'node:assert/strict';
import { test } from 'node:test';
import { explainObstacle } from './xiaomi-obstacles.js';

test('a refused adb install (Install via USB) is recognised, with what to turn on', () => {
  // As appium-adb reports a failed install of its helper APK on a Redmi.
  const text =
    'An unknown server-side error occurred while processing the command. Original error: Cannot install ' +
    "'/work/main/.appium/node_modules/appium-uiautomator2-driver/node_modules/io.appium.settings/apks/settings_apk-debug.apk' " +
    "according to the output: 'adb: failed to install settings_apk-debug.apk: Failure [INSTALL_FAILED_USER_RESTRICTED: Install canceled by user]'";
  const o = explainObstacle(text);
  assert.equal(o?.kind, 'install-via-usb');
  assert.match(o!.advice, /Developer options/);
  assert.match(o!.advice, /turn on "Install via USB"/);
  assert.match(o!.advice, /MIUI optimization/);
  // The other spellings seen on MIUI and HyperOS.
  assert.equal(
    explainObstacle('Failure [INSTALL_FAILED_USER_RESTRICTED: : Failed INSTALL_CANCELLED_BY_USER]')?.kind,
    'install-via-usb',
  );
  assert.equal(explainObstacle('Installation via USB is disabled.')?.kind, 'install-via-usb');
});

test('taps and settings refused by MIUI point at "USB debugging (Security settings)"', () => {
  const tap =
    'An unknown server-side error occurred while processing the command. Original error: ' +
    'java.lang.SecurityException: Injecting to another application requires INJECT_EVENTS permission\n' +
    '\tat android.os.Parcel.createException(Parcel.java:2074)';
  assert.equal(explainObstacle(tap)?.kind, 'usb-debugging-security');
  assert.match(explainObstacle(tap)!.advice, /turn on "USB debugging \(Security settings\)"/);
  const settings =
    "Error executing adbExec. Original error: 'Command 'adb -P 5037 -s 9a3f1c2e shell settings put global " +
    "hidden_api_policy 1' exited with code 255'; Stderr: 'Security exception: Permission denial: writing to " +
    "settings requires:android.permission.WRITE_SECURE_SETTINGS'";
  assert.equal(explainObstacle(settings)?.kind, 'usb-debugging-security');
  const grant =
    'java.lang.SecurityException: grantRuntimePermission: Neither user 2000 nor current process has ' +
    'android.permission.GRANT_RUNTIME_PERMISSIONS.';
  assert.equal(explainObstacle(grant)?.kind, 'usb-debugging-security');
});

test('the Appium Settings helper stopped by the phone points at "MIUI optimization"', () => {
  const text =
    'An unknown server-side error occurred while processing the command. Original error: ' +
    'Appium Settings app is not running after 5000ms';
  const o = explainObstacle(text);
  assert.equal(o?.kind, 'miui-optimization');
  assert.match(o!.advice, /turn off "MIUI optimization"/);
  assert.match(o!.advice, /HyperOS/);
});

test('other failures are not blamed on the phone', () => {
  assert.equal(explainObstacle('Device 127.0.0.1:5555 was not in the list of connected devices'), undefined);
  assert.equal(explainObstacle('INSTALL_FAILED_INSUFFICIENT_STORAGE'), undefined);
  assert.equal(explainObstacle(''), undefined);
});
