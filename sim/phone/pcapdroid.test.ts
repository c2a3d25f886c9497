import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

const CTRL = 'am start -n com.emanuelef.remote_capture/.activities.CaptureCtrl';

/** The results PCAPdroid logged, as the harness reads them over adb. */
async function results(p: Awaited<ReturnType<typeof makePhone>>): Promise<Record<string, string>[]> {
  const text = (await runShell(p, 'logcat -d -s PCAPdroid:I')).stdout;
  return [...text.matchAll(/CaptureCtrl result: (.*)$/gm)].map((m) =>
    Object.fromEntries(m[1]!.split(' ').map((kv) => kv.split('=') as [string, string])),
  );
}

test('without the API key a start shows the consent dialog and captures nothing', async () => {
  const p = await makePhone();
  const r = await runShell(p, `${CTRL} -e action start -e pcap_dump_mode pcap_file -e pcap_name x.pcap`);
  assert.equal(r.code, 0);
  assert.equal(
    p.state.apps.foreground,
    'com.emanuelef.remote_capture/com.emanuelef.remote_capture.activities.CaptureCtrl',
  );
  assert.equal(p.state.pcapdroid.running, false);
  assert.equal(p.state.pcapdroid.consentPending, true);
  assert.deepEqual((await results(p)).at(-1), { action: 'start', error: 'consent_required' });
  // The dialog is what uiautomator sees; Deny dismisses it.
  await runShell(p, 'uiautomator dump /sdcard/ui.xml');
  const xml = (await runShell(p, 'cat /sdcard/ui.xml')).stdout;
  assert.match(xml, /text="Allow the app &quot;Shell&quot; to control PCAPdroid\?/);
  const deny = /text="Deny"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"/.exec(xml)!;
  await runShell(
    p,
    `input tap ${(Number(deny[1]) + Number(deny[3])) / 2} ${(Number(deny[2]) + Number(deny[4])) / 2}`,
  );
  assert.equal(p.state.pcapdroid.consentPending, false);
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.home');
});

test('with the API key, start/get_status/stop answer in logcat and never log the key', async () => {
  const p = await makePhone();
  const key = p.state.profile.pcapdroid!.apiKey!;
  await runShell(
    p,
    `${CTRL} -e action start -e api_key ${key} -e pcap_dump_mode pcap_file -e pcap_name run1.pcap -e dump_extensions true`,
  );
  assert.equal(p.state.pcapdroid.running, true);
  assert.equal(p.state.pcapdroid.file, '/sdcard/Download/PCAPdroid/run1.pcap');
  await runShell(p, `${CTRL} -e action get_status -e api_key ${key}`);
  const status = (await results(p)).at(-1)!;
  assert.equal(status['action'], 'get_status');
  assert.equal(status['running'], 'true');
  assert.equal(status['version_name'], '1.8.6');
  await runShell(p, `${CTRL} -e action stop -e api_key ${key}`);
  assert.equal(p.state.pcapdroid.running, false);
  assert.equal((await results(p)).at(-1)!['running'], 'false');
  const all = (await runShell(p, 'logcat -d')).stdout;
  assert.ok(!all.includes(key), 'the API key never reaches the log');
  // The foreground never moved to PCAPdroid.
  assert.equal(p.state.apps.foregroundPackage, 'com.miui.home');
});

test('a phone without PCAPdroid cannot start CaptureCtrl', async () => {
  const p = await makePhone('pixel');
  const r = await runShell(p, `${CTRL} -e action start`);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does not exist/);
});

test('Allow in the consent dialog carries out the waiting start', async () => {
  const p = await makePhone();
  await runShell(p, `${CTRL} -e action start -e pcap_dump_mode pcap_file -e pcap_name allowed.pcap`);
  assert.equal(p.state.pcapdroid.running, false);
  await runShell(p, 'uiautomator dump /sdcard/ui.xml');
  const xml = (await runShell(p, 'cat /sdcard/ui.xml')).stdout;
  const allow = /text="Allow"[^>]*bounds="\[(\d+),(\d+)\]\[(\d+),(\d+)\]"/.exec(xml)!;
  await runShell(
    p,
    `input tap ${(Number(allow[1]) + Number(allow[3])) / 2} ${(Number(allow[2]) + Number(allow[4])) / 2}`,
  );
  assert.equal(p.state.pcapdroid.running, true);
  assert.equal(p.state.pcapdroid.file, '/sdcard/Download/PCAPdroid/allowed.pcap');
  assert.deepEqual((await results(p)).slice(-2)[0], { consent: 'allowed' });
  // BACK on a later dialog denies.
  await runShell(p, `${CTRL} -e action stop`);
  await runShell(p, 'input keyevent 4');
  assert.equal(p.state.pcapdroid.running, true);
  assert.deepEqual((await results(p)).at(-1), { consent: 'denied' });
});
