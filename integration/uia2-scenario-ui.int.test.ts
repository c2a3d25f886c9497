/**
 * The scenarios' UI steps, by UI: the Xiaomi profile's actions (devices/xiaomi-miui-global/profile.yaml,
 * `ui:` selectors and steps) run with WebdriverIO through the real Appium 3 + UiAutomator2 driver and a
 * private real adb server against a simulated Redmi Note 13 whose screens come from
 * devices/sim/xiaomi-redmi-note-13.screens.yaml. Each action starts from wherever the last one left the
 * phone (its first step goes home). The phone's state, which drives its traffic, must follow: backup on,
 * a backup running, analytics consent off, Themes in front through its theme page and download, a
 * contact saved, an SMS sent, the contact deleted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remote } from 'webdriverio';
import { uiSelectorExpression } from '../harness/appium/ui-selector.js';
import { type ActionUiStep, loadProfile } from '../harness/device/profiles.js';
import { uia2InstrumentHook } from '../sim/uia2/uia2-server.js';
import { startAppium, startPhoneRig, type TestAppium, uia2Session } from './phone-rig.js';

test("the Xiaomi profile's UI actions, through Appium on a simulated Xiaomi, change what drives its traffic", {
  timeout: 300_000,
}, async (t) => {
  const profile = await loadProfile('devices/xiaomi-miui-global/profile.yaml');
  const rig = await startPhoneRig({
    profile: 'devices/sim/xiaomi-redmi-note-13.yaml',
    onInstrument: uia2InstrumentHook(),
    // Set up as a user who said yes to the User Experience Program, so that opting out changes something.
    prepare: (phone) => phone.state.system.put('secure', 'upload_log_pref', '1'),
    appium: true,
  });
  const state = rig.phone.state;
  let appium: TestAppium | undefined;
  try {
    appium = await startAppium(rig);

    const t0 = Date.now();
    const browser = await remote(
      uia2Session(
        rig,
        appium,
        { appPackage: 'com.miui.home', appActivity: '.launcher.Launcher' },
        { 'appium:newCommandTimeout': 120 },
      ),
    );
    t.diagnostic(`session start: ${Date.now() - t0} ms`);
    try {
      assert.equal(state.apps.foregroundPackage, 'com.miui.home');

      /** The element a profile selector names, as UiSelector finds it. */
      const element = (name: string) => {
        const sel = profile.ui[name];
        assert.ok(sel, `selector ${name} is in the profile's ui map`);
        return browser.$(`android=${uiSelectorExpression(sel)}`);
      };
      /** One profile step, as the harness's Ui does it, but spelled out in WebdriverIO. */
      const step = async (s: ActionUiStep): Promise<string> => {
        if ('home' in s) {
          await browser.execute('mobile: pressKey', { keycode: 3 });
          return 'home';
        }
        if ('back' in s) {
          await browser.back();
          return 'back';
        }
        if ('scrollTo' in s) {
          await browser
            .$(
              `android=new UiScrollable(new UiSelector().scrollable(true)).scrollIntoView(new UiSelector().text("${s.scrollTo}"))`,
            )
            .waitForExist({ timeout: 10_000 });
          return `scrollTo ${s.scrollTo}`;
        }
        if ('type' in s) {
          if ('env' in s) throw new Error(`no value for $${s.env} in this test`);
          const field = element(s.type);
          await field.waitForExist({ timeout: 10_000 });
          await field.setValue(s.text);
          return `type ${s.type}`;
        }
        const name = 'tap' in s ? s.tap : s.toggle;
        const el = element(name);
        await el.waitForExist({ timeout: 10_000 });
        if ('tap' in s) {
          await el.click();
          return `tap ${name}`;
        }
        // A toggle selector names the Switch itself.
        assert.equal(await el.getAttribute('checkable'), 'true', `${name} is checkable`);
        if ((await el.getAttribute('checked')) !== String(s.on)) await el.click();
        assert.equal(await el.getAttribute('checked'), String(s.on), `${name} turned ${s.on ? 'on' : 'off'}`);
        return `toggle ${name} ${s.on ? 'on' : 'off'}`;
      };
      /** Runs a profile action's UI steps, reporting each step's time. */
      const action = async (name: string) => {
        const steps = profile.actions[name]?.ui ?? [];
        assert.ok(steps.length > 0, `${name} has UI steps`);
        const started = Date.now();
        const times: string[] = [];
        for (const s of steps) {
          const s0 = Date.now();
          const what = await step(s);
          times.push(`${what} ${Date.now() - s0} ms`);
        }
        t.diagnostic(`${name}: ${Date.now() - started} ms (${times.join(', ')})`);
      };

      // Cloud backup on, then a backup now: the backup hosts' traffic follows these two.
      assert.equal(state.trafficState().backupEnabled, false);
      await action('backup.enable');
      assert.equal(state.system.get('secure', 'micloud_backup_enabled'), '1');
      assert.equal(state.trafficState().backupEnabled, true);
      assert.equal(state.apps.foregroundPackage, 'com.miui.cloudbackup');
      assert.equal(state.backupRunning, false);
      await action('backup.now');
      assert.equal(state.backupRunning, true);
      assert.equal(state.trafficState().backupRunning, true);
      // Asked again, the toggle is already on: nothing changes.
      await action('backup.enable');
      assert.equal(state.system.get('secure', 'micloud_backup_enabled'), '1');

      // The User Experience Program off: analytics consent goes with it.
      assert.equal(state.trafficState().analyticsConsent, true);
      await action('analytics.optOut');
      assert.equal(state.system.get('secure', 'upload_log_pref'), '0');
      assert.equal(state.trafficState().analyticsConsent, false);

      // Themes in front (its store traffic), a theme's page, then its download.
      await action('themes.open');
      assert.equal(state.trafficState().foregroundPackage, 'com.android.thememanager');
      assert.equal(await browser.getCurrentPackage(), 'com.android.thememanager');
      await action('themes.openTheme');
      assert.equal(
        state.apps.foreground,
        'com.android.thememanager/com.android.thememanager.detail.theme.view.ThemeDetailActivity',
      );
      await action('themes.download');
      assert.equal(
        state.apps.foreground,
        'com.android.thememanager/com.android.thememanager.detail.theme.view.ThemeDownloadActivity',
      );
      assert.equal(state.trafficState().foregroundPackage, 'com.android.thememanager');
      assert.equal(
        await browser.$('id=com.android.thememanager:id/status').getText(),
        'Downloading… 12.4 MB',
      );

      // And backup off again, by the same screens.
      await action('backup.disable');
      assert.equal(state.system.get('secure', 'micloud_backup_enabled'), '0');
      assert.equal(state.trafficState().backupEnabled, false);

      // A contact saved in Contacts, an SMS sent to it from Messaging, the contact deleted: what
      // drives the contacts and messages traffic follows each.
      state.setSim(true);
      const before = { ...state.events };
      await action('contacts.add');
      assert.deepEqual(state.contacts, [{ name: 'phonehome test contact', number: '+44 7700 900123' }]);
      assert.equal(state.events.contactAdded, before.contactAdded + 1);
      assert.deepEqual(state.trafficState().contacts, ['+44 7700 900123']);
      assert.equal(
        state.apps.foreground,
        'com.android.contacts/com.android.contacts.activities.ContactDetailActivity',
      );
      assert.equal(await browser.$('id=com.android.contacts:id/phone_number').getText(), '+44 7700 900123');
      await action('sms.send');
      assert.equal(state.events.smsSent, before.smsSent + 1);
      assert.deepEqual(
        state.messages.map((m) => [m.direction, m.peer, m.body]),
        [['out', '+44 7700 900123', 'phonehome lab test message']],
      );
      await action('contacts.delete');
      assert.deepEqual(state.contacts, []);
      assert.equal(
        state.apps.foreground,
        'com.android.contacts/com.android.contacts.activities.PeopleActivity',
      );
    } finally {
      const t1 = Date.now();
      await browser.deleteSession();
      t.diagnostic(`session end: ${Date.now() - t1} ms`);
    }
  } catch (e) {
    if (appium) process.stderr.write(`--- appium log tail ---\n${appium.log().slice(-20_000)}\n`);
    throw e;
  } finally {
    state.stopBackup();
    await appium?.stop();
    await rig.dispose();
  }
});
