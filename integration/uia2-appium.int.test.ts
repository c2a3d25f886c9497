/**
 * The real thing: Appium 3 with the real UiAutomator2 driver 8.7.0 drives a simulated Xiaomi phone
 * through a private real adb server, and WebdriverIO runs a session against it. The driver installs
 * the real server APKs with the real `adb install`, starts the instrumentation, forwards port 6790 and
 * talks to the simulated on-phone server. ANDROID_HOME holds only platform-tools/adb (Debian's adb;
 * there is no aapt2 on this host, see the note on versions below). Everything runs on loopback and is
 * torn down by pid.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { remote } from 'webdriverio';
import { uia2InstrumentHook } from '../sim/uia2/uia2-server.js';
import { type PhoneRig, startAppium, startPhoneRig, type TestAppium, uia2Session } from './phone-rig.js';

const SETTINGS = { appPackage: 'com.android.settings', appActivity: '.Settings' };

test('Appium 3 + UiAutomator2 8.7.0 run a WebdriverIO session on a simulated Xiaomi: source, find, tap, screenshot, clean end', {
  timeout: 240_000,
}, async (t) => {
  const serverLog: string[] = [];
  const rig: PhoneRig = await startPhoneRig({
    profile: 'devices/sim/xiaomi-redmi-note-13.yaml',
    onInstrument: uia2InstrumentHook({ log: (l) => serverLog.push(l) }),
    appium: true,
  });
  const phone = rig.phone;
  let appium: TestAppium | undefined;
  try {
    appium = await startAppium(rig, 'debug');

    const t0 = Date.now();
    const browser = await remote(uia2Session(rig, appium, SETTINGS, { 'appium:newCommandTimeout': 120 }));
    const startMs = Date.now() - t0;
    t.diagnostic(`session start: ${startMs} ms`);
    try {
      // The driver installed the real server APKs with adb install: the phone reports their versions.
      const server = phone.state.apps.packages.get('io.appium.uiautomator2.server');
      assert.equal(server?.versionCode, 278);
      assert.equal(server?.versionName, '10.6.6');
      assert.ok(phone.state.apps.packages.has('io.appium.uiautomator2.server.test'));
      assert.equal(phone.state.apps.packages.get('io.appium.settings')?.versionCode, 191);
      assert.equal(phone.state.apps.foregroundPackage, 'com.android.settings');

      const source = await browser.getPageSource();
      assert.match(source, /^<\?xml version='1\.0' encoding='UTF-8' standalone='yes' \?>/);
      assert.match(source, /<android\.widget\.TextView [^>]*text="Settings" resource-id="android:id\/title"/);

      // Finds by id, UiSelector and XPath; the rows are the app's, wherever the phone puts them.
      const rows = await browser.$$('//android.widget.LinearLayout[@clickable="true"]');
      assert.ok((await rows.length) >= 1);
      assert.equal(await browser.$('id=android:id/title').getText(), 'Settings');
      assert.equal(
        await browser.$('android=new UiSelector().resourceId("android:id/title").instance(0)').getText(),
        'Settings',
      );
      assert.equal(await browser.$('//*[@text="Settings"]').getAttribute('package'), 'com.android.settings');
      // The privacy screen (opened through the driver's `mobile: startActivity`, i.e. adb `am
      // start-activity -a …`): tapping a switch's row changes the consent setting the traffic follows.
      await browser.execute('mobile: startActivity', {
        action: 'android.settings.PRIVACY_SETTINGS',
        wait: true,
      });
      const label = phone.state.profile.consent.analyticsConsent.label ?? '';
      const before = phone.state.system.consent('analyticsConsent');
      const toggle = await browser.$(`//*[@text="${label}"]/following-sibling::android.widget.Switch`);
      assert.equal(await toggle.getAttribute('checked'), String(before));
      await browser.$(`android=new UiSelector().text("${label}")`).click();
      assert.equal(phone.state.system.consent('analyticsConsent'), !before);
      assert.equal(await toggle.getAttribute('checked'), String(!before));

      const home = await browser.$('~Home');
      assert.equal(await home.isDisplayed(), true);
      await home.click();
      assert.equal(phone.state.apps.foregroundPackage, 'com.miui.home');
      // On the home screen, tap the Settings icon: the foreground changes back.
      await browser.$('~Settings').click();
      assert.equal(phone.state.apps.foregroundPackage, 'com.android.settings');
      assert.equal(await browser.getCurrentPackage(), 'com.android.settings');

      const shot = Buffer.from(await browser.takeScreenshot(), 'base64');
      assert.deepEqual([...shot.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(shot.readUInt32BE(16), 1080);
      assert.equal(shot.readUInt32BE(20), 2400);
      assert.deepEqual(await browser.getWindowSize(), { width: 1080, height: 2400 });
    } finally {
      const t1 = Date.now();
      await browser.deleteSession();
      t.diagnostic(`session end: ${Date.now() - t1} ms`);
    }
    // The server ended its instrumentation; nothing of it is left on the phone.
    assert.equal(phone.state.apps.processes.has('io.appium.uiautomator2.server'), false);
    await assert.rejects(phone.connectTcp(6790), { code: 'ECONNREFUSED' });
    // A second session on the now provisioned phone. Without aapt2 the driver cannot read the APKs'
    // versions: the installed server counts as "unknown" and is kept because its test package is
    // listed (so a stale server APK on a phone would not be replaced either), and the settings helper
    // counts as "unknown" and is reinstalled with `adb install -r -g` at every session start.
    const firstLog = appium.log().length;
    const t2 = Date.now();
    const again = await remote(uia2Session(rig, appium, SETTINGS));
    t.diagnostic(`second session start (APKs installed): ${Date.now() - t2} ms`);
    try {
      assert.equal(await again.$('id=android:id/title').getText(), 'Settings');
    } finally {
      await again.deleteSession();
    }
    const second = appium.log().slice(firstLog);
    assert.match(second, /install -r -g \S*settings_apk-debug\.apk/);
    assert.doesNotMatch(second, /install -r \S*appium-uiautomator2-server-v10\.6\.6\.apk/);
    assert.match(second, /"installState":"unknown"/);
    const settingsInstall = /The installation of 'settings_apk-debug\.apk' took (\d+)ms/.exec(second);
    t.diagnostic(
      `cost of the missing aapt2 per session: settings helper reinstall ${settingsInstall?.[1]} ms`,
    );

    const log = appium.log();
    if (process.env['UIA2_APPIUM_LOG']) writeFileSync(process.env['UIA2_APPIUM_LOG'], log);
    assert.doesNotMatch(log, /was not in the list of connected devices/);
    t.diagnostic(`phone-side requests: ${serverLog.length}`);
  } catch (e) {
    if (appium) process.stderr.write(`--- appium log tail ---\n${appium.log().slice(-20_000)}\n`);
    process.stderr.write(`--- on-phone server ---\n${serverLog.join('\n')}\n`);
    throw e;
  } finally {
    await appium?.stop();
    await rig.dispose();
  }
});
