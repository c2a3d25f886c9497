/**
 * The one-phone run pipeline end to end: simulated phones brought up with `phonehome sim up` (their own
 * network namespaces and a private adb server), driven through the real adb server, captured by real
 * tcpdump, libpcap (cap) or the simulated PCAPdroid, analysed and judged.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CapCapture } from '../harness/capture/cap-capture.js';
import { PcapdroidCapture } from '../harness/capture/pcapdroid-capture.js';
import { TcpdumpCapture } from '../harness/capture/tcpdump-capture.js';
import { AdbClient } from '../harness/device/adb.js';
import { AdbDeviceControl } from '../harness/device/device-control.js';
import type { OpenGeo } from '../harness/geo/open-locator.js';
import { type Inventory, parseInventory } from '../harness/identifiers/inventory.js';
import { maskId } from '../harness/identifiers/mask.js';
import type { CaptureBackend } from '../harness/run/capture.js';
import { type RunScenario, runOne } from '../harness/run/run-one.js';
import { readAllowlist } from '../harness/verdict/read-allowlist.js';
import { gate } from '../testing/gate.js';
import { simGeo } from '../testing/sim-geo.js';
import { type CliLab, simDownCli, simUpCli } from './cli-lab.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

type Lab = CliLab;

async function simUp(profiles: string[], misbehave: string[] = []): Promise<Lab> {
  const extra = misbehave.length ? ['--misbehave', misbehave.join(',')] : [];
  return simUpCli(await freePort(), ['--profile', ...profiles, '--speed', '240', ...extra]);
}

const IDLE: RunScenario = {
  name: 'idle',
  steps: [
    { kind: 'adb', name: 'screen off', command: 'input keyevent 26', expectExit: 0 },
    // 5 s at speed 240 is 20 minutes of phone time: every idle behaviour fires at least once.
    { kind: 'wait', name: 'idle', ms: 5_000 },
  ],
};

/** Accepts TCP connections on the port in argv[1] and reads them until they close. */
const PY_SINK = `
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', int(sys.argv[1])))
s.listen(4)
print('ready', flush=True)
def drain(c):
    while c.recv(4096):
        pass
while True:
    c, _ = s.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
`;

/** Connects to argv[1]:argv[2] and sends a byte every 200 ms until killed. */
const PY_TRICKLE = `
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
print('connected', flush=True)
while True:
    c.send(b'x')
    time.sleep(0.2)
`;

/** Resolves when the child prints `line`; rejects when it exits first or 15 s go by. */
function firstLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no "${line}" within 15 s`)), 15_000);
    child.stdout?.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.split('\n').includes(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before printing "${line}"`));
    });
  });
}

/** tcpdump on the interface, telling `started` its PID once it captures (to watch it, or to kill it). */
function tcpdumpTold(iface: string, started: (pid: number) => void): CaptureBackend {
  const backend = new TcpdumpCapture({ interface: iface });
  return {
    name: backend.name,
    async start(o) {
      const session = await backend.start(o);
      started((session as unknown as { child: { pid: number } }).child.pid);
      return session;
    },
  };
}

const group = gate(isRoot ? false : 'needs root (network namespaces)');

group.describe('run pipeline on simulated phones', () => {
  let good: Lab | undefined;
  let bad: Lab | undefined;
  let out: string;
  let geo: OpenGeo | undefined;

  group.before(async () => {
    out = await mkdtemp(join(tmpdir(), 'phonehome-runs-'));
    geo = await simGeo();
    [good, bad] = await Promise.all([
      simUp(['xiaomi-redmi-note-13', 'pixel-7']),
      simUp(['xiaomi-redmi-note-13'], ['unknown-host', 'leak-ids']),
    ]);
  });

  group.after(async () => {
    await Promise.all([simDownCli(good), simDownCli(bad)]);
    geo?.close();
    await rm(out, { recursive: true, force: true });
  });

  function phone(lab: Lab, profile: string) {
    const p = lab.state.phones.find((x) => x.profile === profile);
    assert.ok(p, `${profile} in the lab`);
    const adb = new AdbClient({ host: '127.0.0.1', port: lab.adbPort }).device(p.adbSerial);
    return { entry: p, adb, device: new AdbDeviceControl(adb) };
  }

  async function idleRun(
    lab: Lab,
    profile: string,
    allowlist: string,
    capture: (iface: string) => CaptureBackend,
    inventory?: (adbSerial: string) => Inventory,
    located = true,
  ) {
    const { entry, device } = phone(lab, profile);
    return runOne(
      {
        runId: `t${Date.now().toString(36)}`,
        outRoot: out,
        device,
        capture: capture(entry.captureInterface),
        allowlist: readAllowlist(allowlist),
        ...(located ? { locator: geo!.locatorFor(undefined) } : {}),
        ...(inventory ? { inventory: inventory(entry.adbSerial) } : {}),
      },
      IDLE,
    );
  }

  group.it(
    'passes an idle run of the Xiaomi with its allowlist, both canaries seen, artifacts on disk',
    async () => {
      const r = await idleRun(
        good!,
        'xiaomi-redmi-note-13',
        'devices/xiaomi-miui-global/allowlists/idle.yaml',
        (i) => new TcpdumpCapture({ interface: i }),
      );
      assert.equal(r.outcome, 'passed', `${r.reason}: ${JSON.stringify(r.violations)}`);
      assert.equal(r.canaries.startSeen && r.canaries.endSeen, true);
      // The simulated lab answers the canaries: a ping that fails (no ping on the host, a broken lab
      // resolver) would leave them to the DNS query alone, and nothing else would notice.
      assert.deepEqual(
        r.phases.filter((p) => p.phase === 'canary').map((p) => p.detail),
        ['ping exit 0', 'ping exit 0'],
      );
      for (const f of [
        'capture.pcap',
        'flows.json',
        'verdict.json',
        'device.json',
        'logcat.txt',
        'run.log',
        'result.json',
      ]) {
        assert.ok(existsSync(join(r.dir, f)), `${f} written`);
      }
      const verdict = JSON.parse(await readFile(join(r.dir, 'verdict.json'), 'utf8'));
      assert.equal(verdict.formatVersion, 1);
      assert.equal(verdict.outcome, 'allowed');
      // Located: the databases named in the verdict, the simulated lab's overrides in flows.json.
      assert.deepEqual(
        verdict.geo.databases.map((d: { name: string }) => d.name),
        ['geo-whois-asn-country', 'iptoasn-country', 'dbip-city', 'asn'],
      );
      assert.equal(verdict.geo.overrides, 4);
      const flows = JSON.parse(await readFile(join(r.dir, 'flows.json'), 'utf8'));
      assert.equal(flows.formatVersion, 2);
      const push = flows.flows.find((f: { names: { name: string; source: string }[] }) =>
        f.names.some((n) => n.name === 'resolver.msg.global.xiaomi.net' && n.source === 'sni'),
      );
      assert.equal(push.resp.geo.country, 'SG');
      assert.match(push.resp.geo.override.note, /^simulated: /);
      const names = new Set(
        flows.flows.flatMap((f: { names: { name: string }[] }) => f.names.map((n) => n.name)),
      );
      for (const h of [
        'resolver.msg.global.xiaomi.net',
        'api.ad.intl.xiaomi.com',
        'connectivitycheck.gstatic.com',
      ]) {
        assert.ok(names.has(h), `${h} seen`);
      }
      assert.ok((r.capture?.packets ?? 0) > 50, `packets ${r.capture?.packets}`);
      assert.equal(r.capture?.dropped, 0);
    },
  );

  group.it('gives the same verdict with libpcap (cap) as with tcpdump', async () => {
    const r = await idleRun(
      good!,
      'pixel-7',
      'devices/pixel-stock/allowlists/idle.yaml',
      (i) => new CapCapture({ interface: i }),
    );
    assert.equal(r.outcome, 'passed', `${r.reason}: ${JSON.stringify(r.violations)}`);
    assert.equal(r.capture?.dropped, 'unknown');
  });

  group.it(
    'is broken, naming the rule, when its allowlist says where traffic may go and nothing located it',
    async () => {
      // The Pixel's base allowlist forbids mainland China: with no location lookups that rule could
      // not see a thing, and the run must not pass on it.
      const r = await idleRun(
        good!,
        'pixel-7',
        'devices/pixel-stock/allowlists/idle.yaml',
        (i) => new TcpdumpCapture({ interface: i }),
        undefined,
        false,
      );
      assert.equal(r.outcome, 'broken', r.reason);
      assert.equal(r.broken?.kind, 'infrastructure');
      assert.match(
        r.reason,
        /the allowlist cannot be applied: forbid in CN \(.*\) from base\.yaml:\d+: cannot be applied: the flows were not located/,
      );
    },
  );

  group.it('fails the misbehaving Xiaomi and names the offending host, rule and step', async () => {
    // The phone tells adb its advertising ID only with root: the lab's inventory supplies it.
    const profile = await readFile('devices/sim/xiaomi-redmi-note-13.yaml', 'utf8');
    const adid = /^ {2}advertisingId: "([^"]+)"/m.exec(profile)?.[1] ?? '';
    const r = await idleRun(
      bad!,
      'xiaomi-redmi-note-13',
      'devices/xiaomi-miui-global/allowlists/idle.yaml',
      (i) => new TcpdumpCapture({ interface: i }),
      (serial) => parseInventory(`"${serial}":\n  advertising-id: "${adid}"\n`, '/lab/inventory.yaml'),
    );
    assert.equal(r.outcome, 'failed', r.reason);
    const unknown = r.violations.filter((v) => v.subject === 'beacon.unlisted-collector.net');
    assert.ok(unknown.length > 0, `unknown host reported: ${JSON.stringify(r.violations)}`);
    // Asking the resolver for it is unlisted; contacting it is forbidden by the base allowlist's
    // country rule (the simulated internet places the collector in mainland China).
    assert.ok(
      unknown.some((v) => /^forbid in CN \(no traffic to mainland China/.test(v.ruleText)),
      unknown.map((v) => v.ruleText).join('; '),
    );
    for (const v of unknown) {
      assert.match(v.ruleText, /no rule matched|forbid in CN/);
      // Its traffic started with the phone, so the first contact may come before the first step.
      assert.match(v.step, /^(idle|screen off|join Wi-Fi|before the first step|after .+)$/);
    }
    // The IMEI leak goes to an allowed host but over plain HTTP: no rule allows port 80 there.
    const leak = r.verdict?.violations.find((v) => v.subject === 'data.mistat.intl.xiaomi.com');
    assert.ok(leak, 'plain-HTTP analytics reported');
    const flows = JSON.parse(await readFile(join(r.dir, 'flows.json'), 'utf8')).flows as {
      uid: string;
      http?: { target: string };
    }[];
    const evidence =
      flows.find((f) => leak.flows.includes(f.uid) && f.http?.target.startsWith('/mistats/v2/report'))?.http
        ?.target ?? '';
    // The request line is kept as evidence, with the phone's identifiers masked in it.
    assert.match(evidence, /imei=\d{3}…\d{3}&aid=[0-9a-f]{4}…[0-9a-f]{4}&sn=/, evidence);
    // The identifiers read over adb are searched for in the capture, and each leak is a violation.
    // Every form of the leak-ids misbehaviour is named by kind, place and encoding, once per form.
    const ids = r.violations.filter((v) => / sent to /.test(v.subject));
    const forms = ids.map((v) => `${v.subject.split(' ')[0]} ${v.ruleText.split(' (×')[0]}`);
    assert.deepEqual([...new Set(forms)].sort(), [
      'advertising-id URL query gaid as plain',
      'android-id URL query aid as plain',
      'android-id header Cookie key uid as base64(plain)',
      'app-list body as plain',
      'imei URL query dev as plain',
      'imei URL query imei as plain',
      'imei body JSON $.device.h as gzip(json(sha256(plain)))',
      'serial DNS label 1 as hex(plain)',
      'serial URL query sn as plain',
      'wifi-mac header X-Dev-Key as md5(lower(no separator))',
    ]);
    assert.equal(forms.length, new Set(forms).size, `one line per form: ${forms.join('; ')}`);
    // The IMEI split across two TCP segments is found whole, in the query of its request.
    assert.ok(
      ids.some((v) => v.subject.startsWith('imei ') && v.ruleText.startsWith('URL query dev as plain')),
    );
    assert.ok(ids.every((v) => /^(idle|screen off|join Wi-Fi|before the first step|after .+)$/.test(v.step)));
    assert.match(r.reason, /identifier leaks/);
    const told = JSON.parse(await readFile(join(r.dir, 'identifiers.json'), 'utf8')) as {
      read: { kind: string; source: string }[];
      unread: { kind: string }[];
    };
    assert.deepEqual(
      told.read.filter((x) => x.kind === 'advertising-id').map((x) => x.source),
      ['supplied by inventory.yaml'],
    );
    assert.ok(!told.unread.some((x) => x.kind === 'advertising-id'), 'a supplied kind is not listed unread');
    // Every file the run wrote, but the capture (the evidence itself), holds none of the raw values.
    const raw = ['imei', 'imei2', 'androidId', 'serial', 'bluetoothMac', 'advertisingId'].map(
      (k) => new RegExp(`^  ${k}: "([^"]+)"`, 'm').exec(profile)?.[1] ?? '',
    );
    raw.push(phone(bad!, 'xiaomi-redmi-note-13').entry.mac);
    // The serial hex-encoded in a DNS label is masked in the names kept as well.
    raw.push(Buffer.from(raw[3]!).toString('hex'));
    assert.ok(
      raw.every((v) => v.length >= 8),
      `values from the profile and the lab: ${raw}`,
    );
    const files = (await readdir(r.dir)).filter((f) => f !== 'capture.pcap');
    assert.ok(files.includes('identifiers.json') && files.includes('logcat.txt'), files.join(' '));
    for (const file of files) {
      const text = (await readFile(join(r.dir, file))).toString('latin1');
      for (const v of raw)
        assert.ok(!text.toLowerCase().includes(v.toLowerCase()), `${file} holds a raw identifier`);
    }
    assert.ok(existsSync(join(r.dir, 'screenshot.png')), 'a failed run keeps a screenshot');
  });

  group.it(
    'records where a failed step broke the run, and still stops the capture with its figures',
    async () => {
      const { entry, device } = phone(good!, 'pixel-7');
      let tcpdumpPid: number | undefined;
      const r = await runOne(
        {
          runId: `step${Date.now().toString(36)}`,
          outRoot: out,
          device,
          capture: tcpdumpTold(entry.captureInterface, (pid) => {
            tcpdumpPid = pid;
          }),
          allowlist: readAllowlist('devices/pixel-stock/allowlists/idle.yaml'),
        },
        {
          name: 'step-fails',
          steps: [
            { kind: 'wait', name: 'settle', ms: 500 },
            { kind: 'adb', name: 'no such file', command: 'ls /no/such/file', expectExit: 0 },
            { kind: 'wait', name: 'never reached', ms: 500 },
          ],
        },
      );
      assert.equal(r.outcome, 'broken');
      assert.deepEqual(r.broken, {
        stage: 'step',
        kind: 'step',
        detail: 'step "no such file" exited 1, expected 0',
      });
      assert.deepEqual(
        r.phases.map((p) => [p.phase, p.name, p.status]),
        [
          ['prepare', 'prepare', 'passed'],
          ['capture start', 'capture start', 'passed'],
          ['canary', r.canaries.start, 'passed'],
          ['step', 'settle', 'passed'],
          ['step', 'no such file', 'broken'],
          ['capture stop', 'capture stop', 'passed'],
        ],
      );
      assert.equal(r.phases[4]!.provider, 'adb');
      assert.ok(Number(r.phases[5]!.figures?.packets) > 0, 'the capture stopped with its figures');
      assert.ok(tcpdumpPid, 'tcpdump ran');
      assert.throws(() => process.kill(tcpdumpPid!, 0), 'tcpdump is not left running');
      const saved = JSON.parse(await readFile(join(r.dir, 'result.json'), 'utf8'));
      assert.deepEqual(saved.broken, r.broken, 'result.json holds the record');
      assert.ok(existsSync(join(r.dir, 'step-2.out.txt')), "the failed command's output is kept");
    },
  );

  group.it(
    'is broken, naming the fault, when the capture process is killed mid-run; what it recorded stays',
    async () => {
      const { entry, device } = phone(good!, 'pixel-7');
      let killer: NodeJS.Timeout | undefined;
      const r = await runOne(
        {
          runId: `kill${Date.now().toString(36)}`,
          outRoot: out,
          device,
          capture: tcpdumpTold(entry.captureInterface, (pid) => {
            killer = setTimeout(() => process.kill(pid, 'SIGKILL'), 1_500);
          }),
          allowlist: readAllowlist('devices/pixel-stock/allowlists/idle.yaml'),
        },
        { name: 'tcpdump-killed', steps: [{ kind: 'wait', name: 'idle', ms: 4_000 }] },
      );
      clearTimeout(killer);
      assert.equal(r.outcome, 'broken');
      assert.equal(r.broken?.stage, 'capture stop');
      assert.equal(r.broken?.kind, 'capture');
      assert.match(r.reason, /^capture not working: tcpdump was killed \(SIGKILL\) during the capture/);
      for (const f of ['capture.pcap', 'device.json', 'run.log', 'result.json'])
        assert.ok(existsSync(join(r.dir, f)), `${f} kept`);
      assert.equal(JSON.parse(await readFile(join(r.dir, 'result.json'), 'utf8')).broken.kind, 'capture');
    },
  );

  group.it('is broken, not passed, when the capture watches the wrong interface', async () => {
    const other = phone(good!, 'pixel-7').entry.captureInterface;
    const r = await idleRun(
      good!,
      'xiaomi-redmi-note-13',
      'devices/xiaomi-miui-global/allowlists/idle.yaml',
      () => new TcpdumpCapture({ interface: other }),
    );
    assert.equal(r.outcome, 'broken');
    assert.match(r.reason, /capture not working: the start and end canary is not in the capture/);
  });

  group.it(
    'captures with the simulated PCAPdroid: the same verdict, and flows carry app packages',
    async () => {
      const { adb } = phone(good!, 'xiaomi-redmi-note-13');
      const key = (await readFile('devices/sim/xiaomi-redmi-note-13.yaml', 'utf8')).match(
        /apiKey: "([^"]+)"/,
      )?.[1];
      assert.ok(key, 'the simulated phone has a PCAPdroid api key');
      const r = await idleRun(
        good!,
        'xiaomi-redmi-note-13',
        'devices/xiaomi-miui-global/allowlists/idle.yaml',
        () => new PcapdroidCapture(adb, { apiKey: key }),
      );
      assert.equal(r.outcome, 'passed', `${r.reason}: ${JSON.stringify(r.violations)}`);
      const flows = JSON.parse(await readFile(join(r.dir, 'flows.json'), 'utf8')).flows as {
        names: { name: string }[];
        app?: { package?: string };
      }[];
      const push = flows.find((f) => f.names.some((n) => n.name === 'resolver.msg.global.xiaomi.net'));
      assert.equal(push?.app?.package, 'com.xiaomi.xmsf');
      const log = await readFile(join(r.dir, 'run.log'), 'utf8');
      assert.ok(!log.includes(key), 'the api key is never logged');
    },
  );

  group.it(
    'tolerates, with a warning, an unnamed connection the phone already had open when the capture began',
    async () => {
      // A connection opened before the run, and still sending, is captured midstream: no handshake, no
      // name. Real phones always have some (push channels); they are not this scenario's doing.
      const { entry } = phone(good!, 'xiaomi-redmi-note-13');
      const inet = good!.state.namespaces.find((n) => n.endsWith('-inet'));
      assert.ok(inet, 'the lab has a simulated internet namespace');
      const server = spawn('ip', ['netns', 'exec', inet, 'python3', '-c', PY_SINK, '7000'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let client: ChildProcess | undefined;
      try {
        await firstLine(server, 'ready');
        client = spawn(
          'ip',
          ['netns', 'exec', entry.namespace, 'python3', '-c', PY_TRICKLE, '10.213.200.7', '7000'],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        await firstLine(client, 'connected');
        const r = await idleRun(
          good!,
          'xiaomi-redmi-note-13',
          'devices/xiaomi-miui-global/allowlists/idle.yaml',
          (i) => new TcpdumpCapture({ interface: i }),
        );
        assert.equal(r.outcome, 'passed', `${r.reason}: ${JSON.stringify(r.violations)}`);
        assert.equal(r.capture?.dropped, 0);
        const flows = JSON.parse(await readFile(join(r.dir, 'flows.json'), 'utf8')).flows as {
          uid: string;
          resp: { addr: string; port: number };
          names: unknown[];
          midstream?: boolean;
        }[];
        const open = flows.filter((f) => f.resp.addr === '10.213.200.7' && f.resp.port === 7000);
        assert.equal(open.length, 1, 'one flow to the open connection');
        assert.equal(open[0]!.midstream, true);
        assert.deepEqual(open[0]!.names, []);
        const j = r.verdict?.judgements.find((x) => x.uid === open[0]!.uid);
        assert.deepEqual([j?.status, j?.ruleText], ['tolerated', 'open before the capture began: warn']);
        assert.ok(
          r.verdict?.warnings.some((w) =>
            w.startsWith('10.213.200.7 (tcp/7000, 1 flow) was already open when the capture began'),
          ),
          JSON.stringify(r.verdict?.warnings),
        );
        const log = await readFile(join(r.dir, 'run.log'), 'utf8');
        assert.match(
          log,
          /warning: 10\.213\.200\.7 \(tcp\/7000, 1 flow\) was already open when the capture began/,
        );
      } finally {
        client?.kill('SIGKILL');
        server.kill('SIGKILL');
      }
    },
  );

  group.it('is broken, naming the hook, when the lab hook a scenario starts with fails', async () => {
    const { entry, device } = phone(bad!, 'xiaomi-redmi-note-13');
    const r = await runOne(
      {
        runId: `start${Date.now().toString(36)}`,
        outRoot: out,
        device,
        capture: new TcpdumpCapture({ interface: entry.captureInterface }),
        allowlist: readAllowlist('devices/xiaomi-miui-global/allowlists/first-start.yaml'),
        hooks: {
          'phone.reset': [
            process.execPath,
            '-e',
            `console.log('lab-reset: {serial} (${entry.serial}) not on the bench'); process.exit(3)`,
          ],
        },
      },
      {
        name: 'first-start',
        start: { name: 'factory reset', hook: 'phone.reset' },
        prepare: [{ kind: 'setup-wizard' }],
        steps: [{ kind: 'wait', name: 'idle', ms: 100 }],
      },
    );
    assert.equal(r.outcome, 'broken');
    assert.equal(r.broken?.kind, 'preparation');
    // The phone's serial in the lab's words is a secret in phonehome's output: masked.
    const masked = maskId(entry.serial);
    assert.equal(
      r.reason,
      `factory reset failed: lab hook phone.reset: node exited 3: lab-reset: ${entry.adbSerial} (${masked}) not on the bench`,
    );
    for (const f of ['result.json', 'run.log', 'start.out.txt'])
      assert.ok(!readFileSync(join(r.dir, f), 'utf8').includes(entry.serial), `the serial in ${f}`);
    // Nothing was read from the phone and no capture began: the run stopped where the hook failed.
    assert.ok(!existsSync(join(r.dir, 'capture.pcap')));
    assert.ok(existsSync(join(r.dir, 'start.out.txt')));
    // A phone that is set up is not in its setup wizard: the hook succeeds, the check does not.
    const set = await runOne(
      {
        runId: `wizard${Date.now().toString(36)}`,
        outRoot: out,
        device,
        capture: new TcpdumpCapture({ interface: entry.captureInterface }),
        allowlist: readAllowlist('devices/xiaomi-miui-global/allowlists/first-start.yaml'),
        hooks: { 'phone.reset': [process.execPath, '-e', ''] },
      },
      {
        name: 'first-start',
        start: { name: 'factory reset', hook: 'phone.reset' },
        prepare: [{ kind: 'setup-wizard' }],
        steps: [{ kind: 'wait', name: 'idle', ms: 100 }],
      },
    );
    assert.equal(set.outcome, 'broken');
    assert.match(
      set.reason,
      /^preparation failed: setup-wizard: the phone is already set up \(device_provisioned 1\)/,
    );
  });

  group.it(
    'is broken with the phone lost when its connection is cut mid-capture, keeping the artifacts',
    async () => {
      const { entry, device } = phone(good!, 'pixel-7');
      // The simulated phone's whole process goes away (its supervisor reconnects a merely disconnected
      // phone at once): the adb transport drops as when a cable is pulled. This is the last test of the lab.
      const daemon = good!.state.daemon?.pid;
      assert.ok(daemon, 'the lab records its supervisor');
      const cut = setTimeout(() => process.kill(daemon, 'SIGKILL'), 3_000);
      const t0 = Date.now();
      const r = await runOne(
        {
          runId: `lost${Date.now().toString(36)}`,
          outRoot: out,
          device,
          capture: new TcpdumpCapture({ interface: entry.captureInterface }),
          allowlist: readAllowlist('devices/pixel-stock/allowlists/idle.yaml'),
          stepDeadlineMs: 5_000,
        },
        { name: 'idle', steps: [{ kind: 'wait', name: 'idle', ms: 6_000 }] },
      );
      clearTimeout(cut);
      assert.equal(r.outcome, 'broken');
      assert.match(r.reason, /phone lost/);
      assert.ok(Date.now() - t0 < 25_000, `took ${Date.now() - t0} ms`);
      for (const f of ['capture.pcap', 'device.json', 'run.log', 'result.json'])
        assert.ok(existsSync(join(r.dir, f)), f);
      await run('adb', ['-P', String(good!.adbPort), 'connect', entry.adbSerial]);
    },
  );
});
