/**
 * TLS interception end to end: `phonehome run --intercept mitmproxy` on a simulated Xiaomi through the
 * compiled CLI, real mitmdump (Debian's 8.1.1) with phonehome's addon, real iptables rules in the lab
 * gateway's namespace, real tcpdump. With the CA installed (a rooted phone): requests read inside
 * TLS on their flows, an IMEI in a TLS JSON body and a hashed Android ID in an HTTP/2 header found as
 * leaks, the pinned service reported pinned, QUIC rejected for that phone only. Without it: every TLS
 * connection refused and the run broken for it. After the run, Ctrl-C and `kill -9`: no rule, no
 * mitmdump left (checked by the rule's name and the proxy's PID).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gate } from '../testing/gate.js';
import { renderedDom } from './chromium-page.js';
import { freePort } from './free-port.js';

const exec = promisify(execFile);
const MAIN = resolve('dist/harness/cli/main.js');
const hasMitm = await exec('mitmdump', ['--version']).then(
  () => true,
  () => false,
);
const ready = process.getuid?.() === 0 && existsSync(MAIN) && hasMitm;
const hasChromium = await exec('chromium', ['--version']).then(
  () => true,
  () => false,
);

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

/** Runs the compiled CLI; `watch` sees stdout and stderr together as they come, with the child's pid. */
function phonehome(args: string[], watch?: (all: string, pid: number) => void): Promise<Ran> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [MAIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, CI: 'true' },
    });
    let out = '';
    const take = (d: Buffer) => {
      out += d.toString();
      watch?.(out, p.pid!);
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('close', (code, signal) => done({ code, signal, out }));
  });
}

function labOf(out: string): { namespaces: string[]; stateDir: string } | undefined {
  const m = /simulated lab \S+ up \([^;]*; namespaces ([^;]+); state dir ([^)]+)\)/.exec(out);
  return m ? { namespaces: m[1]!.trim().split(/\s+/), stateDir: m[2]!.trim() } : undefined;
}

/** The lab put away by its state dir (a run killed with -9 leaves it up). */
async function putAway(r: Ran | string | undefined): Promise<void> {
  const lab = typeof r === 'string' ? labOf(r) : r && labOf(r.out);
  if (lab && existsSync(lab.stateDir)) {
    await exec(process.execPath, [MAIN, 'sim', 'down', '--state-dir', lab.stateDir]).catch(() => {});
    await rm(lab.stateDir, { recursive: true, force: true });
  }
}

/** Firewall rules named by phonehome's interception, in a namespace (or the host's). */
async function interceptRules(netns?: string): Promise<string[]> {
  const lines: string[] = [];
  for (const table of ['nat', 'filter']) {
    const argv = [...(netns ? ['ip', 'netns', 'exec', netns] : []), 'iptables', '-w', '-t', table, '-S'];
    const { stdout } = await exec(argv[0]!, argv.slice(1)).catch(() => ({ stdout: '' }));
    lines.push(...stdout.split('\n').filter((l) => l.includes('phonehome-intercept-')));
  }
  return lines;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, ok: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const runArgs = (out: string, port: number, extra: string[]) => [
  'run',
  '--no-ui',
  '--no-history',
  '--plain',
  '--scenario',
  'idle',
  '--intercept',
  'mitmproxy',
  '--adb-port',
  String(port),
  '--out',
  out,
  ...extra,
];

/** The one run folder under OUT/runs. */
function runDir(out: string): string {
  const runs = join(out, 'runs');
  const id = readdirSync(runs)[0]!;
  const phone = readdirSync(join(runs, id))[0]!;
  return join(runs, id, phone, 'idle');
}

const group = gate(ready ? false : 'needs root, mitmdump (make setup) and a build (dist/)');

group.describe('TLS interception (mitmproxy) on a simulated Xiaomi', () => {
  let work: string;
  group.before(async () => {
    work = await mkdtemp(join(tmpdir(), 'phonehome-intercept-'));
  });
  group.after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  group.it(
    'CA installed: requests read inside TLS, leaks in a TLS body and an HTTP/2 header, the pinned host, QUIC rejected for that phone only, nothing left',
    { timeout: 240_000 },
    async () => {
      const out = join(work, 'with-ca');
      let rulesSeen: string[] = [];
      let phoneIp = '';
      let watching = false;
      const r = await phonehome(
        runArgs(out, await freePort(), ['--sim', 'xiaomi-redmi-note-13+leak-ids', '--sim-rooted']),
        (all) => {
          // While the run goes on: the rules in the gateway's namespace, read once they are there.
          const lab = labOf(all);
          const ip = /firewall rules "phonehome-intercept-[\d-]+" on eth0 for ([\d.]+)/.exec(all)?.[1];
          if (!lab || !ip || watching) return;
          watching = true;
          phoneIp = ip;
          const gw = lab.namespaces.find((n) => n.endsWith('-inet'))!;
          void interceptRules(gw).then((rules) => {
            rulesSeen = rules;
          });
        },
      );
      try {
        assert.equal(r.code, 1, r.out.slice(-3000));
        // The rules: only this phone's TCP 80/443 redirected, only its UDP 443 rejected.
        assert.ok(rulesSeen.length === 3, `rules seen while running: ${rulesSeen.join('\n')}`);
        for (const rule of rulesSeen) assert.ok(rule.includes(`-s ${phoneIp}/32`), rule);
        assert.ok(rulesSeen.some((l) => /REDIRECT --to-ports \d+/.test(l) && l.includes('--dports 80,443')));
        assert.equal(rulesSeen.filter((l) => l.includes('--dport 443') && l.includes('REJECT')).length, 2);

        const dir = runDir(out);
        const flows = JSON.parse(await readFile(join(dir, 'flows.json'), 'utf8'));
        const verdict = JSON.parse(await readFile(join(dir, 'verdict.json'), 'utf8'));
        // Requests on their flows, with URLs (identifiers masked in what phonehome writes).
        const inside = flows.flows.filter(
          (f: { intercepted?: { status: string } }) => f.intercepted?.status === 'inside',
        );
        assert.ok(inside.length >= 5, `${inside.length} flows read inside`);
        const urls = inside.flatMap((f: { intercepted: { requests: { url: string }[] } }) =>
          f.intercepted.requests.map((q) => q.url),
        );
        assert.ok(
          urls.some((u: string) => u.startsWith('https://tracking.intl.miui.com/track/v4/')),
          urls.join('\n'),
        );
        assert.ok(
          inside.some((f: { intercepted: { requests: { httpVersion: string }[] } }) =>
            f.intercepted.requests.some((q) => q.httpVersion === 'HTTP/2.0'),
          ),
          'an HTTP/2 exchange',
        );
        // The leaks found only inside TLS, with place and encoding.
        const leaks = flows.identifiers.leaks as {
          kind: string;
          place: string;
          encoding: string;
          masked: string;
        }[];
        const imei = leaks.find(
          (l) => l.kind === 'imei' && l.place.startsWith('inside TLS (HTTP/1.1): body JSON'),
        );
        assert.ok(imei, JSON.stringify(leaks.map((l) => l.place)));
        assert.equal(imei.encoding, 'json(plain)');
        const hashed = leaks.find(
          (l) => l.kind === 'android-id' && l.place.startsWith('inside TLS (HTTP/2.0): header'),
        );
        assert.ok(hashed, JSON.stringify(leaks.map((l) => l.place)));
        assert.equal(hashed.encoding, 'sha256(plain)');
        assert.equal(
          leaks.filter(
            (l) => l.kind === 'imei' && l.place.startsWith('inside TLS') && l.place.endsWith(': body'),
          ).length,
          0,
          'one leak per value and body',
        );
        // Nothing the phone said is in flows.json in clear.
        const raw = (await readFile(join(dir, 'exchanges.jsonl'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { url?: string; requestBody?: string });
        const sent = raw.find((x) => x.url?.endsWith('/track/v4/device') && x.requestBody);
        assert.ok(sent, 'the raw exchanges hold the request (they are the evidence)');
        const value = JSON.parse(Buffer.from(sent.requestBody!, 'base64').toString('utf8')).device
          .imei as string;
        assert.match(value, /^\d{15}$/);
        assert.ok(!JSON.stringify(flows).includes(value), 'flows.json masks it');
        assert.ok(!JSON.stringify(verdict).includes(value), 'verdict.json masks it');
        // Offline, later: analyze re-judges the run from its capture and exchanges file.
        await writeFile(join(work, 'ids.yaml'), `imei: "${value}"\n`);
        const again = await exec(process.execPath, [
          MAIN,
          'analyze',
          join(dir, 'capture.pcap'),
          '--exchanges',
          join(dir, 'exchanges.jsonl'),
          '--identifiers',
          join(work, 'ids.yaml'),
          '--format',
          'json',
        ]);
        const offline = JSON.parse(again.stdout);
        assert.equal(offline.intercept.decryptedFlows, verdict.intercept.decryptedFlows);
        assert.ok(
          offline.identifiers.leaks.some(
            (l: { place: string }) => l.place === 'inside TLS (HTTP/1.1): body JSON $.device.imei',
          ),
        );
        // The pinned service: refused mitmproxy, the rest went on.
        const hosts = verdict.intercept.hosts as { host: string; status: string }[];
        assert.ok(
          hosts.some((h) => h.host === 'android.clients.google.com' && h.status === 'pinned'),
          JSON.stringify(hosts),
        );
        assert.ok(verdict.intercept.decryptedFlows > 0 && !verdict.intercept.problem);
        // The report's "inside TLS" page as a person sees it: hosts and what was read, values masked.
        const results = join(out, 'allure-results');
        const page = readdirSync(results)
          .filter((f) => f.endsWith('.html'))
          .map((f) => join(results, f))
          .find((f) => readFileSync(f, 'utf8').includes('<title>Inside TLS:'));
        assert.ok(page, 'an "inside TLS" attachment');
        if (hasChromium) {
          const dom = await renderedDom(`file://${page}`);
          assert.match(dom, /<td>android\.clients\.google\.com<\/td><td>pinned<\/td>/);
          assert.match(dom, /https:\/\/tracking\.intl\.miui\.com\/track\/v4\/device/);
          assert.match(dom, /<td>HTTP\/2\.0<\/td>/);
          assert.ok(!dom.includes(value), 'no identifier in clear');
        }
        assert.ok(
          readdirSync(results).some((f) => readFileSync(join(results, f)).includes('"requestBody":null')),
          'the masked exchanges file is attached',
        );
        // QUIC: the phone's Initial was rejected by the gateway (ICMP port unreachable to the phone).
        const { stdout } = await exec('tshark', [
          '-r',
          join(dir, 'capture.pcap'),
          '-Y',
          'icmp.type == 3 && icmp.code == 3 && udp.dstport == 443',
          '-T',
          'fields',
          '-e',
          'ip.dst',
          // The outer header's: the ICMP message quotes the phone's own packet after it.
          '-E',
          'occurrence=f',
        ]);
        assert.ok(stdout.trim().split('\n').includes(phoneIp), `ICMP unreachable to ${phoneIp}: ${stdout}`);
        // Nothing left: the rules gone (the host's namespace too), mitmdump stopped.
        const pid = Number(/mitmdump pid (\d+)/.exec(r.out)?.[1]);
        assert.ok(pid > 0 && !alive(pid), `mitmdump ${pid} stopped`);
        assert.deepEqual(await interceptRules(), []);
      } finally {
        await putAway(r);
      }
    },
  );

  group.it(
    'no CA on the phone: every TLS connection refused, the run broken for it',
    { timeout: 240_000 },
    async () => {
      const out = join(work, 'no-ca');
      const r = await phonehome(runArgs(out, await freePort(), ['--sim', 'xiaomi-redmi-note-13']));
      try {
        assert.equal(r.code, 3, r.out.slice(-3000));
        const result = JSON.parse(await readFile(join(runDir(out), 'result.json'), 'utf8'));
        assert.equal(result.outcome, 'broken');
        assert.match(
          result.reason,
          /^interception did not work: none of the phone's \d+ TLS connections was read inside/,
        );
        const flows = JSON.parse(await readFile(join(runDir(out), 'flows.json'), 'utf8'));
        const tls = flows.flows.filter(
          (f: { proto: string; resp: { port: number } }) => f.proto === 'tcp' && f.resp.port === 443,
        );
        assert.ok(tls.length > 3);
        for (const f of tls)
          assert.match(f.intercepted.status, /^(pinned|failed)$/, JSON.stringify(f.intercepted));
      } finally {
        await putAway(r);
      }
    },
  );

  for (const sig of ['SIGINT', 'SIGKILL'] as const) {
    group.it(`${sig} to phonehome mid-run: no rule and no mitmdump left`, { timeout: 240_000 }, async () => {
      const out = join(work, sig);
      let pid = 0;
      let gw = '';
      let sent = false;
      const r = await phonehome(
        runArgs(out, await freePort(), ['--sim', 'xiaomi-redmi-note-13']),
        (all, child) => {
          const m = /mitmdump pid (\d+)/.exec(all);
          if (sent || !m || !/step idle/.test(all)) return;
          sent = true;
          pid = Number(m[1]);
          gw = labOf(all)!.namespaces.find((n) => n.endsWith('-inet'))!;
          process.kill(child, sig);
        },
      );
      try {
        assert.ok(sent, r.out.slice(-2000));
        if (sig === 'SIGINT') assert.equal(r.code, 130, r.out.slice(-2000));
        else assert.equal(r.signal, 'SIGKILL');
        // After kill -9 the warden does it: the proxy stopped, then its rules removed.
        await until(`mitmdump ${pid} gone`, () => !alive(pid));
        await until(`rules gone in ${gw}`, async () => (await interceptRules(gw)).length === 0);
        assert.deepEqual(await interceptRules(), []);
      } finally {
        await putAway(r);
      }
    });
  }
});
