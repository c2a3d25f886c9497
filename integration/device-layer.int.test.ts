/**
 * The device layer against simulated phones through the real adb server (Debian adb) on a private
 * port: discovery, facts, profile matching, unauthorized phones, deadlines, a phone lost mid-command,
 * and a reboot.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AdbClient } from '../harness/device/adb.js';
import { ensureAdbServer, killAdbServer } from '../harness/device/adb-server.js';
import { discoverDevices } from '../harness/device/discovery.js';
import { readFacts } from '../harness/device/facts.js';
import { prepare } from '../harness/device/prepare.js';
import { loadProfiles, matchProfile } from '../harness/device/profiles.js';
import { AdbCommandError, DeviceLostError } from '../harness/errors.js';
import { type Adbd, startAdbd } from '../sim/adb/adbd.js';
import { createSimPhone, loadPhoneProfile, type SimPhoneInstance } from '../sim/phone/sim-phone.js';
import { freePort } from './free-port.js';

interface Phone {
  phone: SimPhoneInstance;
  adbd: Adbd;
}

describe('device layer through the real adb server', () => {
  let server: { host: string; port: number; bin: string };
  let client: AdbClient;
  let dir: string;
  const phones: Phone[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);

  async function startPhone(profile: string, opts: { unauthorized?: boolean } = {}): Promise<Phone> {
    const p = await loadPhoneProfile(`devices/sim/${profile}.yaml`);
    const phone = await createSimPhone({
      profile: p,
      dataDir: join(dir, `${profile}-${phones.length}`),
      ...(opts.unauthorized ? { unauthorized: true } : {}),
    });
    const adbd = await startAdbd({ phone });
    const entry = { phone, adbd };
    phones.push(entry);
    // adb connect reports "failed to authenticate" for a phone that stays unauthorized.
    await client.connect('127.0.0.1', adbd.port, { deadlineMs: 15_000 }).catch((e) => {
      if (!opts.unauthorized) throw e;
    });
    return entry;
  }

  async function waitState(serial: string, state: string, ms = 15_000): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const list = await client.listDevices();
      if (list.some((d) => d.serial === serial && d.state === state)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.fail(`${serial} never became ${state}: ${JSON.stringify(await client.listDevices())}`);
  }

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    dir = await mkdtemp(join(tmpdir(), 'phonehome-device-'));
    server = { host: '127.0.0.1', port: await freePort(), bin: 'adb' };
    client = await ensureAdbServer(server);
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const p of phones) {
      await p.adbd.close();
      await p.phone.close();
    }
    await killAdbServer(server);
    await rm(dir, { recursive: true, force: true });
  });

  it('lists a simulated Xiaomi and a simulated Pixel with their facts and matched profiles', async () => {
    const xiaomi = await startPhone('xiaomi-redmi-note-13');
    const pixel = await startPhone('pixel-7');
    await waitState(xiaomi.adbd.serial, 'device');
    await waitState(pixel.adbd.serial, 'device');
    const found = await discoverDevices(client);
    for (const p of [xiaomi, pixel]) {
      const d = found.find((x) => x.serial === p.adbd.serial);
      assert.ok(d?.usable, `${p.adbd.serial} usable`);
    }
    const profiles = await loadProfiles('devices');
    const xf = await readFacts(client.device(xiaomi.adbd.serial));
    assert.equal(xf.manufacturer, 'Xiaomi');
    assert.ok(['MIUI', 'HyperOS'].includes(xf.rom), `rom ${xf.rom}`);
    assert.ok(xf.sdk >= 26);
    assert.equal(matchProfile(profiles, xf.properties).profile?.name, 'xiaomi-miui-global');
    const pf = await readFacts(client.device(pixel.adbd.serial));
    assert.equal(pf.manufacturer, 'Google');
    assert.equal(pf.rom, 'Pixel stock');
    assert.equal(matchProfile(profiles, pf.properties).profile?.name, 'pixel-stock');
    assert.equal(pf.rooted, false);
    assert.ok(typeof pf.batteryLevel === 'number');
  });

  it('shows an unauthorized phone as unauthorized, with advice', async () => {
    const p = await startPhone('pixel-7', { unauthorized: true });
    await waitState(p.adbd.serial, 'unauthorized');
    const d = (await discoverDevices(client)).find((x) => x.serial === p.adbd.serial);
    assert.equal(d?.usable, false);
    assert.match(d?.advice ?? '', /USB debugging/);
  });

  it('runs shell commands with their exit status', async () => {
    const p = phones[0]!;
    const dev = client.device(p.adbd.serial);
    const r = await dev.shell('getprop ro.product.manufacturer');
    assert.equal(r.exitCode, 0);
    assert.equal(r.output.toString().trim(), 'Xiaomi');
    const f = await dev.shell('exit 3');
    assert.equal(f.exitCode, 3);
    await assert.rejects(
      dev.sh('no-such-command'),
      (e) => e instanceof AdbCommandError && e.exitCode === 127,
    );
  });

  it('abandons a command past its deadline', async () => {
    const dev = client.device(phones[0]!.adbd.serial);
    const t0 = Date.now();
    await assert.rejects(dev.shell('sleep 30', { deadlineMs: 1_000 }), AdbCommandError);
    assert.ok(Date.now() - t0 < 4_000, `took ${Date.now() - t0} ms`);
  });

  it('gives DeviceLostError within the deadline when the phone goes away mid-command', async () => {
    const p = phones[1]!;
    const dev = client.device(p.adbd.serial);
    const t0 = Date.now();
    const pending = dev.shell('sleep 30', { deadlineMs: 8_000 });
    setTimeout(() => {
      p.adbd.setOffline(true);
      p.adbd.dropTransports();
    }, 500);
    await assert.rejects(pending, DeviceLostError);
    assert.ok(Date.now() - t0 < 8_500, `took ${Date.now() - t0} ms`);
    await assert.rejects(dev.shell('echo hi', { deadlineMs: 3_000 }), DeviceLostError);
    p.adbd.setOffline(false);
    await client.connect('127.0.0.1', p.adbd.port, { deadlineMs: 15_000 });
    await waitState(p.adbd.serial, 'device');
    assert.equal(unhandled.length, 0, `unhandled rejections: ${unhandled.map(String).join('; ')}`);
  });

  it('waits for a lost phone to come back, asking the server to reconnect that phone alone', async () => {
    const p = phones[1]!;
    const dev = client.device(p.adbd.serial);
    p.adbd.setOffline(true);
    p.adbd.dropTransports();
    const away = await dev.waitForReturn({ deadlineMs: 1_500 });
    assert.equal(away.back, false, JSON.stringify(away));
    assert.match(away.detail, /^(listed as \w+|not listed by the adb server)$/);
    setTimeout(() => p.adbd.setOffline(false), 1_000);
    const back = await dev.waitForReturn({ deadlineMs: 30_000 });
    assert.equal(back.back, true, JSON.stringify(back));
    assert.match(back.detail, /^back after \d+\.\d s/);
    assert.equal(await dev.sh('echo hi'), 'hi\n');
    // The other phone never left.
    assert.equal(await client.device(phones[0]!.adbd.serial).sh('echo still'), 'still\n');
    await assert.rejects(
      client.reconnect('no-such-phone'),
      (e) => e instanceof AdbCommandError && /not found/.test(e.message),
    );
  });

  it('reboots the phone and waits for boot completed', async () => {
    const p = phones[0]!;
    const r = await prepare(client.device(p.adbd.serial), { kind: 'reboot' }, { deadlineMs: 60_000 });
    assert.equal(r.ok, true, r.detail);
    const again = await client.device(p.adbd.serial).shell('getprop sys.boot_completed');
    assert.equal(again.output.toString().trim(), '1');
  });

  it('prepares the phone: wakes it, keeps it awake, flips a setting', async () => {
    const dev = client.device(phones[0]!.adbd.serial);
    await dev.sh('input keyevent 26');
    const wake = await prepare(dev, { kind: 'wake-unlock' });
    assert.equal(wake.ok, true, wake.detail);
    const stay = await prepare(dev, { kind: 'stay-awake' });
    assert.equal(stay.ok, true);
    const set = await prepare(dev, {
      kind: 'setting',
      namespace: 'secure',
      key: 'phonehome_test',
      value: "it's set",
    });
    assert.equal(set.ok, true, set.detail);
    const gate = await prepare(dev, { kind: 'battery-gate', minLevel: 5, maxTemperature: 45 });
    assert.equal(gate.ok, true, gate.detail);
  });

  it('a phone already set up is not fit for a scenario that starts in the setup wizard; after a reset it is', async () => {
    const p = phones[0]!;
    const dev = client.device(p.adbd.serial);
    const set = await prepare(dev, { kind: 'setup-wizard' });
    assert.equal(set.ok, false);
    assert.match(set.detail, /^the phone is already set up \(device_provisioned 1\): .*phone\.reset hook/);
    // The simulated phone's reset reboots it: adb goes, the phone comes back in its wizard.
    p.phone.state.factoryReset('00112233445566ff');
    p.adbd.reboot('recovery');
    await dev.waitBootCompleted({ deadlineMs: 60_000 });
    const fresh = await prepare(dev, { kind: 'setup-wizard' });
    assert.equal(fresh.ok, true, fresh.detail);
    assert.equal(fresh.detail, 'in its setup wizard (device_provisioned 0, user_setup_complete 0)');
    assert.equal(await dev.sh('settings get secure android_id'), '00112233445566ff\n');
    // Set up again over adb, as the profiles' setup.finish does without a UI.
    await dev.sh('settings put global device_provisioned 1');
    assert.equal((await prepare(dev, { kind: 'setup-wizard' })).ok, false);
    assert.equal(p.phone.state.events.setupCompleted, 1);
  });
});
