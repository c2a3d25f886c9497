import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { run } from '../sim/net/lab.js';
import { readPcap } from '../sim/net/pcap-file.js';
import { loadTrafficProfile } from '../sim/net/traffic-schema.js';
import { isListening } from '../sim/sim-adb-server.js';
import { isAlive, readSimState, type SimState } from '../sim/sim-state.js';
import { gate } from '../testing/gate.js';
import { captureOn, namesIn, sleep } from './sim-lab-fixture.js';

const isRoot = process.getuid?.() === 0;
const fromSources = import.meta.url.endsWith('.ts');

/** Runs `phonehome ARGS` through the CLI runner with only the sim command registered. */
function phonehome(
  args: string[],
  opts: { uid?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const url = (p: string) => new URL(p, import.meta.url).href;
  const script =
    `import { runCli } from '${url('../harness/cli/run-cli.js')}';` +
    `import * as sim from '${url('../harness/cli/sim-command.js')}';` +
    'process.exitCode = await runCli(process.argv, [sim]);';
  const nodeArgs = [
    ...(fromSources ? ['--import', import.meta.resolve('tsx')] : []),
    '--input-type=module',
    '-e',
    script,
    'phonehome',
    ...args,
  ];
  const [cmd, cmdArgs] =
    opts.uid === undefined
      ? [process.execPath, nodeArgs]
      : [
          'setpriv',
          [`--reuid=${opts.uid}`, `--regid=${opts.uid}`, '--clear-groups', process.execPath, ...nodeArgs],
        ];
  return new Promise((resolve) => {
    const p = spawn(cmd, cmdArgs, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, HOME: tmpdir() },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Everything of the lab still present on the machine. */
async function leftovers(state: SimState): Promise<string[]> {
  const left: string[] = [];
  const ns = await run('ip', ['netns', 'list']);
  for (const n of state.namespaces)
    if (ns.split('\n').some((l) => l.split(' ')[0] === n)) left.push(`namespace ${n}`);
  const links = await run('ip', ['-o', 'link', 'show']);
  if (links.includes(state.labId)) left.push(`links named ${state.labId}*`);
  for (const p of [...state.processes, ...(state.daemon ? [state.daemon] : [])])
    if (isAlive(p)) left.push(`process ${p.pid} ${p.what}`);
  if (state.adbServerStartedByUs && (await isListening(state.adbServerPort))) left.push('adb server');
  return left;
}

async function withStateDir(fn: (dir: string, adbPort: number) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'phl-cli-'));
  // Below the ephemeral range, so no simulated adbd (port 0) can hold it.
  const adbPort = 15000 + Math.floor(Math.random() * 15000);
  try {
    await fn(dir, adbPort);
  } finally {
    const state = readSimState(dir);
    if (state) await phonehome(['sim', 'down', '--state-dir', dir]);
    await run('adb', ['-P', String(adbPort), 'kill-server']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

test('without root, sim up says so in one line and exits 2', async () => {
  const r = await phonehome(['sim', 'up', '--state-dir', join(tmpdir(), 'phl-never')], { uid: 65534 });
  assert.equal(r.stderr, 'phonehome sim: needs root to create network namespaces\n');
  assert.equal(r.code, 2);
  assert.equal(existsSync(join(tmpdir(), 'phl-never')), false);
});

const group = gate(!isRoot && 'needs root');

group.describe('phonehome sim', () => {
  group.test(
    'up brings phones onto the adb server with traffic on their interfaces; down removes everything',
    async () => {
      await withStateDir(async (dir, adbPort) => {
        const up = await phonehome([
          'sim',
          'up',
          '--profile',
          'xiaomi-redmi-note-13',
          'pixel-7',
          '--speed',
          '600',
          '--adb-port',
          String(adbPort),
          '--state-dir',
          dir,
        ]);
        assert.equal(up.code, 0, up.stderr);
        const state = readSimState(dir)!;
        assert.equal(state.status, 'ready');
        assert.equal(state.phones.length, 2);
        for (const p of state.phones) {
          assert.match(
            up.stdout,
            new RegExp(
              `${p.serial}\\s+${p.model}\\s+${p.ip.replaceAll('.', '\\.')}\\s+${p.mac}\\s+${p.captureInterface}`,
            ),
          );
          assert.ok(p.adbdPort < 5554 || p.adbdPort > 5585);
        }
        const devices = await run('adb', ['-P', String(adbPort), 'devices']);
        for (const p of state.phones) assert.match(devices, new RegExp(`^${p.adbSerial}\\s+device$`, 'm'));

        const status = await phonehome(['sim', 'status', '--state-dir', dir]);
        assert.equal(status.code, 0, status.stdout + status.stderr);
        assert.match(status.stdout, /: up$/m);

        // The phones' own traffic, on each phone's capture interface: at speed 600 the longest idle period
        // (30 min) takes 3 s, so a 4.5 s capture holds every idle host.
        const caps = await Promise.all(
          state.phones.map((p, i) => captureOn(p.captureInterface, join(dir, `c${i}.pcap`))),
        );
        await sleep(4500);
        for (const c of caps) await c.stop();
        const xiaomi = await namesIn(caps[0]!.file);
        const pixel = await namesIn(caps[1]!.file);
        assert.ok(xiaomi.dns.has('sgp-api.xmpush.global.xiaomi.com'), [...xiaomi.dns].join(' '));
        assert.ok(pixel.dns.has('android.clients.google.com'), [...pixel.dns].join(' '));
        assert.ok(
          ![...pixel.dns].some((n) => n.includes('xiaomi')),
          'the Pixel capture holds no Xiaomi traffic',
        );
        // Each socket's local port is logged with the package that opened it.
        const log = (await readFile(join(dir, 'phones', '0.connections.jsonl'), 'utf8')).trim().split('\n');
        const conns = log.map((l) => JSON.parse(l) as { localPort: number; package: string; host: string });
        assert.ok(
          conns.some((c) => c.package === 'com.xiaomi.xmsf' && c.host === 'sgp-api.xmpush.global.xiaomi.com'),
        );
        assert.ok(conns.every((c) => c.localPort > 0));

        // A restarted adb server gets the phones back, as it would get USB phones back.
        // The lab's watcher (every 2 s) never starts a server itself: one it started would race this
        // start-server for the port.
        await run('adb', ['-P', String(adbPort), 'kill-server']);
        await sleep(2500);
        assert.equal(await isListening(adbPort), false, 'no adb server started behind the lab engineer');
        await run('adb', ['-P', String(adbPort), 'start-server']);
        let listed = '';
        for (let i = 0; i < 50 && state.phones.some((p) => !listed.includes(`${p.adbSerial}\tdevice`)); i++) {
          await sleep(200);
          listed = await run('adb', ['-P', String(adbPort), 'devices']);
        }
        for (const p of state.phones) assert.match(listed, new RegExp(`^${p.adbSerial}\\s+device$`, 'm'));

        const down = await phonehome(['sim', 'down', '--state-dir', dir]);
        assert.equal(down.code, 0, down.stderr);
        assert.deepEqual(await leftovers(state), []);
        const after = await phonehome(['sim', 'status', '--state-dir', dir]);
        assert.equal(after.code, 1);
      });
    },
  );

  group.test(
    'the traffic follows the phone: analytics consent set over adb starts and stops the analytics hosts',
    async () => {
      await withStateDir(async (dir, adbPort) => {
        const up = await phonehome([
          'sim',
          'up',
          '--speed',
          '600',
          '--adb-port',
          String(adbPort),
          '--state-dir',
          dir,
        ]);
        assert.equal(up.code, 0, up.stderr);
        const phone = readSimState(dir)!.phones[0]!;
        const adbShell = (cmd: string) =>
          run('adb', ['-P', String(adbPort), '-s', phone.adbSerial, 'shell', cmd]);
        const window = async (name: string) => {
          const c = await captureOn(phone.captureInterface, join(dir, `${name}.pcap`));
          await sleep(4500);
          await c.stop();
          return namesIn(c.file);
        };
        await adbShell('settings put secure upload_log_pref 1');
        const on = await window('consent-on');
        assert.ok(on.sni.has('tracking.intl.miui.com'), [...on.sni].join(' '));
        assert.ok(on.sni.has('data.mistat.intl.xiaomi.com'));
        await adbShell('settings put secure upload_log_pref 0');
        await sleep(300);
        const off = await window('consent-off');
        assert.ok(!off.dns.has('tracking.intl.miui.com'), [...off.dns].join(' '));
        assert.ok(!off.dns.has('data.mistat.intl.xiaomi.com'));
        assert.ok(off.sni.has('api.ad.intl.xiaomi.com'), 'the rest goes on');

        const ping = await adbShell('ping -c 1 resolver.msg.global.xiaomi.net');
        assert.match(ping, /^PING resolver\.msg\.global\.xiaomi\.net \(10\.213\.\d+\.\d+\)/m);
        assert.match(ping, /1 packets transmitted, 1 received/);
      });
    },
  );

  group.test(
    'PCAPdroid started over adb writes a dump whose trailers name the apps that made each connection',
    async () => {
      await withStateDir(async (dir, adbPort) => {
        const up = await phonehome([
          'sim',
          'up',
          '--speed',
          '600',
          '--adb-port',
          String(adbPort),
          '--state-dir',
          dir,
        ]);
        assert.equal(up.code, 0, up.stderr);
        const phone = readSimState(dir)!.phones[0]!;
        const device = parseYaml(await readFile('devices/sim/xiaomi-redmi-note-13.yaml', 'utf8')) as {
          pcapdroid: { apiKey: string };
          packages: { name: string; uid: number }[];
        };
        const uids = new Map(device.packages.map((p) => [p.name, p.uid]));
        const adbArgs = ['-P', String(adbPort), '-s', phone.adbSerial];
        const ctrl = (action: string, ...extras: string[]) =>
          run('adb', [
            ...adbArgs,
            'shell',
            'am',
            'start',
            '-n',
            'com.emanuelef.remote_capture/.activities.CaptureCtrl',
            '-e',
            'action',
            action,
            '-e',
            'api_key',
            device.pcapdroid.apiKey,
            ...extras,
          ]);
        await ctrl(
          'start',
          '-e',
          'pcap_dump_mode',
          'pcap_file',
          '-e',
          'pcap_name',
          'phl.pcap',
          '-e',
          'dump_extensions',
          'true',
        );
        await sleep(3500);
        await ctrl('stop');
        const local = join(dir, 'pulled.pcap');
        await run('adb', [...adbArgs, 'pull', '/sdcard/Download/PCAPdroid/phl.pcap', local]);
        const pcap = readPcap(await readFile(local));
        assert.equal(pcap.linkType, 1);
        const traffic = await loadTrafficProfile('devices/sim/xiaomi-redmi-note-13.traffic.yaml');
        const hellos = await run('tshark', [
          '-r',
          local,
          '-Y',
          'tls.handshake.type == 1',
          '-T',
          'fields',
          '-e',
          'frame.number',
          '-e',
          'tls.handshake.extensions_server_name',
        ]);
        let checked = 0;
        for (const line of hellos.trim().split('\n')) {
          const [num, sni] = line.split('\t');
          const pkg = traffic.behaviours.find((b) => b.hosts.includes(sni!))!.package;
          const rec = pcap.records[Number(num) - 1]!;
          const trailer = rec.data.subarray(rec.data.length - 32);
          assert.equal(trailer.readInt32BE(4), uids.get(pkg), `${sni} by ${pkg}`);
          checked++;
        }
        assert.ok(checked >= 5, `${checked} ClientHellos`);
      });
    },
  );

  group.test(
    'two labs started at once coexist; down cleans up after the supervisor was killed with SIGKILL',
    async () => {
      await withStateDir(async (dirA, portA) => {
        await withStateDir(async (dirB, portB) => {
          // Started at the same moment: the lab lock keeps their subnets apart.
          const [upA, upB] = await Promise.all(
            [
              [portA, dirA],
              [portB, dirB],
            ].map(([port, dir]) =>
              phonehome([
                'sim',
                'up',
                '--speed',
                '100',
                '--adb-port',
                String(port),
                '--state-dir',
                String(dir),
              ]),
            ),
          );
          assert.equal(upA!.code, 0, upA!.stderr);
          assert.equal(upB!.code, 0, upB!.stderr);
          const a = readSimState(dirA)!;
          const b = readSimState(dirB)!;
          assert.notEqual(a.labId, b.labId);
          assert.notEqual(a.subnetIndex, b.subnetIndex);

          process.kill(a.daemon!.pid, 'SIGKILL');
          await sleep(300);
          const status = await phonehome(['sim', 'status', '--state-dir', dirA]);
          assert.equal(status.code, 1);
          assert.match(status.stdout, /supervisor pid \d+: gone/);

          const down = await phonehome(['sim', 'down', '--state-dir', dirA]);
          assert.equal(down.code, 0, down.stderr);
          assert.deepEqual(await leftovers(a), []);
          // The other lab is untouched.
          const statusB = await phonehome(['sim', 'status', '--state-dir', dirB]);
          assert.equal(statusB.code, 0, statusB.stdout);
          const downB = await phonehome(['sim', 'down', '--state-dir', dirB]);
          assert.equal(downB.code, 0, downB.stderr);
          assert.deepEqual(await leftovers(b), []);
        });
      });
    },
  );

  group.test('with --unauthorized the phone is on the adb server as unauthorized', async () => {
    await withStateDir(async (dir, adbPort) => {
      const up = await phonehome([
        'sim',
        'up',
        '--unauthorized',
        '--adb-port',
        String(adbPort),
        '--state-dir',
        dir,
      ]);
      assert.equal(up.code, 0, up.stderr);
      const phone = readSimState(dir)!.phones[0]!;
      const devices = await run('adb', ['-P', String(adbPort), 'devices']);
      assert.match(devices, new RegExp(`^${phone.adbSerial}\\s+unauthorized$`, 'm'));
    });
  });

  group.test(
    'a second up on the same state dir is refused while the first runs; a bad misbehaviour is a usage error',
    async () => {
      await withStateDir(async (dir, adbPort) => {
        const bad = await phonehome([
          'sim',
          'up',
          '--misbehave',
          'nope',
          '--adb-port',
          String(adbPort),
          '--state-dir',
          dir,
        ]);
        assert.equal(bad.code, 2);
        // The message names every misbehaviour the profile defines, read from the profile itself.
        const known = Object.keys(
          (await loadTrafficProfile('devices/sim/xiaomi-redmi-note-13.traffic.yaml')).misbehaviour,
        );
        assert.ok(known.length >= 4, known.join(', '));
        assert.equal(
          bad.stderr.trim(),
          `phonehome: --misbehave nope: xiaomi-redmi-note-13 knows ${known.join(', ')}`,
        );
        const up = await phonehome(['sim', 'up', '--adb-port', String(adbPort), '--state-dir', dir]);
        assert.equal(up.code, 0, up.stderr);
        const again = await phonehome(['sim', 'up', '--adb-port', String(adbPort), '--state-dir', dir]);
        assert.equal(again.code, 2);
        assert.match(again.stderr, /already up/);
      });
    },
  );
});
