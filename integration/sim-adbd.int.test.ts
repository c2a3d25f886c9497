/**
 * The simulated phone's adbd against the unmodified adb 29 server and client, and adbkit.
 * Each test starts its own adb server on a free port (never 5037), with a throwaway HOME for its
 * keys and no emulator scan, and kills only that server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import adbkit from '@devicefarmer/adbkit';
import { type Adbd, startAdbd } from '../harness/sim/adb/adbd.js';
import { createTestPhone, type TestPhoneOptions } from '../harness/sim/adb/test-phone.js';
import type { SimPhone } from '../harness/sim/contracts.js';

// adbkit is CommonJS: from ESM its default import is module.exports, which holds the Adb class as default.
const Adb = adbkit.default;

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
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
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
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HOME: home,
    ANDROID_ADB_SERVER_PORT: String(port),
    // No emulator scan: the server must see only the phones a test connects.
    ADB_LOCAL_TRANSPORT_MAX_PORT: '5554',
    ADB_EMU: '0',
  };
  const server: AdbServer = {
    port,
    adb: (args, timeoutMs = 30_000) => run(['-P', String(port), ...args], env, timeoutMs),
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

/** A phone and its adbd for one test; cleaned up by the returned dispose. */
async function startPhone(
  opts: TestPhoneOptions = {},
): Promise<{ phone: SimPhone; adbd: Adbd; dispose: () => Promise<void> }> {
  const phone = createTestPhone(opts);
  const adbd = await startAdbd({ phone });
  return {
    phone,
    adbd,
    dispose: async () => {
      await adbd.close();
      phone.dispose();
    },
  };
}

async function connectPhone(server: AdbServer, adbd: Adbd): Promise<void> {
  const r = await server.adb(['connect', adbd.serial]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /connected to/);
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** The pattern the test phone's `bytes N` prints: byte i is i mod 251. */
function pattern(n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = i % 251;
  return out;
}

test('adb connect lists the phone as a device with the banner facts; an unauthorized one as unauthorized', async () => {
  await withAdbServer(async (server) => {
    const ok = await startPhone();
    const locked = await startPhone({ unauthorized: true });
    try {
      await connectPhone(server, ok.adbd);
      const refused = await server.adb(['connect', locked.adbd.serial]);
      assert.match(refused.stdout.toString() + refused.stderr, /failed to authenticate|unauthorized/);
      const list = (await server.adb(['devices', '-l'])).stdout.toString();
      const line = list.split('\n').find((l) => l.startsWith(`${ok.adbd.serial} `));
      assert.match(line ?? '', /\sdevice product:simtest model:SimTest device:simtestdev transport_id:\d+/);
      assert.match(list, new RegExp(`${locked.adbd.serial.replace(/\./g, '\\.')}\\s+unauthorized`));
      assert.equal(list.split('\n').filter((l) => /\t|\s(device|unauthorized|offline)\b/.test(l)).length, 2);
      const denied = await server.adb(['-s', locked.adbd.serial, 'shell', 'echo', 'hi']);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /unauthorized/);
    } finally {
      await ok.dispose();
      await locked.dispose();
    }
  });
});

test('adb shell: output, exit status and a separate stderr through shell v2; 5 MB complete over v2 and exec', async () => {
  await withAdbServer(async (server) => {
    const { adbd, dispose } = await startPhone();
    try {
      await connectPhone(server, adbd);
      const s = ['-s', adbd.serial];
      const hi = await server.adb([...s, 'shell', 'echo', 'hi']);
      assert.equal(hi.code, 0);
      assert.equal(hi.stdout.toString(), 'hi\n');
      assert.equal((await server.adb([...s, 'shell', 'exit 3'])).code, 3);
      const err = await server.adb([...s, 'shell', 'err', 'oops']);
      assert.equal(err.code, 1);
      assert.equal(err.stdout.toString(), '');
      assert.equal(err.stderr, 'oops\n');
      assert.equal((await server.adb([...s, 'shell', 'nosuchcmd'])).code, 127);

      const size = 5 * 1024 * 1024;
      const expected = sha256(pattern(size));
      const v2 = await server.adb([...s, 'shell', 'bytes', String(size)]);
      assert.equal(v2.stdout.length, size);
      assert.equal(sha256(v2.stdout), expected);
      const raw = await server.adb([...s, 'exec-out', 'bytes', String(size)]);
      assert.equal(raw.stdout.length, size);
      assert.equal(sha256(raw.stdout), expected);
    } finally {
      await dispose();
    }
  });
});

test('adb push and pull of a 10 MB random file are byte-exact; adb ls lists it through sync', async (t) => {
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

test('adb forward reaches a server the phone listens on, both ways; refused and closed ends reach the client', async () => {
  const echo: Server = createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (first: Buffer) => {
      // "bye" asks the server to close its side first.
      if (first.toString() === 'bye') socket.end('see you');
      else {
        socket.write(first);
        socket.pipe(socket);
      }
    });
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as { port: number }).port;
  await withAdbServer(async (server) => {
    const { adbd, dispose } = await startPhone({ tcpPorts: { 6790: echoPort } });
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
      assert.equal((await roundTrip(local, Buffer.from('bye'), false)).toString(), 'see you');
      assert.equal((await roundTrip(refusedLocal, Buffer.from('hello?'), false)).length, 0);
      const list = (await server.adb([...s, 'forward', '--list'])).stdout.toString();
      assert.match(list, new RegExp(`tcp:${local} tcp:6790`));
    } finally {
      await dispose();
    }
  });
  echo.close();
});

test('adb reboot: the phone drops off the list or goes offline, then the adb server has it back as device', async (t) => {
  await withAdbServer(async (server) => {
    const { adbd, phone, dispose } = await startPhone({ rebootMs: 3000 });
    try {
      await connectPhone(server, adbd);
      const started = performance.now();
      const reboot = await server.adb(['-s', adbd.serial, 'reboot']);
      assert.equal(reboot.code, 0, reboot.stderr);
      assert.deepEqual((phone as ReturnType<typeof createTestPhone>).reboots, ['']);
      const seen: string[] = [];
      let back = false;
      while (performance.now() - started < 25_000) {
        const list = (await server.adb(['devices'])).stdout.toString();
        const state =
          /\t(\S+)/.exec(list.split('\n').find((l) => l.startsWith(adbd.serial)) ?? '')?.[1] ?? 'absent';
        if (seen.at(-1) !== state) seen.push(state);
        if (state === 'device' && seen.length > 1) {
          back = true;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      t.diagnostic(
        `states after reboot: ${seen.join(' → ')}; back after ${Math.round(performance.now() - started)} ms`,
      );
      assert.ok(seen[0] !== 'device', `the phone stayed listed as device: ${seen.join(',')}`);
      assert.ok(back, `the phone did not come back: ${seen.join(',')}`);
      const hi = await server.adb(['-s', adbd.serial, 'shell', 'echo', 'back']);
      assert.equal(hi.stdout.toString(), 'back\n');
    } finally {
      await dispose();
    }
  });
});

test('adbkit: listDevices, trackDevices add/remove, shell, push/pull, stat, waitBootComplete, 5 MB over legacy shell', async () => {
  await withAdbServer(async (server) => {
    const client = Adb.createClient({ port: server.port });
    const tracker = await client.trackDevices();
    const events: string[] = [];
    tracker.on('add', (d: { id: string; type: string }) => events.push(`add ${d.id} ${d.type}`));
    tracker.on('remove', (d: { id: string }) => events.push(`remove ${d.id}`));
    tracker.on('change', (d: { id: string; type: string }) => events.push(`change ${d.id} ${d.type}`));
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
      const hi = await Adb.util.readAll(await device.shell('echo hi'));
      assert.equal(hi.toString(), 'hi\n');

      const size = 5 * 1024 * 1024;
      const big = await Adb.util.readAll(await device.shell(`bytes ${size}`));
      assert.equal(big.length, size);
      assert.equal(sha256(big), sha256(pattern(size)));

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
      const pull = await device.pull('/sdcard/kit.bin');
      const pulled = await Adb.util.readAll(pull);
      assert.ok(pulled.equals(content));
      const entries = await device.readdir('/sdcard');
      assert.ok(entries.some((e) => e.name === 'kit.bin'));

      assert.equal(await device.waitBootComplete(), true);

      await waitFor(() => events.some((e) => e.startsWith(`add ${adbd.serial}`)), 10_000).catch((err) => {
        throw new Error(`no add event: ${events.join(', ')}`, { cause: err });
      });
      await dispose();
      disposed = true;
      // adb 29 keeps a dropped TCP phone listed as offline (retrying it) without telling trackers;
      // `adb disconnect` is what removes it, and then trackers hear of it.
      const after = (await server.adb(['devices'])).stdout.toString();
      assert.match(after, new RegExp(`${adbd.serial.replace(/\./g, '\\.')}\toffline`));
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

async function waitFor(condition: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('Appium-style load: concurrent adb shells, a streamed adb install, and a killed long-lived shell aborts its command', async () => {
  await withAdbServer(async (server) => {
    const { adbd, phone, dispose } = await startPhone();
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

      const longLived = spawn('adb', ['-P', String(server.port), ...s, 'shell', 'wait'], {
        stdio: 'ignore',
        env: { ...process.env, ANDROID_ADB_SERVER_PORT: String(server.port) },
      });
      const aborted = (phone as ReturnType<typeof createTestPhone>).aborted;
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(aborted.length, 0, 'the command runs while the client is there');
      longLived.kill('SIGTERM');
      await waitFor(() => aborted.includes('wait'), 10_000);
    } finally {
      await dispose();
    }
  });
});
