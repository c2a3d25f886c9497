/**
 * A lab host's adb server reached over the network, as a farm host with `adb: { host, port }`: the
 * lab's simulated-internet namespace stands for the other machine. An adb server runs there
 * listening on its own addresses (never this machine's), and reaches a simulated Xiaomi through a
 * forwarder on the lab's access point address. `phonehome devices --adb-host ADDRESS` lists the phone
 * with its profile through that server and warns that such a server gives full control to anyone who
 * reaches it; a port where no server answers is reported as such, and phonehome starts none there.
 * A whole scenario then runs through that server as a farm host without an access point runs it:
 * UI steps by Appium and UiAutomator2 (whose server the other host's adb forwards), the capture by
 * PCAPdroid on the phone, pulled over adb; the phone, attached by serial, tells its speed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gate } from '../testing/gate.js';
import { type CliLab, simDownCli, simUpCli } from './cli-lab.js';
import { phonehomeProcess } from './cli-process.js';
import { freePort } from './free-port.js';

const exec = promisify(execFile);
/** The simulated Xiaomi's PCAPdroid api_key (devices/sim/xiaomi-redmi-note-13.yaml). */
const PCAPDROID_KEY = 'ph-lab-6c0a9e2f41d7b358';
const group = gate(process.getuid?.() === 0 ? false : 'needs root (network namespaces)');

/** The first IPv4 address of an interface, in the namespace when one is given. */
async function ipv4(dev: string, ns?: string): Promise<string> {
  const args = [...(ns ? ['-n', ns] : []), '-4', '-j', 'addr', 'show', 'dev', dev];
  const [link] = JSON.parse((await exec('ip', args)).stdout) as { addr_info: { local: string }[] }[];
  const local = link?.addr_info[0]?.local;
  assert.ok(local, `an IPv4 address on ${dev}`);
  return local;
}

group.describe('an adb server on another lab host', () => {
  let lab: CliLab | undefined;
  let server: ChildProcess | undefined;
  let forwarder: Server | undefined;
  let work: string | undefined;
  /** The other host's address and its adb server's port. */
  let remoteAddr = '';
  let port = 0;
  /** The phone's serial on the other host's server. */
  let forwarded = '';

  group.before(async () => {
    lab = await simUpCli(await freePort(), ['--profile', 'xiaomi-redmi-note-13', '--speed', '120']);
    const phone = lab.state.phones[0]!;
    const remoteNs = phone.gateway.namespace;
    const hostAddr = await ipv4(phone.labInterface);
    remoteAddr = await ipv4(phone.gateway.interface, remoteNs);
    // The phone's adbd listens on this machine's loopback: the other host reaches it through a forwarder
    // on the access point address, as it would reach a phone on its own USB.
    const [adbdHost, adbdPort] = phone.adbSerial.split(':') as [string, string];
    forwarder = createServer((c) => {
      const up = tcpConnect(Number(adbdPort), adbdHost);
      c.pipe(up).pipe(c);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => forwarder!.listen(0, hostAddr, () => r()));
    forwarded = `${hostAddr}:${(forwarder.address() as { port: number }).port}`;
    // The other host's adb server: -a listens on every address of that namespace, nowhere else; its
    // port forwards (the UiAutomator2 server's) listen there too, where Appium reaches them.
    port = await freePort();
    server = spawn('ip', ['netns', 'exec', remoteNs, 'adb', '-a', '-P', String(port), 'server', 'nodaemon'], {
      stdio: 'ignore',
      detached: true,
    });
    const remoteAdb = (args: string[]) =>
      exec('ip', ['netns', 'exec', remoteNs, 'adb', '-P', String(port), ...args]);
    for (let i = 0; ; i++) {
      const ok = await remoteAdb(['version']).then(
        () => true,
        () => false,
      );
      if (ok) break;
      assert.ok(i < 50, 'the other host adb server answers');
      await new Promise((r) => setTimeout(r, 200));
    }
    await remoteAdb(['connect', forwarded]);
  });

  group.after(async () => {
    if (server?.pid) {
      try {
        process.kill(-server.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise<void>((r) => (forwarder ? forwarder.close(() => r()) : r()));
    await simDownCli(lab);
    if (work) await rm(work, { recursive: true, force: true });
  });

  group.it('is used for discovery with a warning, and never started by phonehome', async () => {
    const remoteNs = lab!.state.phones[0]!.gateway.namespace;
    const listed = await phonehomeProcess([
      'devices',
      '--adb-host',
      remoteAddr,
      '--adb-port',
      String(port),
      '--json',
    ]);
    assert.equal(listed.code, 0, listed.out);
    assert.match(
      listed.out,
      new RegExp(
        `phonehome: warning: the adb server ${remoteAddr.replace(/\./g, '\\.')}:${port} is not on loopback\\. .*SSH tunnel`,
      ),
    );
    const json = listed.out.slice(listed.out.indexOf('{'));
    const { devices } = JSON.parse(json) as {
      devices: { serial: string; ready: boolean; profile?: string }[];
    };
    const row = devices.find((d) => d.serial === forwarded);
    assert.ok(row, `the phone through the other host's server: ${JSON.stringify(devices)}`);
    assert.equal(row.ready, true, JSON.stringify(row));
    assert.equal(row.profile, 'xiaomi-miui-global');

    // No server on that port of the other host: said so, and none started there or here.
    const dead = await freePort();
    const none = await phonehomeProcess(['devices', '--adb-host', remoteAddr, '--adb-port', String(dead)]);
    assert.equal(none.code, 2, none.out);
    assert.match(none.out, /the remote adb server does not answer/);
    const listening = (await exec('ss', ['-Hltn', `sport = :${dead}`])).stdout.trim();
    assert.equal(listening, '', 'phonehome started no adb server');
    const there = (
      await exec('ip', ['netns', 'exec', remoteNs, 'ss', '-Hltn', `sport = :${dead}`])
    ).stdout.trim();
    assert.equal(there, '', 'nor on the other host');
  });

  group.it('runs a scenario with UI steps through it, captured by PCAPdroid on the phone', async () => {
    work = await mkdtemp(join(tmpdir(), 'phonehome-remote-run-'));
    const out = join(work, 'reports');
    const run = await phonehomeProcess(
      [
        'run',
        '--device',
        forwarded,
        '--adb-host',
        remoteAddr,
        '--adb-port',
        String(port),
        '--capture',
        'pcapdroid',
        '--scenario',
        'backup-enabled',
        '--plain',
        '--no-history',
        '--out',
        out,
      ],
      undefined,
      { PHONEHOME_PCAPDROID_API_KEY: PCAPDROID_KEY, PHONEHOME_LOCK_DIR: join(work, 'locks') },
    );
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /not on loopback/);
    assert.match(run.out, /simulated phone: its time runs 120× the wall clock's/);
    // No adb server here: everything went through the other host's.
    assert.equal((await exec('ss', ['-Hltn', `sport = :${port}`])).stdout.trim(), '');

    const [hostDir] = await readdir(join(out, 'runs'));
    const [runDir] = await readdir(join(out, 'runs', hostDir!));
    const dir = join(out, 'runs', hostDir!, runDir!, 'backup-enabled');
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as {
      outcome: string;
      phases: { phase: string; name: string; detail?: string }[];
      capture: { notes: string[] };
    };
    assert.equal(result.outcome, 'passed');
    const step = (name: string) => result.phases.find((p) => p.phase === 'step' && p.name === name);
    // The UI steps went through Appium and UiAutomator2 (the driver's server forwarded by the other
    // host's adb server), the step without UI over adb.
    assert.match(step('turn backup on')?.detail ?? '', /^UI: pressed Home; tapped description "Settings"/);
    assert.match(step('join Wi-Fi')?.detail ?? '', /^over adb/);
    assert.match(
      result.capture.notes.join('\n'),
      /pulled \/sdcard\/Download\/PCAPdroid\/\S+\.pcap from the phone/,
    );
    // PCAPdroid's dump names the apps: the backup's connections are the cloud backup app's.
    const { flows } = JSON.parse(await readFile(join(dir, 'flows.json'), 'utf8')) as {
      flows: { app?: { package?: string }; names: { name: string }[] }[];
    };
    const backup = flows.filter((f) => f.names.some((n) => n.name.endsWith('.micloud.xiaomi.net')));
    assert.ok(backup.length > 0, 'backup connections captured');
    for (const f of backup) assert.equal(f.app?.package, 'com.miui.cloudbackup', JSON.stringify(f));
  });
});
