import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { SimConfigError } from '../errors.js';
import { parsePhoneProfile } from './profile.js';
import { runShell } from './run-shell.js';
import { parseScreens } from './screens.js';
import type { SimPhoneInstance } from './sim-phone.js';

after(cleanupPhones);

/** The screen as `uiautomator dump` shows it. */
async function dump(p: SimPhoneInstance): Promise<string> {
  return (await runShell(p, 'uiautomator dump /dev/tty')).stdout;
}

function xmlUnescape(s: string): string {
  return s.replace(
    /&(amp|lt|gt|quot|apos);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!,
  );
}

/** The attributes of the first node whose attribute matches, from a fresh dump. */
async function find(p: SimPhoneInstance, attr: string, value: string): Promise<Record<string, string>> {
  for (const m of (await dump(p)).matchAll(/<node ([^>]*?)\/?>/g)) {
    const attrs = Object.fromEntries(
      [...m[1]!.matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1]!, xmlUnescape(a[2]!)]),
    );
    if (attrs[attr] === value) return attrs;
  }
  assert.fail(`no node with ${attr}="${value}" on screen (${p.state.apps.foreground})`);
}

/** Taps the middle of the first node whose attribute matches, as Appium's click does. */
async function tap(p: SimPhoneInstance, attr: string, value: string): Promise<void> {
  const [l, t, r, b] = /\[(\d+),(\d+)\]\[(\d+),(\d+)\]/
    .exec((await find(p, attr, value)).bounds!)!
    .slice(1)
    .map(Number) as [number, number, number, number];
  assert.equal((await runShell(p, `input tap ${(l + r) / 2} ${(t + b) / 2}`)).code, 0);
}

test('Xiaomi: Settings › Xiaomi Cloud › Cloud backup: the switch turns backup on, "Back up now" starts one', async () => {
  const p = await makePhone('xiaomi');
  await tap(p, 'content-desc', 'Settings');
  assert.equal(p.state.apps.foreground, 'com.android.settings/com.android.settings.Settings');
  const title = await find(p, 'resource-id', 'android:id/title');
  assert.equal(title.text, 'Settings');
  assert.equal((await find(p, 'resource-id', 'com.android.settings:id/recycler_view')).scrollable, 'true');
  await tap(p, 'text', 'Xiaomi Cloud');
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.cloudservice');
  await tap(p, 'text', 'Cloud backup');
  assert.equal(
    p.state.apps.foreground,
    'com.miui.cloudbackup/com.miui.cloudbackup.ui.CloudBackupSettingsActivity',
  );

  const sw = await find(p, 'content-desc', 'Cloud backup');
  assert.equal(sw.class, 'android.widget.Switch');
  assert.equal(sw['resource-id'], 'android:id/switch_widget');
  assert.deepEqual([sw.checkable, sw.checked, sw.clickable], ['true', 'false', 'false']);
  // "Back up now" with backup off: nothing runs.
  await tap(p, 'text', 'Back up now');
  assert.equal(p.state.backupRunning, false);
  // A tap on the switch lands on its row, which flips the setting the traffic follows.
  await tap(p, 'content-desc', 'Cloud backup');
  assert.equal(p.state.system.get('secure', 'micloud_backup_enabled'), '1');
  assert.equal(p.state.trafficState().backupEnabled, true);
  assert.equal((await find(p, 'content-desc', 'Cloud backup')).checked, 'true');
  await tap(p, 'text', 'Back up now');
  assert.equal(p.state.backupRunning, true);
  assert.equal(p.state.trafficState().backupRunning, true);
  p.state.stopBackup();

  // Navigate up goes to the parent screen, not home.
  await tap(p, 'content-desc', 'Navigate up');
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.cloudservice');
  await tap(p, 'content-desc', 'Navigate up');
  assert.equal(p.state.apps.foreground, 'com.android.settings/com.android.settings.Settings');
});

test('Xiaomi: Settings › Privacy protection: the User Experience Program switch is secure upload_log_pref', async () => {
  const p = await makePhone('xiaomi');
  await runShell(p, 'settings put secure upload_log_pref 1');
  await runShell(p, 'am start -n com.android.settings/.Settings');
  await tap(p, 'text', 'Privacy protection');
  const sw = await find(p, 'content-desc', 'User Experience Program');
  assert.equal(sw.checked, 'true');
  await tap(p, 'content-desc', 'User Experience Program');
  assert.equal(p.state.system.get('secure', 'upload_log_pref'), '0');
  assert.equal(p.state.trafficState().analyticsConsent, false);
  assert.equal((await find(p, 'content-desc', 'User Experience Program')).checked, 'false');
  // The screen's activity is a real one now: am start -n reaches it.
  await runShell(p, 'input keyevent 3');
  const r = await runShell(p, 'am start -n com.android.settings/.privacy.PrivacyDashboardActivity');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal((await find(p, 'resource-id', 'android:id/title')).text, 'Privacy protection');
});

test('Xiaomi: Themes home has theme tiles; a tile opens its page; Download keeps Themes in front', async () => {
  const p = await makePhone('xiaomi');
  await tap(p, 'content-desc', 'Themes');
  assert.equal(p.state.apps.foregroundPackage, 'com.android.thememanager');
  const xml = await dump(p);
  assert.equal(xml.match(/resource-id="com\.android\.thememanager:id\/thumbnail"/g)?.length, 6);
  await tap(p, 'resource-id', 'com.android.thememanager:id/thumbnail');
  assert.match(p.state.apps.foreground!, /ThemeDetailActivity$/);
  const download = await find(p, 'text', 'Download');
  assert.equal(download.class, 'android.widget.Button');
  await tap(p, 'text', 'Download');
  assert.match(p.state.apps.foreground!, /ThemeDownloadActivity$/);
  assert.equal(p.state.trafficState().foregroundPackage, 'com.android.thememanager');
  assert.match(await dump(p), /text="Downloading… 12\.4 MB"/);
  const apply = await find(p, 'text', 'Apply');
  assert.equal(apply.enabled, 'false');
  await tap(p, 'text', 'Apply');
  assert.match(p.state.apps.foreground!, /ThemeDownloadActivity$/);
});

test('Pixel: Settings › Google › Backup and Usage & diagnostics switches drive backup and analytics consent', async () => {
  const p = await makePhone('pixel');
  await runShell(p, 'am start -n com.android.settings/.Settings');
  await tap(p, 'text', 'Google');
  await tap(p, 'text', 'Backup');
  await tap(p, 'content-desc', 'Backup by Google One');
  assert.equal(p.state.system.get('secure', 'backup_enabled'), '1');
  await tap(p, 'text', 'Back up now');
  assert.equal(p.state.backupRunning, true);
  p.state.stopBackup();
  await tap(p, 'content-desc', 'Navigate up');
  await tap(p, 'text', 'Usage & diagnostics');
  assert.equal((await find(p, 'content-desc', 'Usage & diagnostics')).checked, 'false');
  await tap(p, 'content-desc', 'Usage & diagnostics');
  assert.equal(p.state.system.get('global', 'usage_diagnostics_enabled'), '1');
  assert.equal(p.state.trafficState().analyticsConsent, true);
});

test('activities without screen data keep the generic screen; PRIVACY_SETTINGS keeps its switches', async () => {
  const p = await makePhone('xiaomi');
  await runShell(p, 'am start -n com.miui.gallery/.activity.HomePageActivity');
  assert.match(await dump(p), /text="Gallery item 1"/);
  await runShell(p, 'am start -a android.settings.PRIVACY_SETTINGS');
  const sw = await find(p, 'content-desc', 'User Experience Program');
  assert.equal(sw.class, 'android.widget.Switch');
});

const profileText = async () => {
  const { readFile } = await import('node:fs/promises');
  return readFile('devices/sim/xiaomi-redmi-note-13.yaml', 'utf8');
};

test('a bad screens file is a SimConfigError that points at the line and field', async () => {
  const profile = parsePhoneProfile(await profileText(), 'x.yaml');
  const bad = (body: string) => {
    try {
      parseScreens(body, 'x.screens.yaml', profile);
    } catch (e) {
      assert.ok(e instanceof SimConfigError);
      return e.message;
    }
    assert.fail('no error');
  };
  const head =
    'formatVersion: 1\nscreens:\n  com.android.settings/.Settings:\n    title: Settings\n    content:\n';
  assert.equal(
    bad(`${head}      - preference: { title: A, tap: sideways }\n`),
    'x.screens.yaml:6:38: screens.com.android.settings/.Settings.content[0].preference.tap: expected a tap: back, home, backupNow, account, finishSetup, {launch: pkg/.Activity}, {toggle: "secure KEY"}, ' +
      '{accountPage: {signedIn, signedOut}}, {signIn: {account, password, opens}}, {signOut: {opens}}, ' +
      '{saveContact: {name, number, opens}}, {openContact: {index, opens}}, {deleteContact: {opens}} or ' +
      '{sendSms: {to, body, opens}}',
  );
  assert.match(
    bad(`${head}      - preference: { title: A, switch: secure screen_brightness }\n`),
    /^x\.screens\.yaml:6:41: screens\.com\.android\.settings\/\.Settings\.content\[0\]\.preference\.switch: "secure screen_brightness" is not one of the profile's consent settings/,
  );
  assert.match(
    bad(`${head}      - children:\n          - { text: A, tap: { launch: com.example.nope/.Main } }\n`),
    /^x\.screens\.yaml:7:39: .*content\[0\]\.children\[0\]\.tap\.launch: com\.example\.nope is not among the profile's packages$/,
  );
  assert.match(
    bad(`${head}      - { text: A, colour: red }\n`),
    /^x\.screens\.yaml:6:9: .*content\[0\]: .*colour/,
  );
  assert.match(
    bad(`${head}      - { preference: { title: A }, text: B }\n`),
    /content\[0\]: a preference row stands alone/,
  );
  assert.match(
    bad('formatVersion: 2\nscreens: {}\n'),
    /^x\.screens\.yaml:1:16: formatVersion: expected formatVersion: 1$/,
  );
  assert.match(bad('screens: [\n'), /^x\.screens\.yaml:\d+:\d+: not valid YAML/);
});

test('a profile may carry its screens inline; they are checked against it the same way', async () => {
  const base = await profileText();
  const inline = `${base}\nscreens:\n  com.android.settings/.Settings:\n    title: Settings\n    content:\n      - preference: { title: UEP, switch: secure upload_log_pref }\n`;
  const lines = inline.split('\n').length;
  const profile = parsePhoneProfile(inline, 'p.yaml');
  assert.deepEqual(Object.keys(profile.screens ?? {}), [
    'com.android.settings/com.android.settings.Settings',
  ]);
  assert.throws(
    () => parsePhoneProfile(inline.replace(/secure upload_log_pref \}\n$/, 'secure nope }\n'), 'p.yaml'),
    (e: unknown) =>
      e instanceof SimConfigError &&
      e.line === lines - 1 &&
      /preference\.switch: "secure nope" is not one of the profile's consent settings/.test(e.message),
  );
});

for (const [which, pages] of [
  [
    'xiaomi',
    {
      first: 'Start',
      next: ['Next'],
      last: 'Skip',
      switches: ['Location', 'User Experience Program', 'Personalized ad recommendations'],
      consents: ['locationOn', 'analyticsConsent', 'adsConsent'],
    },
  ],
  [
    'pixel',
    {
      first: 'Get started',
      next: ['Skip'],
      last: 'Accept',
      switches: ['Use location', 'Back up your device', 'Send usage and diagnostic data'],
      consents: ['locationOn', 'backupEnabled', 'analyticsConsent'],
    },
  ],
] as const) {
  test(`${which}: a factory reset boots into the setup wizard, HOME stays there, and its last page finishes setup with the switches as left`, async () => {
    const p = await makePhone(which);
    const idBefore = p.state.system.tables.secure.get('android_id');
    p.state.addContact('x', '+44 7700 900001');
    p.state.factoryReset('0123456789abcdef');
    await p.reboot('recovery');
    const wizard = p.state.profile.setupWizard!.activity.split('/')[0]!;
    assert.equal(p.state.apps.foregroundPackage, wizard);
    assert.equal(p.state.screen.locked, false);
    assert.notEqual(idBefore, '0123456789abcdef');
    assert.equal((await runShell(p, 'settings get secure android_id')).stdout, '0123456789abcdef\n');
    assert.equal((await runShell(p, 'settings get global device_provisioned')).stdout, '0\n');
    assert.deepEqual([p.state.contacts, p.state.accounts], [[], []]);
    // The wizard's defaults: every optional setting it offers is on.
    for (const c of pages.consents)
      assert.equal(c === 'locationOn' ? p.state.system.locationOn : p.state.system.consent(c), true, c);
    // HOME does not leave the wizard.
    await runShell(p, 'input keyevent 3');
    assert.equal(p.state.apps.foregroundPackage, wizard);
    await tap(p, 'text', pages.first);
    for (const n of pages.next) {
      if (n === pages.next[pages.next.length - 1] && which === 'xiaomi') {
        // The switches are on the services page, before Next.
        for (const s of pages.switches) {
          assert.equal((await find(p, 'content-desc', s)).checked, 'true', s);
          await tap(p, 'content-desc', s);
          assert.equal((await find(p, 'content-desc', s)).checked, 'false', s);
        }
      }
      await tap(p, 'text', n);
    }
    if (which === 'pixel')
      for (const s of pages.switches) {
        await tap(p, 'content-desc', s);
        assert.equal((await find(p, 'content-desc', s)).checked, 'false', s);
      }
    assert.equal(p.state.events.setupCompleted, 0);
    await tap(p, 'text', pages.last);
    assert.equal(p.state.events.setupCompleted, 1);
    assert.equal(p.state.apps.foreground, p.state.homeScreen());
    assert.notEqual(p.state.apps.foregroundPackage, wizard);
    assert.equal((await runShell(p, 'settings get secure user_setup_complete')).stdout, '1\n');
    for (const c of pages.consents)
      assert.equal(c === 'locationOn' ? p.state.system.locationOn : p.state.system.consent(c), false, c);
    // Setup done over adb (a lab skipping the wizard) counts the same; only the change from 0 does.
    p.state.factoryReset('fedcba9876543210');
    await runShell(p, 'settings put global device_provisioned 1');
    await runShell(p, 'settings put global device_provisioned 1');
    assert.equal(p.state.events.setupCompleted, 2);
  });
}
