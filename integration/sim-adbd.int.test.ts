/**
 * The simulated phone's adbd, serving the real simulated phone (sim/phone/), against the
 * unmodified adb 29 server and client, and adbkit 3.3.9. Each test starts its own adb server on a
 * free port (never 5037), with a throwaway HOME for its keys and no emulator scan, and kills only
 * that server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { test } from 'node:test';
import adbkit from '@devicefarmer/adbkit';
import { type Adbd, startAdbd } from '../sim/adb/adbd.js';
import { createSimPhone, loadPhoneProfile, type SimPhoneInstance } from '../sim/phone/sim-phone.js';
import { freePort } from './free-port.js';
import { privateAdbEnv } from './phone-rig.js';

// adbkit is CommonJS: from ESM its default import is module.exports, which holds the Adb class as default.
const Adb = adbkit.default;

const PROFILE = 'devices/sim/pixel-7.yaml';

/** What one adb CLI run gave. */
interface AdbResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

interface AdbServer {
  port: number;
  /** Runs the adb CLI against this server. */
  adb(args: string[], timeoutMs?: number): Promise<AdbResult>;
  /** Starts a long-running adb CLI process against this server. */
  spawnAdb(args: string[]): ReturnType<typeof spawn>;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<AdbResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('adb', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
  });
}

/** Starts a private adb server, runs body, kills that server (and only it) whatever happens. */
async function withAdbServer(body: (server: AdbServer) => Promise<void>): Promise<void> {
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), 'phonehome-adbd-int-'));
  const env = privateAdbEnv(port, home);
  const server: AdbServer = {
    port,
    adb: (args, timeoutMs = 30_000) => run(['-P', String(port), ...args], env, timeoutMs),
    spawnAdb: (args) => spawn('adb', ['-P', String(port), ...args], { env, stdio: 'ignore' }),
  };
  try {
    const started = await server.adb(['start-server']);
    assert.equal(started.code, 0, started.stderr);
    await body(server);
  } finally {
    await server.adb(['kill-server'], 10_000);
    rmSync(home, { recursive: true, force: true });
  }
}

/** A simulated phone, its adbd, and the shell command lines that have finished on it. */
interface RunningPhone {
  phone: SimPhoneInstance;
  adbd: Adbd;
  /** Command lines whose phone.shell() returned, in order (observed, not altered). */
  finished: string[];
  dispose(): Promise<void>;
}

async function startPhone(opts: { unauthorized?: boolean; bootMs?: number } = {}): Promise<RunningPhone> {
  const dataDir = mkdtempSync(join(tmpdir(), 'phonehome-adbd-phone-'));
  const phone = await createSimPhone({
    profile: await loadPhoneProfile(PROFILE),
    dataDir,
    unauthorized: opts.unauthorized ?? false,
    bootMs: opts.bootMs ?? 500,
  });
  const finished: string[] = [];
  const shell = phone.shell.bind(phone);
  phone.shell = async (command, io) => {
    try {
      return await shell(command, io);
    } finally {
      finished.push(command);
    }
  };
  const adbd = await startAdbd({ phone });
  return {
    phone,
    adbd,
    finished,
    dispose: async () => {
      await adbd.close();
      await phone.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function connectPhone(server: AdbServer, adbd: Adbd): Promise<void> {
  const r = await server.adb(['connect', adbd.serial]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /connected to/);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const reEscape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('adb connect lists the phone as a device with its banner facts; an unauthorized one as unauthorized', async () => {
  await withAdbServer(async (server) => {
    const ok = await startPhone();
    const locked = await startPhone({ unauthorized: true });
    try {
      await connectPhone(server, ok.adbd);
      const refused = await server.adb(['connect', locked.adbd.serial]);
      assert.match(refused.stdout.toString() + refused.stderr, /failed to authenticate|unauthorized/);
      const list = (await server.adb(['devices', '-l'])).stdout.toString();
      const b = ok.phone.banner();
      assert.match(
        list,
        new RegExp(
          `^${reEscape(ok.adbd.serial)}\\s+device product:${reEscape(b.productName)} ` +
            `model:${reEscape(b.productModel)} device:${reEscape(b.productDevice)} transport_id:\\d+$`,
          'm',
        ),
      );
      assert.match(list, new RegExp(`^${reEscape(locked.adbd.serial)}\\s+unauthorized`, 'm'));
      assert.equal(list.trim().split('\n').length, 3, list);
      const denied = await server.adb(['-s', locked.adbd.serial, 'shell', 'echo', 'hi']);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /unauthorized/);
      const features = (await server.adb(['-s', ok.adbd.serial, 'features'])).stdout.toString();
      assert.deepEqual(features.trim().split('\n').sort(), [
        'cmd',
        'fixed_push_mkdir',
        'ls_v2',
        'shell_v2',
        'stat_v2',
      ]);
    } finally {
      await ok.dispose();
      await locked.dispose();
    }
  });
});

test('adb shell: output, exit status and a separate stderr through shell v2; 5 MB arrives whole over v2, exec and legacy shell', async () => {
  await withAdbServer(async (server) => {
    const { adbd, dispose } = await startPhone();
    const dir = mkdtempSync(join(tmpdir(), 'phonehome-adbd-files-'));
    try {
      await connectPhone(server, adbd);
      const s = ['-s', adbd.serial];
      const hi = await server.adb([...s, 'shell', 'echo', 'hi']);
      assert.equal(hi.code, 0);
      assert.equal(hi.stdout.toString(), 'hi\n');
      assert.equal((await server.adb([...s, 'shell', 'exit 3'])).code, 3);
      assert.equal((await server.adb([...s, 'shell', 'false'])).code, 1);
      const err = await server.adb([...s, 'shell', 'echo oops >&2; echo out']);
      assert.equal(err.code, 0);
      assert.equal(err.stdout.toString(), 'out\n');
      assert.equal(err.stderr, 'oops\n');
      assert.equal((await server.adb([...s, 'shell', 'nosuchcommand'])).code, 127);

      const big = randomBytes(5 * 1024 * 1024);
      writeFileSync(join(dir, 'big.bin'), big);
      assert.equal(
        (await server.adb([...s, 'push', join(dir, 'big.bin'), '/data/local/tmp/big.bin'])).code,
        0,
      );
      const v2 = await server.adb([...s, 'shell', 'cat', '/data/local/tmp/big.bin']);
      assert.equal(v2.stdout.length, big.length);
      assert.equal(sha256(v2.stdout), sha256(big));
      const raw = await server.adb([...s, 'exec-out', 'cat', '/data/local/tmp/big.bin']);
      assert.equal(raw.stdout.length, big.length);
      assert.equal(sha256(raw.stdout), sha256(big));
      // adbkit speaks the legacy `shell:` service.
      const device = Adb.createClient({ port: server.port }).getDevice(adbd.serial);
      const legacy = await Adb.util.readAll(await device.shell('cat /data/local/tmp/big.bin'));
      assert.equal(legacy.length, big.length);
      assert.equal(sha256(legacy), sha256(big));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dispose();
    }
  });
});

test('adb push and pull of a 10 MB random file are byte-exact; adb ls and the phone see it', async (t) => {
  await withAdbServer(async (server) => {
    const { adbd, dispose } = await startPhone();
    const dir = mkdtempSync(join(tmpdir(), 'phonehome-adbd-files-'));
    try {
      await connectPhone(server, adbd);
      const s = ['-s', adbd.serial];
      const content = randomBytes(10 * 1024 * 1024);
      writeFileSync(join(dir, 'up.bin'), content);
      let started = performance.now();
      const push = await server.adb([...s, 'push', join(dir, 'up.bin'), '/sdcard/Download/up.bin']);
      const pushMs = performance.now() - started;
      assert.equal(push.code, 0, push.stderr);
      started = performance.now();
      const pull = await server.adb([...s, 'pull', '/sdcard/Download/up.bin', join(dir, 'down.bin')]);
      const pullMs = performance.now() - started;
      assert.equal(pull.code, 0, pull.stderr);
      assert.equal(sha256(readFileSync(join(dir, 'down.bin'))), sha256(content));
      const mb = content.length / 1e6;
      t.diagnostic(
        `10 MB push ${(mb / (pushMs / 1000)).toFixed(0)} MB/s, pull ${(mb / (pullMs / 1000)).toFixed(0)} MB/s (adb CLI wall time)`,
      );

      const ls = (await server.adb([...s, 'ls', '/sdcard/Download'])).stdout.toString();
      assert.match(
        ls,
        new RegExp(
          `^000081[0-9a-f]{2} ${content.length.toString(16).padStart(8, '0')} [0-9a-f]{8} up\\.bin$`,
          'm',
        ),
      );
      const size = (await server.adb([...s, 'shell', 'stat', '-c', '%s', '/sdcard/Download/up.bin'])).stdout;
      assert.equal(size.toString().trim(), String(content.length));

      const missing = await server.adb([...s, 'pull', '/sdcard/nope.bin', join(dir, 'nope.bin')]);
      assert.notEqual(missing.code, 0);
      assert.match(
        missing.stdout.toString() + missing.stderr,
        /remote object '\/sdcard\/nope.bin'.*No such file or directory/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dispose();
    }
  });
});

/** Sends bytes on a fresh connection to the port, returns everything read until the far end closes. */
function roundTrip(port: number, payload: Buffer, closeAfter: boolean): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let total = 0;
    socket.on('data', (d: Buffer) => {
      got.push(d);
      total += d.length;
      if (closeAfter && total >= payload.length) socket.end();
    });
    socket.on('close', () => resolve(Buffer.concat(got)));
    socket.on('error', reject);
    socket.setTimeout(15_000, () => socket.destroy(new Error('timed out')));
    socket.write(payload);
  });
}

test('adb forward reaches a port the phone listens on, both ways; refused and closed ends reach the client; reverse refuses cleanly', async () => {
  await withAdbServer(async (server) => {
    const { adbd, phone, dispose } = await startPhone();
    phone.listen(6790, (stream: Duplex) => {
      stream.on('error', () => {});
      stream.once('data', (first: Buffer) => {
        // "bye" asks the phone side to close first.
        if (first.toString() === 'bye') stream.end('see you');
        else {
          stream.write(first);
          stream.pipe(stream);
        }
      });
    });
    try {
      await connectPhone(server, adbd);
      const s = ['-s', adbd.serial];
      const [local, refusedLocal] = [await freePort(), await freePort()];
      assert.equal((await server.adb([...s, 'forward', `tcp:${local}`, 'tcp:6790'])).code, 0);
      assert.equal((await server.adb([...s, 'forward', `tcp:${refusedLocal}`, 'tcp:6791'])).code, 0);
      const payload = randomBytes(3 * 1024 * 1024);
      const back = await roundTrip(local, payload, true);
      assert.equal(back.length, payload.length);
      assert.ok(back.equals(payload));
      // Ten connections at once, as an HTTP client's keep-alive pool opens them: each its own stream.
      const payloads = Array.from({ length: 10 }, (_, i) =>
        Buffer.concat([Buffer.from(`c${i}:`), randomBytes(200_000)]),
      );
      const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p, true)));
      for (const [i, got] of echoed.entries()) assert.ok(got.equals(payloads[i]!), `connection ${i}`);
      assert.equal((await roundTrip(local, Buffer.from('bye'), false)).toString(), 'see you');
      assert.equal((await roundTrip(refusedLocal, Buffer.from('hello?'), false)).length, 0);
      const list = (await server.adb([...s, 'forward', '--list'])).stdout.toString();
      assert.match(list, new RegExp(`tcp:${local} tcp:6790`));

      // The simulated phone cannot dial a reversed port: reverse says so cleanly, listing and removal work.
      const reverse = await server.adb([...s, 'reverse', 'tcp:7001', `tcp:${local}`]);
      assert.notEqual(reverse.code, 0);
      assert.match(reverse.stderr, /not supported/);
      const reverses = await server.adb([...s, 'reverse', '--list']);
      assert.equal(reverses.code, 0);
      assert.equal(reverses.stdout.toString().trim(), '');
      assert.equal((await server.adb([...s, 'reverse', '--remove-all'])).code, 0);
    } finally {
      await dispose();
    }
  });
});

test('adb reboot: the phone goes offline, then the adb server has it back as device by itself', async (t) => {
  await withAdbServer(async (server) => {
    const { adbd, dispose } = await startPhone({ bootMs: 3000 });
    try {
      await connectPhone(server, adbd);
      const started = performance.now();
      const reboot = await server.adb(['-s', adbd.serial, 'reboot']);
      assert.equal(reboot.code, 0, reboot.stderr);
      const seen: string[] = [];
      let back = false;
      while (performance.now() - started < 25_000) {
        const list = (await server.adb(['devices'])).stdout.toString();
        const state =
          /\t(\S+)/.exec(list.split('\n').find((l) => l.startsWith(adbd.serial)) ?? '')?.[1] ?? 'absent';
        if (seen.at(-1) !== state) seen.push(state);
        // The server may still list it as device for a moment after `adb reboot` returns.
        if (state === 'device' && seen.some((x) => x !== 'device')) {
          back = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const ms = Math.round(performance.now() - started);
      t.diagnostic(`states after reboot: ${seen.join(' → ')}; back after ${ms} ms (boot takes 3000 ms)`);
      assert.ok(back, `the phone did not come back: ${seen.join(',')}`);
      assert.ok(ms >= 3000, 'the phone was back before its boot ended');
      const boot = await server.adb(['-s', adbd.serial, 'shell', 'getprop', 'sys.boot_completed']);
      assert.equal(boot.stdout.toString(), '1\n');
    } finally {
      await dispose();
    }
  });
});

test('adbkit: listDevices, trackDevices, getProperties, shell, push/pull, waitBootComplete, openLogcat, screencap', async () => {
  await withAdbServer(async (server) => {
    const client = Adb.createClient({ port: server.port });
    const tracker = await client.trackDevices();
    const events: string[] = [];
    tracker.on('add', (d: { id: string; type: string }) => events.push(`add ${d.id} ${d.type}`));
    tracker.on('change', (d: { id: string; type: string }) => events.push(`change ${d.id} ${d.type}`));
    tracker.on('remove', (d: { id: string }) => events.push(`remove ${d.id}`));
    tracker.on('error', () => {});
    const { adbd, dispose } = await startPhone();
    const dir = mkdtempSync(join(tmpdir(), 'phonehome-adbd-files-'));
    let disposed = false;
    try {
      await connectPhone(server, adbd);
      const devices = await client.listDevices();
      assert.deepEqual(
        devices.map((d) => [d.id, d.type]),
        [[adbd.serial, 'device']],
      );
      const device = client.getDevice(adbd.serial);
      const s = ['-s', adbd.serial];

      const props = await device.getProperties();
      const sdk = (await server.adb([...s, 'shell', 'getprop', 'ro.build.version.sdk'])).stdout
        .toString()
        .trim();
      assert.match(sdk, /^\d+$/);
      assert.equal(props['ro.build.version.sdk'], sdk);
      assert.ok(Object.keys(props).length > 20);

      const hi = await Adb.util.readAll(await device.shell('echo hi'));
      assert.equal(hi.toString(), 'hi\n');

      const content = randomBytes(1024 * 1024 + 17);
      writeFileSync(join(dir, 'kit.bin'), content);
      const push = await device.push(join(dir, 'kit.bin'), '/sdcard/kit.bin', 0o640);
      await new Promise<void>((resolve, reject) => {
        push.on('end', resolve);
        push.on('error', reject);
      });
      const stat = await device.stat('/sdcard/kit.bin');
      assert.equal(stat.size, content.length);
      assert.ok(stat.isFile());
      const pulled = await Adb.util.readAll(await device.pull('/sdcard/kit.bin'));
      assert.ok(pulled.equals(content));
      const entries = await device.readdir('/sdcard');
      assert.ok(entries.some((e) => e.name === 'kit.bin'));

      assert.equal(await device.waitBootComplete(), true);

      // adbkit's d.ts types the reader as adbkit-logcat's module object; at run time it is its Reader.
      const logcat = (await device.openLogcat()) as unknown as EventEmitter & { end(): void };
      const entry = await new Promise<{ message: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no logcat entry in 10 s')), 10_000);
        logcat.once('entry', (e: { message: string }) => {
          clearTimeout(timer);
          resolve(e);
        });
        logcat.on('error', reject);
      });
      logcat.end();
      assert.equal(typeof entry.message, 'string');

      const png = await Adb.util.readAll(await device.screencap());
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(png.toString('latin1', 12, 16), 'IHDR');
      const size = (await server.adb([...s, 'shell', 'wm', 'size'])).stdout.toString();
      assert.match(size, new RegExp(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`));

      await waitFor(() => events.some((e) => e.startsWith(`add ${adbd.serial}`)), 10_000).catch((err) => {
        throw new Error(`no add event: ${events.join(', ')}`, { cause: err });
      });
      await dispose();
      disposed = true;
      // adb 29 keeps a dropped TCP phone listed as offline (retrying it) without telling trackers;
      // `adb disconnect` is what removes it, and then trackers hear of it.
      let after = '';
      await waitFor(async () => {
        after = (await server.adb(['devices'])).stdout.toString();
        return new RegExp(`${reEscape(adbd.serial)}\\toffline`).test(after);
      }, 10_000).catch((err) => {
        throw new Error(`not offline after the adbd closed: ${after}`, { cause: err });
      });
      assert.equal((await server.adb(['disconnect', adbd.serial])).code, 0);
      await waitFor(() => events.includes(`remove ${adbd.serial}`), 10_000).catch((err) => {
        throw new Error(`no remove event: ${events.join(', ')}`, { cause: err });
      });
    } finally {
      tracker.end();
      rmSync(dir, { recursive: true, force: true });
      if (!disposed) await dispose();
    }
  });
});

test('Appium-style load: concurrent adb shells, a streamed adb install, and a killed long-lived logcat ends on the phone', async () => {
  await withAdbServer(async (server) => {
    const { adbd, finished, dispose } = await startPhone();
    try {
      await connectPhone(server, adbd);
      const s = ['-s', adbd.serial];
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) => server.adb([...s, 'shell', 'echo', `n${i}`])),
      );
      assert.deepEqual(
        results.map((r) => r.stdout.toString()),
        results.map((_, i) => `n${i}\n`),
      );

      const apk = 'node_modules/appium-uiautomator2-server/apks/appium-uiautomator2-server-v10.6.6.apk';
      const install = await server.adb([...s, 'install', '-r', apk], 60_000);
      assert.equal(install.code, 0, install.stderr);
      assert.match(install.stdout.toString(), /Performing Streamed Install\s+Success/);
      const packages = (await server.adb([...s, 'shell', 'pm', 'list', 'packages'])).stdout.toString();
      assert.match(packages, /^package:io\.appium\.uiautomator2\.server$/m);

      const longLived = server.spawnAdb([...s, 'logcat']);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const isLogcat = (c: string) => /\blogcat\b/.test(c);
      assert.equal(finished.filter(isLogcat).length, 0, 'logcat runs while its client is there');
      longLived.kill('SIGTERM');
      await waitFor(() => finished.some(isLogcat), 10_000);
    } finally {
      await dispose();
    }
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
