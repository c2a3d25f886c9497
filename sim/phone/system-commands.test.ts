import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from './run-shell.js';

after(cleanupPhones);

/** Decodes `service call` output as a client does: the hex words, little endian, then the String16. */
function decodeParcelString(text: string): string | undefined {
  const words = [...text.matchAll(/0x[0-9a-f]{8}: ((?:[0-9a-f]{8} ?)+)/g)].flatMap((m) =>
    m[1]!.trim().split(' '),
  );
  const bytes = Buffer.concat(
    words.map((w) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(Number.parseInt(w, 16));
      return b;
    }),
  );
  if (bytes.readInt32LE(0) !== 0) return undefined;
  const len = bytes.readInt32LE(4);
  return len < 0 ? undefined : bytes.subarray(8, 8 + len * 2).toString('utf16le');
}

test('service call iphonesubinfo 1 s16 com.android.shell returns the IMEI in the parcel dump format', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'service call iphonesubinfo 1 s16 com.android.shell');
  assert.match(r.stdout, /^Result: Parcel\(\n {2}0x00000000: 00000000 0000000f /);
  assert.equal(decodeParcelString(r.stdout), '868523061234565');
  // Slot 1 through getDeviceIdForPhone (code 4 on SDK 30–34).
  const slot1 = await runShell(p, 'service call iphonesubinfo 4 i32 1 s16 com.android.shell');
  assert.equal(decodeParcelString(slot1.stdout), '868523061234573');
});

test('the SIM card: its IMSI, ICCID and number are readable only while it is in, and the traffic carries them only then', async () => {
  const p = await makePhone();
  // SDK 34: getSubscriberId is code 8, getIccSerialNumber 12, getLine1Number 15.
  const read = async (code: number) =>
    decodeParcelString(
      (await runShell(p, `service call iphonesubinfo ${code} s16 com.android.shell`)).stdout,
    );
  const card = () => [read(8), read(12), read(15)];
  assert.deepEqual(await Promise.all(card()), [undefined, undefined, undefined]);
  assert.equal((await runShell(p, 'getprop gsm.sim.state')).stdout.split(',')[0], 'ABSENT');
  assert.equal(p.state.trafficState().ids.imsi, '');

  p.state.setSim(true);
  assert.deepEqual(await Promise.all(card()), ['234150123456789', '8944150000012345678', '+447700900123']);
  assert.equal((await runShell(p, 'getprop gsm.sim.state')).stdout.split(',')[0], 'LOADED');
  assert.equal((await runShell(p, 'getprop gsm.sim.operator.numeric')).stdout.trim(), '23415');
  const ids = p.state.trafficState().ids;
  assert.deepEqual(
    [ids.imsi, ids.iccid, ids.phoneNumber],
    ['234150123456789', '8944150000012345678', '+447700900123'],
  );

  // Xiaomi Cloud messaging is a secure setting, off until the user turns it on.
  assert.equal(p.state.trafficState().cloudMessaging, false);
  await runShell(p, 'settings put secure micloud_messaging_enabled 1');
  assert.equal(p.state.trafficState().cloudMessaging, true);

  p.state.setSim(false);
  assert.deepEqual(await Promise.all(card()), [undefined, undefined, undefined]);
  assert.equal(p.state.trafficState().ids.phoneNumber, '');
});

test('service call iphonesubinfo without the shell package is refused with a SecurityException', async () => {
  const p = await makePhone();
  const r = await runShell(p, 'service call iphonesubinfo 1 s16 com.evil.app');
  assert.match(r.stdout, /^Result: Parcel\(\n {2}0x00000000: ffffffff /);
  assert.equal(decodeParcelString(r.stdout), undefined);
});

test('id and whoami are the shell user', async () => {
  const p = await makePhone();
  assert.match(
    (await runShell(p, 'id')).stdout,
    /^uid=2000\(shell\) gid=2000\(shell\) groups=.* context=u:r:shell:s0\n$/,
  );
  assert.equal((await runShell(p, 'whoami')).stdout, 'shell\n');
});

test('ps -A has the header Appium splits and a NAME for every process; ps --help offers -A', async () => {
  const p = await makePhone();
  const lines = (await runShell(p, 'ps -A')).stdout.trim().split('\n');
  const header = lines[0]!.trim().split(/\s+/);
  assert.deepEqual(header, ['USER', 'PID', 'PPID', 'VSZ', 'RSS', 'WCHAN', 'ADDR', 'S', 'NAME']);
  for (const l of lines.slice(1)) assert.equal(l.trim().split(/\s+/).length, header.length, l);
  assert.ok(
    lines.some((l) => l.endsWith(' com.xiaomi.xmsf')),
    'persistent push service runs',
  );
  assert.ok((await runShell(p, 'ps --help')).stdout.split('\n').some((l) => l.startsWith('-A')));
  const pid = (await runShell(p, 'pidof com.miui.home')).stdout.trim();
  assert.match(pid, /^\d+$/);
  assert.equal((await runShell(p, 'pgrep -x com.miui.home')).stdout.trim(), pid);
  assert.equal((await runShell(p, 'pgrep -x io.appium.uiautomator2.server')).code, 1);
});

test('date prints like toybox; setting the clock needs root', async () => {
  const p = await makePhone('pixel');
  assert.match(
    (await runShell(p, 'date')).stdout,
    /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ \d{4}\n$/,
  );
  const epoch = Number((await runShell(p, 'date +%s')).stdout);
  assert.ok(Math.abs(epoch * 1000 - Date.now()) < 5000);
  const r = await runShell(p, 'date 010203042030.05');
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'date: cannot set date: Operation not permitted\n');
  const rooted = await makePhone('pixel', { edit: (pr) => (pr.rooted = true) });
  assert.equal((await runShell(rooted, 'su -c "date -u @1893456000"')).code, 0);
  assert.equal((await runShell(rooted, 'date -u +%Y-%m-%dT%H:%M:%S')).stdout.slice(0, 13), '2030-01-01T00');
});

test('appops, ime and cmd notification change what the phone reports', async () => {
  const p = await makePhone();
  assert.equal((await runShell(p, 'appops set com.android.chrome PROJECT_MEDIA allow')).code, 0);
  assert.equal(
    (await runShell(p, 'appops get com.android.chrome PROJECT_MEDIA')).stdout,
    'PROJECT_MEDIA: allow\n',
  );
  assert.equal((await runShell(p, 'appops set io.appium.settings android:mock_location allow')).code, 255);
  const ime = 'com.google.android.inputmethod.latin/com.android.inputmethod.latin.LatinIME';
  assert.equal((await runShell(p, 'ime list -s')).stdout, `${ime}\n`);
  assert.equal((await runShell(p, `ime set ${ime}`)).stdout, `Input method ${ime} selected for user #0\n`);
  assert.equal((await runShell(p, 'settings get secure default_input_method')).stdout, `${ime}\n`);
  await runShell(p, 'cmd notification allow_listener com.android.chrome/.Listener');
  assert.equal(
    (await runShell(p, 'settings get secure enabled_notification_listeners')).stdout,
    'com.android.chrome/com.android.chrome.Listener\n',
  );
  assert.equal((await runShell(p, 'cmd nosuch')).code, 20);
});

test('bmgr on the Pixel: backup consent and backup now', async () => {
  const p = await makePhone('pixel');
  assert.equal((await runShell(p, 'bmgr backupnow')).code, 1);
  await runShell(p, 'bmgr enable true');
  assert.equal(p.state.trafficState().backupEnabled, true);
  assert.equal((await runShell(p, 'bmgr backupnow')).code, 0);
  assert.equal(p.state.trafficState().backupRunning, true);
});

test('cmd location: set-location-enabled and is-location-enabled, as Android 11+ has them', async () => {
  const p = await makePhone();
  const sh = (cmd: string) => runShell(p, cmd);
  assert.equal((await sh('cmd location is-location-enabled')).stdout, 'false\n');
  assert.equal(p.state.trafficState().locationOn, false);
  assert.equal((await sh('cmd location set-location-enabled true --user 0')).code, 0);
  assert.equal((await sh('cmd location is-location-enabled --user 0')).stdout, 'true\n');
  // The switch is Settings' location_mode: high accuracy when turned on.
  assert.equal((await sh('settings get secure location_mode')).stdout, '3\n');
  assert.equal(p.state.trafficState().locationOn, true);
  // Boolean.parseBoolean: anything but "true" turns it off.
  await sh('cmd location set-location-enabled yes');
  assert.equal(p.state.trafficState().locationOn, false);
  // Any mode but 0 is on (1 sensors only, 2 battery saving).
  await sh('settings put secure location_mode 2');
  assert.equal((await sh('cmd location is-location-enabled')).stdout, 'true\n');
  const missing = await sh('cmd location set-location-enabled');
  assert.equal(missing.code, 255);
  assert.match(missing.stderr, /Argument expected after "set-location-enabled"/);
  const user = await sh('cmd location is-location-enabled --user 10');
  assert.equal(user.code, 255);
  assert.match(user.stderr, /user 10 does not exist/);
  const unknown = await sh('cmd location frobnicate');
  assert.equal(unknown.code, 255);
  assert.match(unknown.stderr, /Unknown command: frobnicate/);
});
