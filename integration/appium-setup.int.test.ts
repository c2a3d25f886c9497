/**
 * scripts/appium-setup.sh on an APPIUM_HOME that already has everything (the project's .appium after
 * make setup): quick, silent, idempotent, and ANDROID_HOME's adb points at the real adb.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { installedDrivers, projectRoot } from '../harness/appium/appium-install.js';

const run = promisify(execFile);

test('appium-setup.sh is a quick no-op when the drivers are installed', async (t) => {
  const root = projectRoot();
  const home = join(root, '.appium');
  const t0 = Date.now();
  const { stdout, stderr } = await run(join(root, 'scripts', 'appium-setup.sh'), [], {
    cwd: root,
    timeout: 60_000,
    env: { ...process.env, APPIUM_HOME: home },
  });
  const took = Date.now() - t0;
  t.diagnostic(`appium-setup.sh with everything installed: ${took} ms`);
  assert.equal(stdout, '');
  assert.equal(stderr, '');
  assert.ok(took < 10_000, `took ${took} ms`);
  const drivers = await installedDrivers(home);
  assert.equal(drivers.get('uiautomator2')?.version, '8.7.0');
  assert.equal(drivers.get('fake')?.automationName, 'Fake');
  const adb = await readlink(join(home, 'android-sdk', 'platform-tools', 'adb'));
  const { stdout: which } = await run('sh', ['-c', 'command -v adb']);
  assert.equal(adb, await realpath(which.trim()));
});
