import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ensureAndroidHome, installedDrivers, projectRoot } from './appium-install.js';
import { descendants, freePort, portIsFree } from './appium-process.js';
import { remoteAppium } from './appium-server.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'phonehome-appium-unit-'));
  dirs.push(d);
  return d;
}

test('the project root is found from this file (sources or dist/)', () => {
  const root = projectRoot();
  assert.ok(existsSync(join(root, 'node_modules', 'appium', 'index.js')));
  assert.ok(existsSync(join(root, 'package.json')));
});

test("installed drivers are read from Appium's manifest; a listed driver whose folder is gone does not count", async () => {
  const home = await tmp();
  const present = join(home, 'node_modules', 'appium-uiautomator2-driver');
  await mkdir(present, { recursive: true });
  await writeFile(join(present, 'package.json'), '{"version":"8.7.0"}');
  await mkdir(join(home, 'node_modules', '.cache', 'appium'), { recursive: true });
  await writeFile(
    join(home, 'node_modules', '.cache', 'appium', 'extensions.yaml'),
    [
      'drivers:',
      '  uiautomator2:',
      '    version: 8.7.0',
      `    installPath: ${present}`,
      '    automationName: UiAutomator2',
      '  fake:',
      '    version: 6.2.4',
      `    installPath: ${join(home, 'gone')}`,
      '    automationName: Fake',
      'plugins: {}',
      'schemaRev: 4',
      '',
    ].join('\n'),
  );
  const drivers = await installedDrivers(home);
  assert.deepEqual([...drivers.keys()], ['uiautomator2']);
  assert.equal(drivers.get('uiautomator2')?.automationName, 'UiAutomator2');
  assert.equal((await installedDrivers(join(home, 'nothing'))).size, 0);
});

test('ANDROID_HOME is laid out around the adb binary, and relinked when the binary changes', async () => {
  const home = await tmp();
  const fakeAdb = join(home, 'bin', 'adb');
  await mkdir(join(home, 'bin'));
  await writeFile(fakeAdb, '#!/bin/sh\n', { mode: 0o755 });
  const sdk = await ensureAndroidHome(home, fakeAdb);
  assert.equal(sdk, join(home, 'android-sdk'));
  assert.equal(await readlink(join(sdk, 'platform-tools', 'adb')), fakeAdb);
  const other = join(home, 'bin', 'adb2');
  await writeFile(other, '#!/bin/sh\n', { mode: 0o755 });
  await ensureAndroidHome(home, other);
  assert.equal(await readlink(join(sdk, 'platform-tools', 'adb')), other);
  // Concurrent calls (several test files, several phones) never fail on the link.
  await Promise.all([1, 2, 3, 4].map(() => ensureAndroidHome(home, fakeAdb)));
  assert.equal(await readlink(join(sdk, 'platform-tools', 'adb')), fakeAdb);
});

test('free ports and remote URLs', async () => {
  const port = await freePort();
  assert.ok(port > 0);
  assert.equal(await portIsFree(port), true);
  const r = remoteAppium('http://lab-appium:4723/wd/hub');
  assert.equal(r.url.href, 'http://lab-appium:4723/wd/hub/');
  assert.equal(r.failure(), undefined);
});

test('descendants are found through /proc, down the tree', async () => {
  // sh → sleep: two levels below this process.
  const sh = spawn('sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
  try {
    let found: number[] = [];
    for (let i = 0; i < 50 && found.length < 2; i++) {
      found = await descendants(process.pid);
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(found.includes(sh.pid!));
    assert.ok(found.length >= 2, `found ${found.join(', ')}`);
    const ofSh = await descendants(sh.pid!);
    assert.equal(ofSh.length, 1);
    for (const p of ofSh) process.kill(p, 'SIGKILL');
  } finally {
    sh.kill('SIGKILL');
  }
});

test("a typed text is masked in Appium's log lines in each form Appium shows it", async () => {
  const { maskSecrets } = await import('./appium-server.js');
  const secret = 'p@ss "w0rd"';
  const lines = [
    `[HTTP] --> POST /session/s/element/e/value {"text":${JSON.stringify(secret)}}`,
    `Calling AppiumDriver.setValue() with args: [[${[...secret].map((c) => JSON.stringify(c)).join(',')}],"e","s"]`,
    `value: [${[...secret].map((c) => JSON.stringify(c)).join(', ')}]`,
    `typed ${secret} as it is`,
  ];
  for (const line of lines) {
    const masked = maskSecrets(line, [secret, '']);
    assert.ok(!masked.includes('w0rd'), masked);
    assert.match(masked, /\[typed text\]/);
  }
  assert.equal(maskSecrets('nothing to hide', [secret]), 'nothing to hide');
});
