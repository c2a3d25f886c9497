import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppiumError, ConfigError } from '../errors.js';
import { commandError, uiautomator2Capabilities } from './session.js';

test('UiAutomator2 capabilities: phone identity, phonehome adb server, profile map on top', () => {
  const caps = uiautomator2Capabilities('127.0.0.1:5601', {
    adb: { host: '127.0.0.1', port: 5099 },
    profile: { 'appium:language': 'en', 'appium:locale': 'US', 'appium:skipLogcatCapture': false },
  });
  assert.equal(caps.platformName, 'Android');
  assert.equal(caps['appium:automationName'], 'UiAutomator2');
  assert.equal(caps['appium:udid'], '127.0.0.1:5601');
  assert.equal(caps['appium:noReset'], true);
  assert.equal(caps['appium:adbPort'], 5099);
  assert.equal(caps['appium:suppressKillServer'], true);
  assert.equal(
    caps['appium:disableWindowAnimation'],
    true,
    'no transitions while phonehome drives the screens',
  );
  assert.equal(caps['appium:remoteAdbHost'], undefined);
  assert.equal(caps['appium:language'], 'en');
  assert.equal(caps['appium:locale'], 'US');
  assert.equal(caps['appium:skipLogcatCapture'], false);
  assert.equal(typeof caps['appium:newCommandTimeout'], 'number');
  assert.equal(typeof caps['appium:uiautomator2ServerLaunchTimeout'], 'number');
});

test('a profile cannot change which phone or driver, and a remote adb server is passed on', () => {
  const caps = uiautomator2Capabilities('SERIAL1', {
    adb: { host: '10.0.0.5', port: 5037 },
    profile: { 'appium:udid': 'other', 'appium:automationName': 'Espresso' },
  });
  assert.equal(caps['appium:udid'], 'SERIAL1');
  assert.equal(caps['appium:automationName'], 'UiAutomator2');
  assert.equal(caps['appium:remoteAdbHost'], '10.0.0.5');
});

test('a capability without the appium: prefix is a config error naming the profile', () => {
  assert.throws(
    () =>
      uiautomator2Capabilities('S', {
        profile: { language: 'en' },
        profileFile: 'devices/xiaomi/profile.yaml',
      }),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.file === 'devices/xiaomi/profile.yaml' &&
      e.path === 'appium.language' &&
      /appium:language/.test(e.message),
  );
});

test('WebDriver failures map to AppiumError kinds; Xiaomi obstacles carry advice', () => {
  const noEl = Object.assign(new Error('An element could not be located on the page'), {
    name: 'no such element',
  });
  assert.equal(commandError(noEl, 'tap').kind, 'no-such-element');
  const gone = Object.assign(new Error('A session is either terminated or not started'), {
    name: 'invalid session id',
  });
  assert.equal(commandError(gone, 'tap').kind, 'session-lost');
  const inject = new Error(
    'An unknown server-side error occurred. Original error: java.lang.SecurityException: Injecting to another application requires INJECT_EVENTS permission',
  );
  const e = commandError(inject, 'tap text "Back up now"');
  assert.equal(e.kind, 'command-failed');
  assert.match(e.advice ?? '', /USB debugging \(Security settings\)/);
  assert.match(e.message, /^tap text "Back up now": /);
  const own = new AppiumError('timeout', 'x');
  assert.equal(commandError(own, 'y'), own);
});
