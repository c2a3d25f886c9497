import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { crc32, inflateSync } from 'node:zlib';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';
import { appColour } from './ui-node.js';

after(cleanupPhones);

/** A small PNG reader: checks the signature and every CRC, inflates IDAT, undoes filter 0. */
function readPng(png: Buffer): { width: number; height: number; pixel(x: number, y: number): number[] } {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  let width = 0;
  let height = 0;
  const idat: Buffer[] = [];
  const types: string[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const data = png.subarray(off + 8, off + 8 + len);
    assert.equal(
      png.readUInt32BE(off + 8 + len),
      crc32(png.subarray(off + 4, off + 8 + len)) >>> 0,
      `CRC of ${type}`,
    );
    types.push(type);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.deepEqual([...data.subarray(8)], [8, 2, 0, 0, 0]);
    }
    if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  assert.equal(types[0], 'IHDR');
  assert.equal(types.at(-1), 'IEND');
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * 3 + 1;
  assert.equal(raw.length, stride * height);
  for (let y = 0; y < height; y++) assert.equal(raw[y * stride], 0);
  return {
    width,
    height,
    pixel: (x, y) => [...raw.subarray(y * stride + 1 + x * 3, y * stride + 4 + x * 3)],
  };
}

test('screencap -p is a valid PNG at the display size showing the foreground app', async () => {
  const p = await makePhone();
  await runShell(p, 'am start -n com.android.thememanager/.ThemeResourceTabActivity');
  const r = await runShell(p, 'screencap -p');
  assert.equal(r.code, 0);
  const img = readPng(r.stdoutBytes);
  assert.equal(img.width, 1080);
  assert.equal(img.height, 2400);
  // Title bar in the app's colour below the status bar; dark status bar at the top.
  assert.deepEqual(img.pixel(540, 100), [...appColour('com.android.thememanager')]);
  assert.deepEqual(img.pixel(1000, 5), [24, 24, 28]);
  // adbkit's form: an empty line then the PNG.
  const adbkit = await runShell(p, 'echo && screencap -p 2>/dev/null');
  assert.equal(adbkit.stdoutBytes[0], 0x0a);
  readPng(adbkit.stdoutBytes.subarray(1));
});

test('screen off: screencap is black; wm size override changes the picture size', async () => {
  const p = await makePhone('pixel');
  await runShell(p, 'input keyevent 26');
  const img = readPng((await runShell(p, 'screencap -p')).stdoutBytes);
  assert.deepEqual(img.pixel(540, 1200), [0, 0, 0]);
  await runShell(p, 'input keyevent KEYCODE_WAKEUP; wm dismiss-keyguard; wm size 540x1200');
  assert.equal((await runShell(p, 'wm size')).stdout, 'Physical size: 1080x2400\nOverride size: 540x1200\n');
  const small = readPng((await runShell(p, 'screencap -p')).stdoutBytes);
  assert.equal(small.width, 540);
  await runShell(p, 'screencap -p /sdcard/s.png');
  readPng(readFileSync(p.hostPath('/sdcard/s.png')!));
  assert.equal((await runShell(p, 'wm density')).stdout, 'Physical density: 420\n');
});

test('uiautomator dump writes the home screen; tapping an icon launches that app', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'uiautomator dump');
  assert.equal(r.stdout, 'UI hierchary dumped to: /sdcard/window_dump.xml\n');
  const xml = readFileSync(p.hostPath('/sdcard/window_dump.xml')!, 'utf8');
  assert.match(xml, /^<\?xml version='1\.0' encoding='UTF-8' standalone='yes' \?><hierarchy rotation="0">/);
  const themes = /<node [^>]*text="Themes"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"/.exec(xml);
  assert.ok(themes, 'the Themes icon is on the home screen');
  const [l, t, rr, b] = themes.slice(1).map(Number) as [number, number, number, number];
  await runShell(p, `input tap ${(l + rr) / 2} ${(t + b) / 2}`);
  assert.equal(p.state.apps.foregroundPackage, 'com.android.thememanager');
  await runShell(p, 'input keyevent 4');
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.home');
});

test('keyevents: 26 toggles the screen, 224 wakes, 3 goes home; a swipe up unlocks a swipe keyguard', async () => {
  const p = await makePhone();
  await runShell(p, 'am start -n com.android.settings/.Settings');
  await runShell(p, 'input keyevent 26');
  assert.equal(p.state.screen.on, false);
  assert.equal(p.state.screen.locked, true);
  assert.equal(p.state.trafficState().foregroundPackage, undefined);
  await runShell(p, 'input keyevent 224');
  assert.equal(p.state.screen.on, true);
  assert.equal(p.state.screen.locked, true);
  await runShell(p, 'input swipe 540 2000 540 500');
  assert.equal(p.state.screen.locked, false);
  assert.equal(p.state.trafficState().foregroundPackage, 'com.android.settings');
  await runShell(p, 'input keyevent KEYCODE_HOME');
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.home');
  const bad = await runShell(p, 'input keyevent KEYCODE_NOPE');
  assert.equal(bad.code, 1);
  assert.equal((await runShell(p, 'input text hello')).code, 0);
  assert.equal((await runShell(p, 'input')).code, 1);
});

test('uiautomator dump with the screen off fails as on a phone', async () => {
  const p = await makePhone();
  await runShell(p, 'input keyevent 26');
  const r = await runShell(p, 'uiautomator dump');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /null root node/);
});

test('MIUI refuses injected input until "USB debugging (Security settings)" is on', async () => {
  const p = await makePhone();
  p.state.system.setProp('persist.security.adbinput', '0');
  const r = await runShell(p, 'input keyevent 26');
  assert.equal(r.code, 255);
  assert.match(
    r.stderr,
    /SecurityException: Injecting to another application requires INJECT_EVENTS permission/,
  );
  assert.equal(p.state.screen.on, true);
});

test('the privacy screen (android.settings.PRIVACY_SETTINGS) has the switches that drive traffic', async () => {
  const p = await makePhone();
  const opened = await runShell(p, 'am start -a android.settings.PRIVACY_SETTINGS');
  assert.equal(opened.code, 0);
  const dump = async () => {
    await runShell(p, 'uiautomator dump /sdcard/ui.xml');
    return readFileSync(p.hostPath('/sdcard/ui.xml')!, 'utf8');
  };
  const tapText = async (xml: string, text: string) => {
    const m = new RegExp(`text="${text}"[^>]*bounds="\\[(\\d+),(\\d+)\\]\\[(\\d+),(\\d+)\\]"`).exec(xml);
    assert.ok(m, text);
    await runShell(p, `input tap ${(Number(m[1]) + Number(m[3])) / 2} ${(Number(m[2]) + Number(m[4])) / 2}`);
  };
  let xml = await dump();
  assert.match(xml, /class="android\.widget\.Switch"[^>]*checkable="true" checked="false"/);
  await tapText(xml, 'User Experience Program');
  assert.equal(p.state.trafficState().analyticsConsent, true);
  assert.equal((await runShell(p, 'settings get secure upload_log_pref')).stdout, '1\n');
  xml = await dump();
  assert.equal((xml.match(/checked="true"/g) ?? []).length, 1);
  await tapText(xml, 'Xiaomi Cloud backup');
  await tapText(xml, 'Back up now');
  assert.equal(p.state.trafficState().backupRunning, true);
  await tapText(xml, 'Xiaomi Account: Sign in');
  assert.equal(p.state.trafficState().accountSignedIn, true);
  assert.match(await dump(), /text="Xiaomi Account: 6218345790"/);
});
