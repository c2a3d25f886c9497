/**
 * The real UiAutomator2 driver in the project's APPIUM_HOME, started by phonehome with its own adb
 * server (Debian's adb on a private port): the driver must find adb through the ANDROID_HOME phonehome
 * lays out, talk to that adb server only, never kill it, and fail clearly for a phone that is not there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../harness/appium/appium-process.js';
import { AppiumServer } from '../harness/appium/appium-server.js';
import { AppiumSession, uiautomator2Capabilities } from '../harness/appium/session.js';
import { AppiumError } from '../harness/errors.js';

const run = promisify(execFile);

let dir: string;
let adbPort: number;
let server: AppiumServer | undefined;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phonehome-uia2-'));
  adbPort = await freePort();
  await run('adb', ['-P', String(adbPort), 'start-server'], { timeout: 20_000 });
});
after(async () => {
  await server?.stop();
  await run('adb', ['-P', String(adbPort), 'kill-server'], { timeout: 10_000 }).catch(() => {});
  if (!process.env.KEEP) await rm(dir, { recursive: true, force: true });
});

test('UiAutomator2 uses phonehome adb server and reports a missing phone clearly', async (t) => {
  const logFile = join(dir, 'appium.log');
  server = await AppiumServer.start({
    logFile,
    adb: { host: '127.0.0.1', port: adbPort, bin: 'adb' },
    logLevel: 'debug',
  });
  t.diagnostic(`Appium server start with UiAutomator2: ${server.startMs} ms`);
  const caps = uiautomator2Capabilities('phonehome-no-such-phone', {
    adb: { host: '127.0.0.1', port: adbPort },
    profile: { 'appium:language': 'en', 'appium:locale': 'US' },
  });
  const t0 = Date.now();
  await assert.rejects(
    AppiumSession.create({
      endpoint: server,
      capabilities: caps,
      name: 'phonehome-no-such-phone',
      createDeadlineMs: 90_000,
    }),
    (e: unknown) => {
      assert.ok(e instanceof AppiumError, String(e));
      assert.equal(e.kind, 'session-failed');
      assert.match(e.message, /phonehome-no-such-phone/);
      assert.match(e.advice ?? '', new RegExp(`adb -P ${adbPort} devices`));
      return true;
    },
  );
  t.diagnostic(`missing phone reported after ${Date.now() - t0} ms`);
  const log = await readFile(logFile, 'utf8');
  // The driver ran the adb phonehome laid out, against phonehome's adb server port.
  assert.match(log, /Using 'adb' from '[^']*\/\.appium\/android-sdk\/platform-tools\/adb'/);
  assert.match(log, new RegExp(`android-sdk/platform-tools/adb -P ${adbPort} `));
  assert.doesNotMatch(log, /kill-server/);
  // phonehome's adb server is still the one running on its port.
  const { stdout } = await run('adb', ['-P', String(adbPort), 'devices'], { timeout: 10_000 });
  assert.match(stdout, /List of devices attached/);
  assert.equal(server.running, true);
});
