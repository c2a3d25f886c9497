/**
 * The scenarios' UI steps, by UI: the Xiaomi profile's actions (devices/xiaomi-miui-global/profile.yaml,
 * `ui:` selectors and steps) run with WebdriverIO through the real Appium 3 + UiAutomator2 driver and a
 * private real adb server against a simulated Redmi Note 13 whose screens come from
 * devices/sim/xiaomi-redmi-note-13.screens.yaml. Each action starts from wherever the last one left the
 * phone (its first step goes home). The phone's state, which drives its traffic, must follow: backup on,
 * a backup running, analytics consent off, Themes in front through its theme page and download.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { remote } from 'webdriverio';
import { uiSelectorExpression } from '../harness/appium/ui-selector.js';
import { type ActionUiStep, loadProfile } from '../harness/device/profiles.js';
import { startAdbd } from '../harness/sim/adb/adbd.js';
import { createSimPhone, loadPhoneProfile } from '../harness/sim/phone/sim-phone.js';
import { uia2InstrumentHook } from '../harness/sim/uia2/uia2-server.js';

const ROOT = resolve('.');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Runs the private adb client; resolves with its exit code and output (killed after timeoutMs). */
function adb(port: number, env: NodeJS.ProcessEnv, args: string[], timeoutMs = 30_000) {
  return new Promise<{ code: number | null; out: string }>((done, fail) => {
    const child = spawn('adb', ['-P', String(port), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, out });
    });
  });
}

/** Appium on a free loopback port, ready once /status answers. */
async function startAppium(
  env: NodeJS.ProcessEnv,
): Promise<{ port: number; child: ChildProcess; log: () => string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/appium/index.js'),
      'server',
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
    ].concat(['--log-no-colors', '--log-timestamp']),
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + 60_000;
  while (
    !(await fetch(`http://127.0.0.1:${port}/status`)
      .then((r) => r.ok)
      .catch(() => false))
  ) {
    if (child.exitCode !== null) throw new Error(`appium exited ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) throw new Error(`appium did not answer /status in 60 s:\n${log}`);
    await sleep(250);
  }
  return { port, child, log: () => log };
}

test("the Xiaomi profile's UI actions, through Appium on a simulated Xiaomi, change what drives its traffic", {
  timeout: 300_000,
}, async (t) => {
  const profile = await loadProfile('devices/xiaomi-miui-global/profile.yaml');
  const adbPort = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'uia2-scenario-ui-'));
  const sdk = join(home, 'android-sdk');
  mkdirSync(join(sdk, 'platform-tools'), { recursive: true });
  symlinkSync(
    realpathSync(execFileSync('which', ['adb']).toString().trim()),
    join(sdk, 'platform-tools/adb'),
  );
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    ANDROID_HOME: sdk,
    ANDROID_SDK_ROOT: sdk,
    ANDROID_ADB_SERVER_PORT: String(adbPort),
    ADB_LOCAL_TRANSPORT_MAX_PORT: '5554',
    APPIUM_HOME: join(ROOT, '.appium'),
  };
  const phone = await createSimPhone({
    profile: await loadPhoneProfile('devices/sim/xiaomi-redmi-note-13.yaml'),
    dataDir: join(home, 'phone'),
    onInstrument: uia2InstrumentHook(),
  });
  const state = phone.state;
  // Set up as a user who said yes to the User Experience Program, so that opting out changes something.
  state.putSetting('secure', 'upload_log_pref', '1');
  const adbd = await startAdbd({ phone, host: '127.0.0.1' });
  let appium: Awaited<ReturnType<typeof startAppium>> | undefined;
  try {
    assert.equal((await adb(adbPort, env, ['start-server'])).code, 0);
    assert.match((await adb(adbPort, env, ['connect', adbd.serial])).out, /connected to/);
    appium = await startAppium(env);

    const t0 = Date.now();
    const browser = await remote({
      hostname: '127.0.0.1',
      port: appium.port,
      path: '/',
      logLevel: 'warn',
      connectionRetryTimeout: 180_000,
      connectionRetryCount: 0,
      capabilities: {
        platformName: 'Android',
        'appium:automationName': 'UiAutomator2',
        'appium:udid': adbd.serial,
        'appium:noReset': true,
        'appium:adbPort': adbPort,
        'appium:suppressKillServer': true,
        'appium:appPackage': 'com.miui.home',
        'appium:appActivity': '.launcher.Launcher',
        'appium:newCommandTimeout': 120,
      },
    });
    t.diagnostic(`session start: ${Date.now() - t0} ms`);
    try {
      assert.equal(state.foregroundPackage, 'com.miui.home');

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
      assert.equal(state.getSetting('secure', 'micloud_backup_enabled'), '1');
      assert.equal(state.trafficState().backupEnabled, true);
      assert.equal(state.foregroundPackage, 'com.miui.cloudbackup');
      assert.equal(state.backupRunning, false);
      await action('backup.now');
      assert.equal(state.backupRunning, true);
      assert.equal(state.trafficState().backupRunning, true);
      // Asked again, the toggle is already on: nothing changes.
      await action('backup.enable');
      assert.equal(state.getSetting('secure', 'micloud_backup_enabled'), '1');

      // The User Experience Program off: analytics consent goes with it.
      assert.equal(state.trafficState().analyticsConsent, true);
      await action('analytics.optOut');
      assert.equal(state.getSetting('secure', 'upload_log_pref'), '0');
      assert.equal(state.trafficState().analyticsConsent, false);

      // Themes in front (its store traffic), a theme's page, then its download.
      await action('themes.open');
      assert.equal(state.trafficState().foregroundPackage, 'com.android.thememanager');
      assert.equal(await browser.getCurrentPackage(), 'com.android.thememanager');
      await action('themes.openTheme');
      assert.equal(
        state.foreground,
        'com.android.thememanager/com.android.thememanager.detail.theme.view.ThemeDetailActivity',
      );
      await action('themes.download');
      assert.equal(
        state.foreground,
        'com.android.thememanager/com.android.thememanager.detail.theme.view.ThemeDownloadActivity',
      );
      assert.equal(state.trafficState().foregroundPackage, 'com.android.thememanager');
      assert.equal(
        await browser.$('id=com.android.thememanager:id/status').getText(),
        'Downloading… 12.4 MB',
      );

      // And backup off again, by the same screens.
      await action('backup.disable');
      assert.equal(state.getSetting('secure', 'micloud_backup_enabled'), '0');
      assert.equal(state.trafficState().backupEnabled, false);
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
    if (appium?.child.exitCode === null) {
      const exited = new Promise((r) => appium!.child.once('exit', r));
      appium.child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (appium.child.exitCode === null) appium.child.kill('SIGKILL');
    }
    await adb(adbPort, env, ['kill-server'], 10_000).catch(() => undefined);
    await adbd.close();
    await phone.close();
    rmSync(home, { recursive: true, force: true });
  }
});
