/**
 * A real Appium 3 server from the project's dependencies, with the real @appium/fake-driver (a driver
 * that plays an app described by an XML file) and real WebdriverIO sessions: start, sessions, UI steps,
 * crash of the Appium process, restart, a taken port, a missing driver, and no process left behind.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { descendants } from '../harness/appium/appium-process.js';
import { AppiumServer, remoteAppium } from '../harness/appium/appium-server.js';
import { AppiumUi } from '../harness/appium/appium-ui.js';
import { AppiumSession, PhoneSessions } from '../harness/appium/session.js';
import { AppiumError } from '../harness/errors.js';

/** A Settings-like screen in UiAutomator2's page-source vocabulary. */
const FAKE_APP = `<app width="1080" height="2400">
  <android.widget.FrameLayout class="android.widget.FrameLayout" resource-id="android:id/content">
    <android.widget.TextView class="android.widget.TextView" text="Xiaomi Cloud" resource-id="android:id/title"/>
    <android.widget.TextView class="android.widget.TextView" text="Cloud backup" resource-id="android:id/title"/>
    <android.widget.TextView class="android.widget.TextView" text='Say "hi" it&apos;s me' resource-id="android:id/summary"/>
    <android.widget.Switch class="android.widget.Switch" resource-id="com.miui.cloudbackup:id/backup_switch" checked="false"/>
    <android.widget.ImageButton class="android.widget.ImageButton" content-desc="Navigate up"/>
    <android.widget.TextView class="android.widget.TextView" text="Hidden row" visible="false"/>
  </android.widget.FrameLayout>
</app>
`;

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let dir: string;
let appFile: string;
const fakeCaps = () => ({
  platformName: 'Fake',
  'appium:automationName': 'Fake',
  'appium:deviceName': 'Fake',
  'appium:app': appFile,
});

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'phonehome-appium-'));
  appFile = join(dir, 'settings-app.xml');
  await writeFile(appFile, FAKE_APP);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Appium server with the fake driver', () => {
  let server: AppiumServer;
  before(async () => {
    server = await AppiumServer.start({ logFile: join(dir, 'run', 'appium.log'), drivers: ['Fake'] });
  });
  after(async () => {
    await server?.stop();
  });

  test('starts on 127.0.0.1, answers /status, logs to the run folder', async (t) => {
    t.diagnostic(`Appium server start: ${server.startMs} ms (port ${server.port})`);
    assert.equal(server.url.hostname, '127.0.0.1');
    assert.ok(server.pid && alive(server.pid));
    const status = (await (await fetch(new URL('status', server.url))).json()) as {
      value: { ready: boolean };
    };
    assert.equal(status.value.ready, true);
    const log = await readFile(join(dir, 'run', 'appium.log'), 'utf8');
    assert.match(log, /Appium REST http interface listener started on/);
  });

  test('session → find, tap, page source, screenshot → delete', async (t) => {
    const session = await AppiumSession.create({
      endpoint: server,
      capabilities: fakeCaps(),
      name: 'fake-1',
    });
    t.diagnostic(`fake-driver session start: ${session.createMs} ms`);
    try {
      const ui = AppiumUi.forSession(session, { dialect: 'xpath', deadlineMs: 5_000 });
      const step = await ui.tapByText('Cloud backup');
      assert.equal(step.detail, 'tapped text "Cloud backup"');
      assert.ok(step.screenshot && Buffer.from(step.screenshot.subarray(0, 8)).equals(PNG_MAGIC));
      // The fake driver counts clicks on the element it found: the tap reached the right one.
      const clicks = await session.run('clicks', {}, async (b) => {
        const [ref] = await b.findElements('xpath', '//*[@text="Cloud backup"]');
        return b.getElementAttribute(Object.values(ref as object)[0] as string, 'clicks');
      });
      assert.equal(clicks, '1');
      assert.match((await ui.tapById('com.miui.cloudbackup:id/backup_switch')).detail, /backup_switch/);
      assert.match((await ui.tapByDescription('Navigate up')).detail, /Navigate up/);
      // Quotes of both kinds in the text: the XPath literal must still match.
      assert.match((await ui.tap({ textContains: `"hi" it's` })).detail, /text containing/);
      assert.equal((await ui.scrollTo('Xiaomi Cloud')).detail, 'scrolled to text "Xiaomi Cloud"');
      const source = await ui.pageSource();
      assert.match(source, /<android\.widget\.Switch [^>]*backup_switch/);
      const shot = await ui.screenshot();
      assert.ok(Buffer.from(shot.subarray(0, 8)).equals(PNG_MAGIC));
      assert.ok(shot.length > 1000);
    } finally {
      await session.delete({ deadlineMs: 10_000 });
    }
    assert.equal(session.usable, false);
    await assert.rejects(
      session.run('after delete', {}, (b) => b.getPageSource()),
      (e: unknown) => e instanceof AppiumError && e.kind === 'session-lost',
    );
  });

  test('a missing element fails with no-such-element at its deadline, not later', async () => {
    const session = await AppiumSession.create({
      endpoint: server,
      capabilities: fakeCaps(),
      name: 'fake-2',
    });
    try {
      const ui = AppiumUi.forSession(session, { dialect: 'xpath', pollMs: 100 });
      const t0 = Date.now();
      await assert.rejects(ui.tapByText('No such row', { deadlineMs: 1_000 }), (e: unknown) => {
        assert.ok(e instanceof AppiumError);
        assert.equal(e.kind, 'no-such-element');
        assert.match(e.message, /text "No such row"/);
        return true;
      });
      const took = Date.now() - t0;
      // It waited for its deadline, and did not hang past it (the bound holds on a loaded machine).
      assert.ok(took >= 800 && took < 15_000, `took ${took} ms`);
      // An invisible element is found but cannot be tapped: a command failure, not a hang.
      await assert.rejects(ui.tapByText('Hidden row', { deadlineMs: 3_000 }), (e: unknown) => {
        return e instanceof AppiumError && e.kind === 'command-failed';
      });
      // Back and Home are not implemented by the fake driver: a clear failure each.
      await assert.rejects(ui.back({ deadlineMs: 3_000 }), (e: unknown) => e instanceof AppiumError);
      await assert.rejects(ui.home({ deadlineMs: 3_000 }), (e: unknown) => e instanceof AppiumError);
      // The fake driver has no checked attribute: setToggle says so instead of tapping blindly.
      await assert.rejects(
        ui.setToggle({ id: 'com.miui.cloudbackup:id/backup_switch' }, true, { deadlineMs: 3_000 }),
        (e: unknown) =>
          e instanceof AppiumError && e.kind === 'ui-failed' && /no checked state/.test(e.message),
      );
      // An aborted step rejects at once with 'aborted'.
      const ac = new AbortController();
      const pending = ui.tapByText('No such row', { deadlineMs: 10_000, signal: ac.signal });
      setTimeout(() => ac.abort(), 200);
      const t1 = Date.now();
      await assert.rejects(pending, (e: unknown) => e instanceof AppiumError && e.kind === 'aborted');
      assert.ok(Date.now() - t1 < 1_000);
    } finally {
      await session.delete({ deadlineMs: 10_000 });
    }
  });

  test('one session per phone, reused; a second phone gets its own on the same server', async () => {
    const pool = new PhoneSessions(server);
    const a1 = await pool.get({ serial: 'phone-a', capabilities: fakeCaps() });
    const a2 = await pool.get({ serial: 'phone-a', capabilities: fakeCaps() });
    const b = await pool.get({ serial: 'phone-b', capabilities: fakeCaps() });
    assert.equal(a1, a2);
    assert.notEqual(a1.id, b.id);
    assert.match(await AppiumUi.forSession(b, { dialect: 'xpath' }).pageSource(), /Xiaomi Cloud/);
    assert.deepEqual(await pool.closeAll({ deadlineMs: 10_000 }), []);
    assert.equal(a1.usable, false);
    const a3 = await pool.get({ serial: 'phone-a', capabilities: fakeCaps() });
    assert.notEqual(a3.id, a1.id);
    await pool.closeAll({ deadlineMs: 10_000 });
  });

  test('a session Appium ended (newCommandTimeout) is replaced on the next step', async () => {
    const pool = new PhoneSessions(server);
    const phone = { serial: 'phone-idle', capabilities: { ...fakeCaps(), 'appium:newCommandTimeout': 1 } };
    const ui = AppiumUi.forPhone(pool, phone, { dialect: 'xpath', deadlineMs: 10_000 });
    assert.match(await ui.pageSource(), /Xiaomi Cloud/);
    const first = await pool.get(phone);
    // Idle longer than newCommandTimeout: Appium deletes the session on its own.
    await new Promise((r) => setTimeout(r, 2_500));
    const step = await ui.tapByText('Xiaomi Cloud');
    assert.match(step.detail, /tapped/);
    const second = await pool.get(phone);
    assert.notEqual(second.id, first.id);
    assert.equal(first.usable, false);
    await pool.closeAll({ deadlineMs: 10_000 });
  });

  test('a remote Appium URL is used as it is', async () => {
    const remote = remoteAppium(server.url.href.replace(/\/$/, ''));
    const session = await AppiumSession.create({
      endpoint: remote,
      capabilities: fakeCaps(),
      name: 'remote',
    });
    try {
      assert.match(await AppiumUi.forSession(session, { dialect: 'xpath' }).pageSource(), /Cloud backup/);
    } finally {
      await session.delete({ deadlineMs: 10_000 });
    }
  });

  test('a driver that is not installed: session-failed names the fix', async () => {
    await assert.rejects(
      AppiumSession.create({
        endpoint: server,
        capabilities: { platformName: 'Android', 'appium:automationName': 'Espresso' },
        name: 'no-driver',
        createDeadlineMs: 20_000,
      }),
      (e: unknown) => e instanceof AppiumError && e.kind === 'not-installed' && /make setup/.test(e.message),
    );
  });
});

test('the Appium process dies mid-session: typed error within the deadline, then restart works', async (t) => {
  const server = await AppiumServer.start({ logFile: join(dir, 'crash', 'appium.log'), drivers: ['Fake'] });
  try {
    const pool = new PhoneSessions(server, { commandDeadlineMs: 5_000 });
    const session = await pool.get({ serial: 'phone-a', capabilities: fakeCaps() });
    const ui = AppiumUi.forSession(session, { dialect: 'xpath' });
    assert.match(await ui.pageSource(), /Xiaomi Cloud/);
    const pid = server.pid!;
    const port = server.port;
    process.kill(pid, 'SIGKILL');
    const t0 = Date.now();
    await assert.rejects(ui.tapByText('Cloud backup', { deadlineMs: 4_000 }), (e: unknown) => {
      assert.ok(e instanceof AppiumError, String(e));
      assert.equal(e.kind, 'crashed');
      assert.match(e.message, /^find text "Cloud backup" on phone-a: the Appium server/);
      assert.match(e.message, /killed by SIGKILL/);
      assert.match(e.message, new RegExp(`pid ${pid}`));
      return true;
    });
    const took = Date.now() - t0;
    t.diagnostic(`crash noticed after ${took} ms`);
    assert.ok(took < 15_000, `took ${took} ms`);
    assert.equal(server.running, false);

    await server.ensureRunning({ deadlineMs: 60_000 });
    t.diagnostic(`restart: ${server.startMs} ms`);
    const restartedPid = server.pid;
    await server.ensureRunning();
    assert.equal(server.pid, restartedPid);
    assert.equal(server.port, port);
    assert.notEqual(server.pid, pid);
    await assert.rejects(
      session.run('old session', {}, (b) => b.getPageSource()),
      (e: unknown) => e instanceof AppiumError && e.kind === 'session-lost',
    );
    // The phone's pooled Ui carries on with a new session on the new server.
    const phoneUi = AppiumUi.forPhone(
      pool,
      { serial: 'phone-a', capabilities: fakeCaps() },
      { dialect: 'xpath' },
    );
    assert.match(await phoneUi.pageSource(), /Cloud backup/);
    const again = await pool.get({ serial: 'phone-a', capabilities: fakeCaps() });
    assert.notEqual(again, session);
    await pool.closeAll({ deadlineMs: 10_000 });
  } finally {
    await server.stop();
  }
});

test('start/stop leaves no process behind', async () => {
  const server = await AppiumServer.start({ logFile: join(dir, 'stop', 'appium.log'), drivers: ['Fake'] });
  const pid = server.pid!;
  const session = await AppiumSession.create({ endpoint: server, capabilities: fakeCaps(), name: 'fake' });
  assert.ok(session.id);
  const spawned = await descendants(pid);
  // Stopping with a session still open: Appium ends it on SIGTERM.
  await server.stop({ deadlineMs: 10_000 });
  assert.equal(alive(pid), false);
  for (const p of spawned) assert.equal(alive(p), false, `process ${p} started by Appium is still running`);
  assert.equal(server.running, false);
  await server.stop(); // idempotent
  // Its session ended with it: a later call says so at once.
  await assert.rejects(
    session.run('after stop', { deadlineMs: 5_000 }, (b) => b.getPageSource()),
    (e: unknown) => e instanceof AppiumError && e.kind === 'session-lost' && /was stopped/.test(e.message),
  );
  await session.delete();
});

test('a server that does not end on SIGTERM is killed at the stop deadline', async (t) => {
  const server = await AppiumServer.start({ logFile: join(dir, 'hung', 'appium.log'), drivers: ['Fake'] });
  const pid = server.pid!;
  // A stopped (SIGSTOP) process cannot act on SIGTERM: only the SIGKILL escalation ends it.
  process.kill(pid, 'SIGSTOP');
  const t0 = Date.now();
  await server.stop({ deadlineMs: 500 });
  const took = Date.now() - t0;
  t.diagnostic(`hung server killed after ${took} ms`);
  assert.ok(took >= 450 && took < 15_000, `took ${took} ms`);
  assert.equal(alive(pid), false);
});

describe('clear start failures', () => {
  let squatter: Server;
  let port: number;
  before(async () => {
    squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    port = (squatter.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => squatter.close(() => r())));

  test('a port already taken', async () => {
    const t0 = Date.now();
    await assert.rejects(
      AppiumServer.start({ logFile: join(dir, 'port', 'appium.log'), port, drivers: ['Fake'] }),
      (e: unknown) => {
        assert.ok(e instanceof AppiumError);
        assert.equal(e.kind, 'port-in-use');
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
        return true;
      },
    );
    assert.ok(Date.now() - t0 < 2_000);
  });

  test('an APPIUM_HOME without the driver: "run make setup", nothing started', async () => {
    const home = join(dir, 'empty-home');
    await mkdir(home, { recursive: true });
    await assert.rejects(
      AppiumServer.start({ logFile: join(dir, 'home', 'appium.log'), appiumHome: home }),
      (e: unknown) => {
        assert.ok(e instanceof AppiumError);
        assert.equal(e.kind, 'not-installed');
        assert.match(e.message, /UiAutomator2 not installed/);
        assert.match(e.message, /make setup/);
        return true;
      },
    );
  });
});
