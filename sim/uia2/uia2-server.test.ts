/**
 * The on-phone UiAutomator2 server driven over HTTP as the driver drives it: a simulated Xiaomi phone
 * runs `am instrument -w` of Appium's instrumentation (installed from the real server APKs with pm),
 * and a loopback relay (standing in for adb forward) carries keep-alive HTTP to phone port 6790.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { after, before, test } from 'node:test';
import { inflateSync } from 'node:zlib';
import { cleanupPhones, makePhone } from '../../testing/sim-test-phone.js';
import { runShell } from '../phone/run-shell.js';
import type { SimPhoneInstance } from '../phone/sim-phone.js';
import type { UiNode } from '../phone/ui-node.js';
import { ELEMENT_KEY } from './uia2-context.js';
import { settleMs, UIA2_INSTRUMENTATION, type Uia2Options, uia2InstrumentHook } from './uia2-server.js';

const APKS = 'node_modules/appium-uiautomator2-server/apks';

interface Reply {
  status: number;
  body: { sessionId: string | null; value: unknown };
  /** Local port of the connection that carried it (to tell connections apart). */
  localPort: number;
}

interface Rig {
  phone: SimPhoneInstance;
  call(method: string, path: string, body?: unknown, via?: Agent): Promise<Reply>;
  /** Connections the relay accepted so far. */
  connections(): number;
  /** The `am instrument -w` run: resolves when the instrumentation ends. */
  instrument: Promise<{ stdout: string; code: number }>;
  dispose(): Promise<void>;
}

async function startRig(opts: Uia2Options & { animations?: boolean } = {}): Promise<Rig> {
  const phone = await makePhone('xiaomi', { onInstrument: uia2InstrumentHook(opts) });
  copyFileSync(`${APKS}/appium-uiautomator2-server-v10.6.6.apk`, phone.hostPath('/data/local/tmp/s.apk')!);
  copyFileSync(
    `${APKS}/appium-uiautomator2-server-debug-androidTest.apk`,
    phone.hostPath('/data/local/tmp/t.apk')!,
  );
  const installed = await runShell(
    phone,
    'pm install /data/local/tmp/s.apk && pm install /data/local/tmp/t.apk',
  );
  assert.equal(installed.code, 0, installed.stdout + installed.stderr);
  const client = new AbortController();
  // As phonehome starts it (appium:disableWindowAnimation): screens change without transitions.
  const noAnimation = opts.animations ? '' : '--no-window-animation ';
  const instrument = runShell(
    phone,
    `am instrument -w ${noAnimation}-e disableAnalytics true ${UIA2_INSTRUMENTATION}`,
    {
      signal: client.signal,
    },
  );
  // The relay: one phone connection per accepted TCP connection, as adb forward makes them.
  let accepted = 0;
  const relay: Server = createServer((sock) => {
    accepted++;
    sock.on('error', () => {});
    phone.connectTcp(6790).then(
      (s) => {
        s.on('error', () => {});
        sock.pipe(s).pipe(sock);
        s.on('close', () => sock.destroy());
        sock.on('close', () => s.destroy());
      },
      () => sock.destroy(),
    );
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  const port = (relay.address() as { port: number }).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const call = (method: string, path: string, body?: unknown, via: Agent = agent) =>
    new Promise<Reply>((resolve, reject) => {
      const data = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: via,
          timeout: 5000,
          headers: data
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) }
            : {},
        },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => {
            text += d.toString();
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(text),
              localPort: req.socket?.localPort ?? 0,
            }),
          );
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.end(data);
    });
  return {
    phone,
    call,
    connections: () => accepted,
    instrument,
    async dispose() {
      agent.destroy();
      client.abort();
      await instrument;
      await new Promise<void>((r) => relay.close(() => r()));
    },
  };
}

let rig: Rig;
let sid: string;
const caps = { platformName: 'Android', automationName: 'UiAutomator2', appPackage: 'com.miui.gallery' };

before(async () => {
  rig = await startRig();
});
after(async () => {
  await rig.dispose();
  await cleanupPhones();
});

async function find(using: string, value: string, multiple = false, context?: string) {
  const path = context
    ? `/session/${sid}/element/${context}/element${multiple ? 's' : ''}`
    : `/session/${sid}/element${multiple ? 's' : ''}`;
  return rig.call('POST', path, { strategy: using, selector: value, context: '', multiple });
}

function elId(r: Reply): string {
  const v = r.body.value as Record<string, string>;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(v['ELEMENT'], v[ELEMENT_KEY]);
  return v[ELEMENT_KEY]!;
}

test('status answers before a session; POST /session creates one that GET /sessions lists', async () => {
  const status = await rig.call('GET', '/status');
  assert.equal(status.status, 200);
  assert.deepEqual(status.body, {
    sessionId: null,
    value: {
      ready: true,
      message: 'UiAutomator2 Server is ready to accept commands',
      build: { version: '10.6.6', versionCode: 278 },
    },
  });
  assert.deepEqual((await rig.call('GET', '/sessions')).body.value, []);
  const created = await rig.call('POST', '/session', {
    capabilities: { firstMatch: [caps], alwaysMatch: {} },
  });
  assert.equal(created.status, 200);
  sid = created.body.sessionId!;
  assert.match(sid, /^[0-9a-f-]{36}$/);
  assert.deepEqual(created.body.value, { sessionId: sid, capabilities: caps });
  assert.equal('status' in created.body, false, 'no numeric status: the proxy must see a W3C reply');
  const listed = (await rig.call('GET', '/sessions')).body.value as { id: string }[];
  assert.deepEqual(
    listed.map((s) => s.id),
    [sid],
  );
});

test('keep-alive: several requests share one connection; concurrent connections are served in parallel', async () => {
  const before = rig.connections();
  const ports = new Set<number>();
  for (let i = 0; i < 5; i++)
    ports.add((await rig.call('GET', `/session/${sid}/appium/device/pixel_ratio`)).localPort);
  assert.equal(ports.size, 1);
  assert.ok(rig.connections() - before <= 1, `${rig.connections() - before} new connections for 5 requests`);
  // Concurrent connections: a find that waits (implicit wait, nothing to find) holds one connection
  // while three others are answered meanwhile.
  const pool = new Agent({ keepAlive: true, maxSockets: 4 });
  try {
    await rig.call('POST', `/session/${sid}/timeouts`, { implicit: 1500 });
    const t0 = Date.now();
    const slow = rig
      .call('POST', `/session/${sid}/element`, { strategy: 'id', selector: 'nowhere' }, pool)
      .then((r) => ({ status: r.status, ms: Date.now() - t0 }));
    const fast = await Promise.all(
      [1, 2, 3].map(() =>
        rig.call('GET', '/status', undefined, pool).then((r) => ({ status: r.status, ms: Date.now() - t0 })),
      ),
    );
    const waited = await slow;
    assert.deepEqual(
      fast.map((f) => f.status),
      [200, 200, 200],
    );
    assert.ok(
      fast.every((f) => f.ms < 1000),
      `fast replies after ${fast.map((f) => f.ms).join(', ')} ms`,
    );
    assert.equal(waited.status, 404);
    assert.ok(waited.ms >= 1400, `the find waited ${waited.ms} ms`);
    assert.ok(rig.connections() - before >= 4, `${rig.connections() - before} connections`);
  } finally {
    await rig.call('POST', `/session/${sid}/timeouts`, { implicit: 0 });
    pool.destroy();
  }
});

test('page source: the XML of the current screen, class names as tags, attributes in the server order', async () => {
  await runShell(rig.phone, 'am start -n com.miui.gallery/.activity.HomePageActivity');
  const r = await rig.call('GET', `/session/${sid}/source`);
  const xml = r.body.value as string;
  assert.ok(
    xml.startsWith(
      '<?xml version=\'1.0\' encoding=\'UTF-8\' standalone=\'yes\' ?>\n<hierarchy index="0" class="hierarchy" rotation="0" width="1080" height="2400">\n',
    ),
  );
  assert.match(
    xml,
    /\n {4}<android\.widget\.TextView index="1" package="com\.miui\.gallery" class="android\.widget\.TextView" text="Gallery" resource-id="android:id\/title" checkable="false" checked="false" clickable="false" enabled="true" focusable="false" focused="false" long-clickable="false" password="false" scrollable="false" selected="false" bounds="\[0,66\]\[1080,242\]" displayed="true" a11y-important="true" [^>]*window-id="\d+" \/>\n/,
  );
  assert.equal((xml.match(/<android\.widget\.LinearLayout /g) ?? []).length, 5);
  assert.ok(xml.trimEnd().endsWith('</hierarchy>'));
});

test('every find strategy locates elements on the Gallery screen', async () => {
  // id: a bare id is completed with the session's appPackage.
  const rows = await find('id', 'row', true);
  assert.equal((rows.body.value as unknown[]).length, 5);
  assert.equal(((await find('id', 'com.miui.gallery:id/row', true)).body.value as unknown[]).length, 5);
  assert.equal(((await find('id', 'android:id/title', true)).body.value as unknown[]).length, 1);
  const back = elId(await find('accessibility id', 'Back'));
  assert.equal(
    (await rig.call('GET', `/session/${sid}/element/${back}/attribute/resource-id`)).body.value,
    'com.android.systemui:id/back',
  );
  assert.equal(
    ((await find('class name', 'android.widget.LinearLayout', true)).body.value as unknown[]).length,
    5,
  );
  const third = elId(await find('xpath', '//android.widget.TextView[@text="Gallery item 3"]'));
  assert.equal((await rig.call('GET', `/session/${sid}/element/${third}/text`)).body.value, 'Gallery item 3');
  const xp2 = elId(await find('xpath', '(//*[contains(@resource-id,"id/row")])[2]/android.widget.TextView'));
  assert.equal((await rig.call('GET', `/session/${sid}/element/${xp2}/text`)).body.value, 'Gallery item 2');
  const byText = elId(await find('xpath', `//*[@text="Gallery item 4"]/..`));
  assert.equal(
    (await rig.call('GET', `/session/${sid}/element/${byText}/attribute/class`)).body.value,
    'android.widget.LinearLayout',
  );
  const ui = async (sel: string) =>
    (await rig.call('GET', `/session/${sid}/element/${elId(await find('-android uiautomator', sel))}/text`))
      .body.value;
  assert.equal(await ui('new UiSelector().textContains("item 5")'), 'Gallery item 5');
  assert.equal(await ui('new UiSelector().textStartsWith("Gallery it").instance(1)'), 'Gallery item 2');
  assert.equal(
    await ui(
      'new UiSelector().resourceId("com.miui.gallery:id/row").index(3).childSelector(new UiSelector().className("android.widget.TextView"))',
    ),
    'Gallery item 2',
  );
  assert.equal(
    await ui('new UiSelector().clickable(true).instance(0).childSelector(new UiSelector().index(0))'),
    'Gallery item 1',
  );
  assert.equal(
    await ui(
      'new UiScrollable(new UiSelector().scrollable(true)).scrollIntoView(new UiSelector().text("Gallery item 5"))',
    ),
    'Gallery item 5',
  );
  const desc = elId(await find('-android uiautomator', 'new UiSelector().descriptionContains("om")'));
  assert.equal((await rig.call('GET', `/session/${sid}/element/${desc}/name`)).body.value, 'Home');
  // Inside an element: only its subtree.
  const row1 = elId(await find('id', 'row'));
  const inner = await find('class name', 'android.widget.TextView', true, row1);
  assert.equal((inner.body.value as unknown[]).length, 1);
  // Misses and bad locators.
  const miss = await find('xpath', '//android.widget.Switch');
  assert.equal(miss.status, 404);
  assert.equal((miss.body.value as { error: string }).error, 'no such element');
  assert.deepEqual((await find('id', 'nope', true)).body.value, []);
  const bad = await find('xpath', '//*[@text=');
  assert.equal(bad.status, 400);
  assert.equal((bad.body.value as { error: string }).error, 'invalid selector');
  assert.equal((await find('-android uiautomator', 'new UiSelector().bogus(1)')).status, 400);
  assert.equal((await find('css selector', 'x')).status, 400);
});

test('element facts: rect, location, size, attributes, displayed/enabled/selected', async () => {
  const row = elId(await find('xpath', '//android.widget.LinearLayout[1]'));
  const get = async (p: string) => (await rig.call('GET', `/session/${sid}/element/${row}/${p}`)).body.value;
  const rect = (await get('rect')) as { x: number; y: number; width: number; height: number };
  assert.deepEqual(rect, { x: 44, y: 286, width: 992, height: 165 });
  assert.deepEqual(await get('location'), { x: 44, y: 286 });
  assert.deepEqual(await get('size'), { width: 992, height: 165 });
  assert.equal(await get('attribute/bounds'), '[44,286][1036,451]');
  assert.equal(await get('attribute/clickable'), 'true');
  assert.equal(await get('attribute/checked'), 'false');
  assert.equal(await get('attribute/displayed'), 'true');
  assert.equal(await get('attribute/content-desc'), null);
  assert.equal(await get('attribute/package'), 'com.miui.gallery');
  assert.equal(await get('displayed'), true);
  assert.equal(await get('enabled'), true);
  assert.equal(await get('selected'), false);
});

test('click taps through the phone: the foreground app changes; elements of the old screen go stale', async () => {
  await runShell(rig.phone, 'input keyevent 3');
  assert.equal(rig.phone.state.apps.foregroundPackage, 'com.miui.home');
  const row = elId(await find('accessibility id', 'Settings'));
  assert.equal(
    (await rig.call('POST', `/session/${sid}/element/${row}/click`, { element: row })).body.value,
    null,
  );
  assert.equal(rig.phone.state.apps.foregroundPackage, 'com.android.settings');
  const stale = await rig.call('GET', `/session/${sid}/element/${row}/text`);
  assert.equal(stale.status, 404);
  assert.equal((stale.body.value as { error: string }).error, 'stale element reference');
  // The system bar lives in its own window: still the same element after the app changed.
  const home = elId(await find('accessibility id', 'Home'));
  assert.equal((await rig.call('POST', `/session/${sid}/back`)).body.value, null);
  assert.equal(rig.phone.state.apps.foregroundPackage, 'com.miui.home');
  assert.equal(
    (await rig.call('GET', `/session/${sid}/element/${home}/attribute/content-desc`)).body.value,
    'Home',
  );
  await rig.call('POST', `/session/${sid}/appium/device/press_keycode`, { keycode: 26 });
  assert.equal(rig.phone.state.screen.on, false);
  await rig.call('POST', `/session/${sid}/appium/device/press_keycode`, { keycode: 26 });
  assert.equal(rig.phone.state.screen.on, true);
  assert.equal(rig.phone.state.screen.locked, true, 'the Xiaomi profile locks with a swipe');
  await runShell(rig.phone, 'wm dismiss-keyguard');
  const unknown = await rig.call('GET', `/session/${sid}/element/0000/text`);
  assert.equal((unknown.body.value as { error: string }).error, 'no such element');
});

test('screenshot, window size, device facts, settings, orientation, implicit wait', async () => {
  const shot = (await rig.call('GET', `/session/${sid}/screenshot`)).body.value as string;
  assert.doesNotMatch(shot, /\s/);
  const png = Buffer.from(shot, 'base64');
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.readUInt32BE(16), 1080);
  assert.equal(png.readUInt32BE(20), 2400);
  assert.equal(inflateSync(png.subarray(41, png.length - 4 - 12)).length, (1080 * 3 + 1) * 2400);
  assert.deepEqual((await rig.call('GET', `/session/${sid}/window/current/size`)).body.value, {
    width: 1080,
    height: 2400,
  });
  const info = (await rig.call('GET', `/session/${sid}/appium/device/info`)).body.value as Record<
    string,
    unknown
  >;
  assert.equal(info['manufacturer'], 'Xiaomi');
  assert.equal(info['apiVersion'], '34');
  assert.equal(info['realDisplaySize'], '1080x2400');
  assert.equal(info['displayDensity'], 440);
  assert.equal((await rig.call('GET', `/session/${sid}/appium/device/pixel_ratio`)).body.value, 2.75);
  assert.deepEqual((await rig.call('GET', `/session/${sid}/appium/device/system_bars`)).body.value, {
    statusBar: 66,
  });
  const settings = (await rig.call('GET', `/session/${sid}/appium/settings`)).body.value as Record<
    string,
    unknown
  >;
  assert.equal(settings['waitForIdleTimeout'], 10000);
  await rig.call('POST', `/session/${sid}/appium/settings`, {
    settings: { waitForIdleTimeout: 0, nonsense: 1 },
  });
  const after = (await rig.call('GET', `/session/${sid}/appium/settings`)).body.value as Record<
    string,
    unknown
  >;
  assert.equal(after['waitForIdleTimeout'], 0);
  assert.equal('nonsense' in after, false);
  assert.equal((await rig.call('GET', `/session/${sid}/orientation`)).body.value, 'PORTRAIT');
  await rig.call('POST', `/session/${sid}/orientation`, { orientation: 'LANDSCAPE' });
  assert.equal((await rig.call('GET', `/session/${sid}/orientation`)).body.value, 'LANDSCAPE');
  assert.match((await rig.call('GET', `/session/${sid}/source`)).body.value as string, /rotation="1"/);
  await rig.call('POST', `/session/${sid}/orientation`, { orientation: 'PORTRAIT' });
  assert.equal(
    (await rig.call('POST', `/session/${sid}/orientation`, { orientation: 'SIDEWAYS' })).status,
    400,
  );
  // Implicit wait: the find keeps looking until the screen shows the element.
  await rig.call('POST', `/session/${sid}/timeouts`, { implicit: 3000 });
  await runShell(rig.phone, 'input keyevent 3');
  setTimeout(() => void runShell(rig.phone, 'am start -n com.miui.gallery/.activity.HomePageActivity'), 400);
  const t0 = Date.now();
  elId(await find('id', 'row'));
  const waited = Date.now() - t0;
  assert.ok(waited >= 300 && waited < 2500, `waited ${waited} ms`);
  await rig.call('POST', `/session/${sid}/timeouts`, { implicit: 0 });
});

test('mobile gestures: click at an element or a point, swipe up unlocks; element screenshots are cropped PNGs', async () => {
  await runShell(rig.phone, 'input keyevent 3');
  const icon = elId(await find('accessibility id', 'Settings'));
  const rect = (await rig.call('GET', `/session/${sid}/element/${icon}/rect`)).body.value as {
    width: number;
    height: number;
  };
  const crop = Buffer.from(
    (await rig.call('GET', `/session/${sid}/element/${icon}/screenshot`)).body.value as string,
    'base64',
  );
  assert.equal(crop.readUInt32BE(16), rect.width);
  assert.equal(crop.readUInt32BE(20), rect.height);
  const origin = { ELEMENT: icon, [ELEMENT_KEY]: icon };
  assert.equal((await rig.call('POST', `/session/${sid}/appium/gestures/click`, { origin })).status, 200);
  assert.equal(rig.phone.state.apps.foregroundPackage, 'com.android.settings');
  const home = elId(await find('accessibility id', 'Home'));
  const hr = (await rig.call('GET', `/session/${sid}/element/${home}/rect`)).body.value as {
    x: number;
    y: number;
  };
  await rig.call('POST', `/session/${sid}/appium/gestures/click`, { offset: { x: hr.x + 5, y: hr.y + 5 } });
  assert.equal(rig.phone.state.apps.foregroundPackage, 'com.miui.home');
  assert.equal((await rig.call('POST', `/session/${sid}/appium/gestures/click`, {})).status, 400);
  await runShell(rig.phone, 'input keyevent 26');
  await runShell(rig.phone, 'input keyevent 224');
  assert.equal(rig.phone.state.screen.locked, true);
  const swipe = await rig.call('POST', `/session/${sid}/appium/gestures/swipe`, {
    area: { left: 0, top: 0, width: 1080, height: 2400 },
    direction: 'up',
    percent: 0.8,
  });
  assert.equal(swipe.status, 200);
  assert.equal(rig.phone.state.screen.locked, false);
  // W3C actions: pointer down and up on the same spot is a tap.
  const settings = elId(await find('accessibility id', 'Settings'));
  const sr = (await rig.call('GET', `/session/${sid}/element/${settings}/rect`)).body.value as {
    x: number;
    y: number;
  };
  await rig.call('POST', `/session/${sid}/actions`, {
    actions: [
      {
        type: 'pointer',
        id: 'finger1',
        parameters: { pointerType: 'touch' },
        actions: [
          { type: 'pointerMove', duration: 0, x: sr.x + 10, y: sr.y + 10 },
          { type: 'pointerDown', button: 0 },
          { type: 'pause', duration: 50 },
          { type: 'pointerUp', button: 0 },
        ],
      },
    ],
  });
  assert.equal(rig.phone.state.apps.foregroundPackage, 'com.android.settings');
});

test("alerts: PCAPdroid's consent dialog is read and accepted like a platform dialog; none → no such alert", async () => {
  await runShell(rig.phone, 'input keyevent 3');
  const none = await rig.call('GET', `/session/${sid}/alert/text`);
  assert.equal(none.status, 404);
  assert.equal((none.body.value as { error: string }).error, 'no such alert');
  await runShell(
    rig.phone,
    'am start -n com.emanuelef.remote_capture/.activities.CaptureCtrl -e action start',
  );
  assert.equal(rig.phone.state.pcapdroid.consentPending, true);
  assert.match(
    (await rig.call('GET', `/session/${sid}/alert/text`)).body.value as string,
    /control PCAPdroid/,
  );
  assert.equal((await rig.call('POST', `/session/${sid}/alert/accept`)).status, 200);
  assert.equal(rig.phone.state.pcapdroid.consentPending, false);
  assert.match((await runShell(rig.phone, 'logcat -d -s PCAPdroid:I')).stdout, /consent=allowed/);
  const battery = (await rig.call('GET', `/session/${sid}/appium/device/battery_info`)).body.value;
  assert.deepEqual(battery, { level: 0.82, state: 2 });
});

test('unknown routes and sessions get W3C errors in the envelope', async () => {
  const r = await rig.call('GET', `/session/${sid}/no/such/route`);
  assert.equal(r.status, 404);
  assert.equal(r.body.sessionId, null);
  const v = r.body.value as { error: string; message: string; stacktrace: string };
  assert.equal(v.error, 'unknown command');
  assert.match(v.message, /^The requested resource could not be found/);
  assert.equal(typeof v.stacktrace, 'string');
  assert.equal(((await rig.call('PUT', '/status')).body.value as { error: string }).error, 'unknown command');
  const gone = await rig.call('GET', '/session/not-a-session/source');
  assert.equal(gone.status, 404);
  assert.equal((gone.body.value as { error: string }).error, 'invalid session id');
  const legacy = await rig.call('GET', '/wd/hub/status');
  assert.equal(legacy.status, 200);
});

test('DELETE /session ends the instrumentation as the real server does: am instrument returns, the port closes', async () => {
  const del = await rig.call('DELETE', `/session/${sid}`);
  assert.deepEqual(del.body, { sessionId: sid, value: null });
  const r = await rig.instrument;
  assert.match(
    r.stdout,
    /INSTRUMENTATION_STATUS: class=io\.appium\.uiautomator2\.server\.test\.AppiumUiAutomator2Server/,
  );
  assert.match(r.stdout, /INSTRUMENTATION_CODE: -1\n$/);
  await assert.rejects(rig.phone.connectTcp(6790), { code: 'ECONNREFUSED' });
  assert.doesNotMatch((await runShell(rig.phone, 'ps -A')).stdout, / io\.appium\.uiautomator2\.server$/m);
});

test('send keys and clear work on text fields; other views refuse text', async () => {
  const field: UiNode = {
    cls: 'android.widget.EditText',
    pkg: 'com.android.settings',
    text: '',
    resourceId: 'com.android.settings:id/search_src_text',
    bounds: [0, 100, 1080, 200],
    clickable: true,
    children: [],
  };
  const screen: Uia2Options['screen'] = () => ({
    cls: 'android.widget.FrameLayout',
    pkg: 'com.android.settings',
    text: '',
    bounds: [0, 0, 1080, 2400],
    clickable: false,
    children: [
      field,
      {
        ...field,
        cls: 'android.widget.TextView',
        resourceId: 'com.android.settings:id/label',
        text: 'Label',
      },
    ],
  });
  const r2 = await startRig({ screen });
  try {
    const s = (
      await r2.call('POST', '/session', {
        capabilities: { firstMatch: [{ ...caps, appPackage: 'com.android.settings' }] },
      })
    ).body.sessionId!;
    const f = await r2.call('POST', `/session/${s}/element`, { strategy: 'id', selector: 'search_src_text' });
    const id = elId(f);
    await r2.call('POST', `/session/${s}/element/${id}/value`, { text: 'wifi', value: ['w', 'i', 'f', 'i'] });
    await r2.call('POST', `/session/${s}/element/${id}/value`, { text: ' calling' });
    assert.equal((await r2.call('GET', `/session/${s}/element/${id}/text`)).body.value, 'wifi calling');
    assert.match((await r2.call('GET', `/session/${s}/source`)).body.value as string, /text="wifi calling"/);
    await r2.call('POST', `/session/${s}/element/${id}/clear`);
    assert.equal((await r2.call('GET', `/session/${s}/element/${id}/text`)).body.value, '');
    const label = elId(await r2.call('POST', `/session/${s}/element`, { strategy: 'id', selector: 'label' }));
    const refused = await r2.call('POST', `/session/${s}/element/${label}/value`, { text: 'x' });
    assert.equal((refused.body.value as { error: string }).error, 'invalid element state');
  } finally {
    await r2.dispose();
  }
});

test('am force-stop during a waiting request closes its connection at once; the port then refuses', async () => {
  const r3 = await startRig();
  try {
    const s = (await r3.call('POST', '/session', { capabilities: { firstMatch: [caps] } })).body.sessionId!;
    await r3.call('POST', `/session/${s}/timeouts`, { implicit: 20_000 });
    const t0 = Date.now();
    const pending = r3.call('POST', `/session/${s}/element`, { strategy: 'id', selector: 'nowhere' }).then(
      () => 'answered',
      () => 'closed',
    );
    await new Promise((r) => setTimeout(r, 200));
    await runShell(r3.phone, 'am force-stop io.appium.uiautomator2.server');
    assert.equal(await pending, 'closed');
    assert.ok(Date.now() - t0 < 3000, `closed after ${Date.now() - t0} ms`);
    assert.match((await r3.instrument).stdout, /INSTRUMENTATION_CODE: -1/);
    await assert.rejects(r3.phone.connectTcp(6790), { code: 'ECONNREFUSED' });
  } finally {
    await r3.dispose();
  }
});

test('with window animations on, a tap answers once its transition has played: 300 ms × transition_animation_scale, capped by waitForIdleTimeout', async () => {
  const slow = await startRig({ animations: true });
  try {
    const made = await slow.call('POST', '/session', {
      capabilities: { firstMatch: [caps], alwaysMatch: {} },
    });
    const s = made.body.sessionId!;
    const tapSettings = async () => {
      await runShell(slow.phone, 'input keyevent 3');
      const found = await slow.call('POST', `/session/${s}/element`, {
        strategy: 'accessibility id',
        selector: 'Settings',
      });
      const id = (found.body.value as Record<string, string>)[ELEMENT_KEY]!;
      const t0 = performance.now();
      const r = await slow.call('POST', `/session/${s}/element/${id}/click`, { element: id });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(slow.phone.state.apps.foregroundPackage, 'com.android.settings');
      return performance.now() - t0;
    };
    assert.ok((await tapSettings()) >= 300, 'scale 1 (the profile): one transition');
    await runShell(slow.phone, 'settings put global transition_animation_scale 4');
    assert.ok((await tapSettings()) >= 1_200, 'scale 4: four times as long');
    await slow.call('POST', `/session/${s}/appium/settings`, { settings: { waitForIdleTimeout: 100 } });
    const capped = await tapSettings();
    assert.ok(capped >= 100 && capped < 1_000, `capped by waitForIdleTimeout: ${capped} ms`);
    const state = slow.phone.state;
    assert.equal(settleMs(state, true, 10_000), 0, 'instrumentation with --no-window-animation: no wait');
    await runShell(slow.phone, 'settings put global transition_animation_scale 0');
    assert.equal(settleMs(state, false, 10_000), 0, 'animations off in Developer options: no wait');
    await runShell(slow.phone, 'settings put global transition_animation_scale 0.5');
    assert.equal(settleMs(state, false, 10_000), 150);
    assert.equal(
      settleMs(state, false, 'nonsense'),
      150,
      'a waitForIdleTimeout that is no number: the default cap',
    );
    await runShell(slow.phone, 'settings put global transition_animation_scale bogus');
    assert.equal(settleMs(state, false, 10_000), 300, 'an unreadable scale counts as 1, as on Android');
    await runShell(slow.phone, 'settings put global transition_animation_scale 99');
    assert.equal(settleMs(state, false, 60_000), 6_000, 'held at 20');
  } finally {
    await slow.dispose();
  }
});

test('the Xiaomi Account form: typed name and password sign in under that name; empty fields do not; Sign out signs out', async () => {
  // A rig of its own: a test above stops the shared one's instrumentation.
  const rig = await startRig();
  const state = rig.phone.state;
  const s = (
    await rig.call('POST', '/session', {
      capabilities: { firstMatch: [{ ...caps, appPackage: 'com.android.settings' }] },
    })
  ).body.sessionId!;
  const byUi = async (selector: string) =>
    elId(await rig.call('POST', `/session/${s}/element`, { strategy: '-android uiautomator', selector }));
  const click = async (selector: string) =>
    rig.call('POST', `/session/${s}/element/${await byUi(selector)}/click`);
  const type = async (id: string, text: string) =>
    rig.call('POST', `/session/${s}/element/${await byUi(`new UiSelector().resourceId("${id}")`)}/value`, {
      text,
    });
  try {
    assert.equal(state.accounts.length, 0);
    await runShell(rig.phone, 'am start -n com.android.settings/.Settings');
    await click('new UiSelector().text("Xiaomi Account")');
    assert.equal(state.apps.foreground, 'com.xiaomi.account/com.xiaomi.account.ui.LoginActivity');
    const signIn = 'new UiSelector().resourceId("com.xiaomi.account:id/btn_login")';
    // Nothing typed: the form stays and nobody is signed in.
    await click(signIn);
    assert.equal(state.apps.foreground, 'com.xiaomi.account/com.xiaomi.account.ui.LoginActivity');
    await type('com.xiaomi.account:id/et_account_name', 'lab.tester@example.org');
    await click(signIn);
    assert.equal(state.accounts.length, 0, 'no password, no sign-in');
    await type('com.xiaomi.account:id/et_account_password', 'correct horse');
    await click(signIn);
    assert.deepEqual(state.accounts, [{ type: 'com.xiaomi', name: 'lab.tester@example.org' }]);
    assert.equal(state.apps.foreground, 'com.xiaomi.account/com.xiaomi.account.ui.AccountSettingsActivity');
    assert.equal(state.screen.typed.size, 0, 'the submitted form forgets what was typed');
    // Signed in, the Settings row opens the account page, whose Sign out signs out.
    await runShell(rig.phone, 'am start -n com.android.settings/.Settings');
    await click('new UiSelector().text("Xiaomi Account")');
    assert.equal(state.apps.foreground, 'com.xiaomi.account/com.xiaomi.account.ui.AccountSettingsActivity');
    await click('new UiSelector().resourceId("com.xiaomi.account:id/btn_logout")');
    assert.deepEqual(state.accounts, []);
    assert.equal(state.apps.foreground, 'com.android.settings/com.android.settings.Settings');
  } finally {
    await rig.call('DELETE', `/session/${s}`);
    await rig.dispose();
  }
});
