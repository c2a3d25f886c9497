/**
 * The simulated phone end to end: behind its adbd, driven by the real adb 29 client and server and by
 * adbkit as Appium's UiAutomator2 driver and the harness drive a phone; and (as root) inside a real lab
 * network, with PCAPdroid writing a capture that tshark reads. Each test starts its own adb server on a
 * free port with a throwaway HOME and kills only that server; the lab is removed by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import adbkit from '@devicefarmer/adbkit';
import { AdbClient } from '../harness/device/adb.js';
import { parseIpAddr, readFacts } from '../harness/device/facts.js';
import { run } from '../sim/net/lab.js';
import { runShell } from '../sim/phone/run-shell.js';
import {
  createSimPhone,
  type InstrumentRun,
  loadPhoneProfile,
  type SimPhoneInstance,
} from '../sim/phone/sim-phone.js';
import { gate } from '../testing/gate.js';
import { freePort } from './free-port.js';
import { startPhoneRig } from './phone-rig.js';
import { sleep, startTestLab, XIAOMI_TRAFFIC } from './sim-lab-fixture.js';

const Adb = adbkit.default;
const APKS = 'node_modules/appium-uiautomator2-server/apks';
const SERVER_APK = `${APKS}/appium-uiautomator2-server-v10.6.6.apk`;
const TEST_APK = `${APKS}/appium-uiautomator2-server-debug-androidTest.apk`;
const INSTR = 'io.appium.uiautomator2.server.test/androidx.test.runner.AndroidJUnitRunner';
const isRoot = process.getuid?.() === 0;

/** A private adb server, its CLI, a simulated Pixel behind an adbd (see phone-rig.ts). */
function startRig(onInstrument?: (run: InstrumentRun) => void) {
  return startPhoneRig({ profile: 'devices/sim/pixel-7.yaml', ...(onInstrument ? { onInstrument } : {}) });
}

function httpJson(port: number, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = httpGet({ host: '127.0.0.1', port, path, timeout: 3000 }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

test("Appium UiAutomator2's startup sequence through the real adb: checks, installs, instrumentation, forward, launch", async () => {
  // The UiAutomator2 server is played by the hook: an HTTP /status on phone port 6790 while instrumented.
  const rig = await startRig((runI) => {
    const server = createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ sessionId: null, value: { ready: true } }));
    });
    runI.listen(6790, (stream) => server.emit('connection', stream));
    runI.print('INSTRUMENTATION_STATUS_CODE: 1');
  });
  try {
    const { shell, adb, serial } = rig;
    assert.equal((await shell('getprop ro.build.version.sdk')).stdout.trim(), '34');
    assert.equal((await shell('getprop ro.build.version.release')).stdout.trim(), '14');
    const hidden = await shell(
      'settings put global hidden_api_policy_pre_p_apps 1;settings put global hidden_api_policy_p_apps 1;settings put global hidden_api_policy 1',
    );
    assert.equal(hidden.code, 0);
    assert.doesNotMatch(
      (await shell('dumpsys package io.appium.settings')).stdout,
      /^\s*Package\s+\[io.appium.settings\][^:]+:$/m,
    );
    assert.equal((await shell("[ -e '/data/local/tmp/mock_apps.json' ] && echo __PASS__")).stdout, '');

    // Installs as the adb client does them (streamed to `cmd package install -S`).
    for (const apk of [SERVER_APK, TEST_APK]) {
      const r = await adb(['-s', serial, 'install', '-r', apk], 60_000);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /Success/);
      assert.doesNotMatch(r.stdout, /\[INSTALL[A-Z_]+FAILED[A-Z_]+\]/);
    }
    const dump = (await shell('dumpsys package io.appium.uiautomator2.server')).stdout;
    assert.match(dump, /^\s*Package\s+\[io\.appium\.uiautomator2\.server\][^:]+:$/m);
    assert.equal(/versionCode=(\d+)/.exec(dump)?.[1], '278');
    assert.equal(/versionName=([\d+.]+)/.exec(dump)?.[1], '10.6.6');
    const listed = (await shell('cmd package list packages --show-versioncode')).stdout;
    assert.match(listed, /^package:io\.appium\.uiautomator2\.server\.test(?:\s+versionCode:\d+)?$/m);
    assert.match(
      (await shell('pm list instrumentation')).stdout,
      new RegExp(
        `^instrumentation:${INSTR.replace(/\./g, '\\.')} \\(target=io\\.appium\\.uiautomator2\\.server\\)$`,
        'm',
      ),
    );
    const idle = await shell(
      'dumpsys deviceidle whitelist +io.appium.uiautomator2.server ; dumpsys deviceidle whitelist +io.appium.uiautomator2.server.test ;',
    );
    assert.equal(idle.code, 0);

    // The instrumentation runs as a long-lived adb subprocess; the forwarded port reaches its server.
    const instrument = rig.spawnAdb(['shell', `am instrument -w -e disableAnalytics true ${INSTR}`]);
    let instrOut = '';
    instrument.stdout!.on('data', (d: Buffer) => {
      instrOut += d.toString();
    });
    const exited = new Promise<number | null>((r) => instrument.on('close', r));
    const local = await freePort();
    assert.equal((await adb(['-s', serial, 'forward', `tcp:${local}`, 'tcp:6790'])).code, 0);
    let status: { status: number; body: unknown } | undefined;
    for (let i = 0; i < 30 && !status; i++) {
      status = await httpJson(local, '/status').catch(() => undefined);
      if (!status) await sleep(200);
    }
    assert.deepEqual(status, { status: 200, body: { sessionId: null, value: { ready: true } } });
    assert.ok(
      (await shell('ps -A')).stdout
        .split('\n')
        .some((l) => l.trim().split(/\s+/).at(-1) === 'io.appium.uiautomator2.server'),
    );

    // Unlock check, process check and the app launch.
    const window = (await shell('dumpsys window')).stdout;
    assert.match(window, /mScreenOnFully=true/);
    assert.doesNotMatch(window, /mShowingLockscreen=true/);
    assert.match((await shell('dumpsys power')).stdout, /mWakefulness=Awake/);
    assert.ok((await shell('ps --help')).stdout.split('\n').some((l) => l.startsWith('-A')));
    const launch = await shell(
      'am start-activity -W -n com.android.settings/.Settings -S -a android.intent.action.MAIN -c android.intent.category.LAUNCHER -f 0x10200000',
    );
    assert.equal(launch.code, 0);
    assert.match(launch.stdout, /^Status: ok$/m);
    assert.match(
      (await shell('dumpsys window displays')).stdout,
      /mFocusedApp=ActivityRecord\{\w+ u0 com\.android\.settings\/\.Settings t\d+\}/,
    );

    // Session end: force-stop ends the instrumentation; the forward then meets a closed port.
    await shell('am force-stop io.appium.uiautomator2.server');
    assert.equal(await exited, 0);
    assert.match(instrOut, /INSTRUMENTATION_CODE: -1/);
    await assert.rejects(httpJson(local, '/status'));
    const cleanup = await shell(
      'settings delete global hidden_api_policy_pre_p_apps;settings delete global hidden_api_policy_p_apps;settings delete global hidden_api_policy',
    );
    assert.equal(cleanup.code, 0);
    assert.equal((await adb(['-s', serial, 'forward', '--remove', `tcp:${local}`])).code, 0);
  } finally {
    await rig.dispose();
  }
});

test("adbkit's device API: properties, boot wait, packages, install, activity start, screencap, binary logcat", async () => {
  const rig = await startRig();
  try {
    const client = Adb.createClient({ port: rig.port });
    const device = client.getDevice(rig.serial);
    const props = await device.getProperties();
    assert.equal(props['ro.product.model'], 'Pixel 7');
    assert.equal(props['ro.serialno'], '2B161FDH2003LN');
    await device.waitBootComplete();
    const features = await device.getFeatures();
    assert.equal(features['android.hardware.wifi'], true);
    assert.ok((await device.getPackages()).includes('com.google.android.gms'));
    // adbkit installs by pushing to /data/local/tmp and running `pm install -r`.
    assert.equal(await device.install(SERVER_APK), true);
    assert.equal(await device.isInstalled('io.appium.uiautomator2.server'), true);
    await device.startActivity({
      component: 'com.google.android.apps.maps/com.google.android.maps.MapsActivity',
    });
    assert.equal(rig.phone.state.apps.foregroundPackage, 'com.google.android.apps.maps');
    await assert.rejects(
      device.startActivity({ component: 'com.google.android.apps.maps/.Nope' }),
      /does not exist/,
    );

    const png = await new Promise<Buffer>((resolve, reject) => {
      void device.screencap().then((s) => {
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.on('end', () => resolve(Buffer.concat(chunks)));
        s.on('error', reject);
      }, reject);
    });
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.equal(png.readUInt32BE(16), 1080);
    assert.equal(png.readUInt32BE(20), 2400);

    // adbkit's typings of the reader omit its EventEmitter side.
    const reader = (await device.openLogcat()) as unknown as NodeJS.EventEmitter & { end(): void };
    const tags: string[] = [];
    const gotMarker = new Promise<string>((resolve) => {
      reader.on('entry', (e: { tag: string; message: string }) => {
        tags.push(e.tag);
        if (e.tag === 'PhoneHomeTest') resolve(e.message);
      });
    });
    await sleep(200);
    await rig.shell('log -t PhoneHomeTest hello from the test');
    assert.equal(await Promise.race([gotMarker, sleep(5000).then(() => 'timeout')]), 'hello from the test');
    assert.ok(tags.includes('ActivityTaskManager'));
    reader.end();

    // The harness's own device layer reads the phone's facts.
    const facts = await readFacts(new AdbClient({ host: '127.0.0.1', port: rig.port }).device(rig.serial));
    assert.equal(facts.manufacturer, 'Google');
    assert.equal(facts.model, 'Pixel 7');
    assert.equal(facts.sdk, 34);
    assert.equal(facts.rom, 'Pixel stock');
    assert.equal(facts.hardwareSerial, '2B161FDH2003LN');
    assert.equal(facts.rooted, false);
    assert.equal(facts.pcapdroidInstalled, false);
    assert.equal(facts.batteryLevel, 91);
    assert.equal(facts.batteryTemperature, 27);
    assert.equal(facts.wifiIp, undefined, 'no PhoneNet: no Wi-Fi address');
  } finally {
    await rig.dispose();
  }
});

const group = gate(!isRoot && 'needs root for network namespaces');

group.describe('the simulated phone in a lab network', () => {
  group.test(
    'wlan0 carries the lab address, ping goes through the lab, PCAPdroid dumps what tshark reads, Wi-Fi off stops traffic',
    async () => {
      const lab = await startTestLab([{ traffic: XIAOMI_TRAFFIC, speed: 300 }]);
      const dataDir = mkdtempSync(join(tmpdir(), 'phonehome-simphone-lab-'));
      let phone: SimPhoneInstance | undefined;
      try {
        const net = lab.phones[0]!;
        phone = await createSimPhone({
          profile: await loadPhoneProfile('devices/sim/xiaomi-redmi-note-13.yaml'),
          dataDir,
          net,
        });
        const addr = await runShell(phone, 'ip addr show wlan0');
        assert.deepEqual(parseIpAddr(addr.stdout), { ip: net.ip, mac: net.mac.toLowerCase() });
        assert.match(
          (await runShell(phone, 'ip route')).stdout,
          new RegExp(`src ${net.ip.replace(/\./g, '\\.')}$`, 'm'),
        );
        const ping = await runShell(phone, 'ping -c 1 tracking.intl.miui.com');
        assert.equal(ping.code, 0, ping.stdout + ping.stderr);
        assert.match(ping.stdout, /1 packets transmitted, 1 received/);

        const key = phone.state.profile.pcapdroid!.apiKey!;
        const ctrl = 'am start -n com.emanuelef.remote_capture/.activities.CaptureCtrl';
        await runShell(
          phone,
          `${ctrl} -e action start -e api_key ${key} -e pcap_dump_mode pcap_file -e pcap_name lab.pcap -e dump_extensions true`,
        );
        assert.equal(phone.state.pcapdroid.running, true);
        await runShell(phone, 'settings put secure upload_log_pref 1');
        await sleep(2500);
        await runShell(phone, `${ctrl} -e action stop -e api_key ${key}`);
        const file = phone.hostPath('/sdcard/Download/PCAPdroid/lab.pcap')!;
        assert.ok(readFileSync(file).length > 24);
        const frames = (await run('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.number']))
          .trim()
          .split('\n');
        const stopped = /pkts_sent=(\d+)/.exec(
          (await runShell(phone, 'logcat -d -s PCAPdroid:I')).stdout.trim().split('\n').at(-1) ?? '',
        );
        assert.ok(frames.length > 5, `tshark read ${frames.length} frames`);
        assert.equal(Number(stopped?.[1]), frames.length);

        // Wi-Fi off: the phone goes quiet.
        await runShell(phone, 'svc wifi disable');
        assert.equal(phone.state.trafficState().online, false);
        await sleep(500);
        const before = net.connections().length;
        await sleep(2000);
        assert.equal(net.connections().length, before, 'no new connections while Wi-Fi is off');
        assert.equal((await runShell(phone, 'ping -c 1 tracking.intl.miui.com')).code, 2);
      } finally {
        await phone?.close();
        await lab.dispose();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});
