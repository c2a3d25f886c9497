/**
 * `phonehome analyze --format json` against tshark on the lab's real captures (fixtures/captures):
 * every TCP and UDP connection tshark sees must come out as one flow with the same packets and IP
 * payload bytes each way, the SYN sender as originator, and exactly the names tshark's dissectors
 * find, each with its provenance. One live test records a fresh capture in a new namespace lab
 * (scripts/fixtures/make-lab-captures.sh, root only) and checks it the same way.
 * Run from the project root (as `make test` does) after `tsc`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';
import { gate } from '../testing/gate.js';

const CLI = resolve('dist/harness/cli/main.js');
const FIXTURES = resolve('fixtures/captures');
const LAB_SCRIPT = resolve('scripts/fixtures/make-lab-captures.sh');

/** The name each fixture was made to ask for, by file: what a user expects to see whatever tshark says. */
const ASKED: Record<string, { name: string; source: string; proto: string; port: number }> = {
  'http-host-v4.pcap': { name: 'connectivitycheck.gstatic.com', source: 'http-host', proto: 'tcp', port: 80 },
  'http-host-v6.pcap': { name: 'connectivitycheck.gstatic.com', source: 'http-host', proto: 'tcp', port: 80 },
  'tls13-h2-v4.pcap': { name: 'api.account.xiaomi.com', source: 'sni', proto: 'tcp', port: 443 },
  'tls13-h2-v6.pcap': { name: 'api.account.xiaomi.com', source: 'sni', proto: 'tcp', port: 443 },
  'tls13-h1-v4.pcap': { name: 'tracking.intl.miui.com', source: 'sni', proto: 'tcp', port: 443 },
  'tls13-h1-v6.pcap': { name: 'tracking.intl.miui.com', source: 'sni', proto: 'tcp', port: 443 },
  'tls12-v4.pcap': { name: 'thm.market.intl.xiaomi.com', source: 'sni', proto: 'tcp', port: 443 },
  'tls12-v6.pcap': { name: 'thm.market.intl.xiaomi.com', source: 'sni', proto: 'tcp', port: 443 },
  'dns-udp.pcap': { name: 'data.mistat.intl.xiaomi.com', source: 'dns-query', proto: 'udp', port: 53 },
  'dns-tcp.pcap': { name: 'resolver.msg.global.xiaomi.net', source: 'dns-query', proto: 'tcp', port: 53 },
  'openssl-sni.pcap': { name: 'update.intl.miui.com', source: 'sni', proto: 'tcp', port: 443 },
  'quic-chromium.pcap': { name: 'play.googleapis.com', source: 'quic-sni', proto: 'udp', port: 443 },
  'split-clienthello.pcap': { name: 'sdkconfig.ad.intl.xiaomi.com', source: 'sni', proto: 'tcp', port: 443 },
  'mixed-session.pcapng': { name: 'tracking.intl.miui.com', source: 'sni', proto: 'tcp', port: 443 },
  'lan-join.pcap': { name: '_googlecast._tcp.local', source: 'dns-query', proto: 'udp', port: 5353 },
};

// ---- The analyzer as a user runs it ---------------------------------------------------------------

interface JsonFlow {
  uid: string;
  proto: string;
  orig: { addr: string; port: number };
  resp: { addr: string; port: number };
  tsStart: number;
  tsEnd: number;
  origBytes: number;
  respBytes: number;
  origPkts: number;
  respPkts: number;
  service: string | null;
  names: { name: string; source: string }[];
  tls?: { alpn: string[]; tlsVersion?: number; sni?: string };
}

interface JsonDns {
  query: string;
  type: string;
  rcode: number;
  answers: string[];
}

interface JsonAnalysis {
  formatVersion: number;
  flows: JsonFlow[];
  dns: JsonDns[];
}

function analyze(file: string): JsonAnalysis {
  const r = spawnSync(process.execPath, [CLI, 'analyze', '--format', 'json', file], {
    encoding: 'utf8',
    maxBuffer: 1024 * 1024 * 1024,
    timeout: 300_000,
  });
  assert.equal(r.status, 0, `phonehome analyze ${file} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as JsonAnalysis;
}

// ---- The oracle: tshark's per-frame fields, grouped into connections here ----------------------

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'ip.len',
  'ip.hdr_len',
  'ipv6.plen',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.flags.syn',
  'tcp.flags.ack',
  'tcp.seq_raw',
  'udp.srcport',
  'udp.dstport',
  'tls.handshake.extensions_server_name',
  'tls.handshake.extensions_alpn_str',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.version',
  'http.request',
  'http.host',
  'dns.flags.response',
  'dns.flags.rcode',
  'dns.qry.name',
  'dns.qry.type',
  'dns.a',
  'dns.aaaa',
  'quic.version',
] as const;
type Field = (typeof FIELDS)[number];
type Row = Record<Field, string>;

/** tshark's rows for the TCP and UDP frames of a capture (ICMP errors, which quote a UDP header, left out). */
function tsharkRows(file: string): Row[] {
  const args = ['-r', file, '-n', '-Y', '(tcp or udp) and not icmp and not icmpv6', '-T', 'fields'];
  args.push('-E', 'separator=\t', '-E', 'occurrence=a', '-E', 'aggregator=,');
  for (const f of FIELDS) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1024 * 1024 * 1024, timeout: 300_000 });
  assert.equal(r.status, 0, `tshark -r ${file} exited ${r.status}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const v = line.split('\t');
      return Object.fromEntries(FIELDS.map((f, i) => [f, v[i] ?? ''])) as Row;
    });
}

interface OracleFlow {
  proto: 'tcp' | 'udp';
  /** "addr|port" of the SYN sender, else of the first packet's sender. */
  orig: string;
  resp: string;
  firstFrame: number;
  /** TCP: the raw sequence number of the SYN that opened it, when seen. */
  synSeq?: string;
  /** Timestamps of the first and the last packet, seconds. */
  tsStart: number;
  tsEnd: number;
  /** IP payload bytes and packets sent by each side, keyed "addr|port". */
  bytes: Map<string, number>;
  pkts: Map<string, number>;
  names: Set<string>;
  /** From the first ClientHello: ALPN offered and the highest version offered (GREASE left out). */
  tls?: { alpn: string[]; tlsVersion: number };
}

const DNS_TYPES: Record<string, string> = {
  '1': 'A',
  '28': 'AAAA',
  '5': 'CNAME',
  '65': 'HTTPS',
  '64': 'SVCB',
};

interface Oracle {
  /** Connections by endpoint pair; several when a port pair was used again (a new SYN, or UDP idle > 60 s). */
  flows: Map<string, OracleFlow[]>;
  /** DNS responses in capture order. */
  dns: { frame: number; client: string; query: string; type: string; rcode: number; addrs: string[] }[];
}

/** The analyzer's default: a UDP flow idle longer than this ends, and the next datagram opens a new one. */
const UDP_IDLE_SEC = 60;

function ep(addr: string, port: string | number): string {
  return `${addr}|${port}`;
}

function flowKey(proto: string, a: string, b: string): string {
  return `${proto} ${[a, b].sort().join(' ')}`;
}

function oracle(file: string): Oracle {
  const flows = new Map<string, OracleFlow[]>();
  const dns: Oracle['dns'] = [];
  for (const row of tsharkRows(file)) {
    const v6 = row['ipv6.src'] !== '';
    const src = v6 ? row['ipv6.src'] : row['ip.src'];
    const dst = v6 ? row['ipv6.dst'] : row['ip.dst'];
    const tcp = row['tcp.srcport'] !== '';
    const proto = tcp ? 'tcp' : 'udp';
    const s = ep(src, tcp ? row['tcp.srcport'] : row['udp.srcport']);
    const d = ep(dst, tcp ? row['tcp.dstport'] : row['udp.dstport']);
    const bytes = v6 ? Number(row['ipv6.plen']) : Number(row['ip.len']) - Number(row['ip.hdr_len']);
    const frame = Number(row['frame.number']);
    const ts = Number(row['frame.time_epoch']);
    const key = flowKey(proto, s, d);
    const list = flows.get(key) ?? [];
    let f = list[list.length - 1];
    const syn = tcp && row['tcp.flags.syn'] === '1' && row['tcp.flags.ack'] === '0';
    const reused =
      f !== undefined &&
      (tcp ? syn && f.synSeq !== undefined && f.synSeq !== row['tcp.seq_raw'] : ts - f.tsEnd > UDP_IDLE_SEC);
    if (f === undefined || reused) {
      f = {
        proto,
        orig: s,
        resp: d,
        firstFrame: frame,
        tsStart: ts,
        tsEnd: ts,
        bytes: new Map(),
        pkts: new Map(),
        names: new Set(),
      };
      list.push(f);
      flows.set(key, list);
    }
    f.tsEnd = ts;
    if (syn) {
      f.orig = s;
      f.resp = d;
      f.synSeq = row['tcp.seq_raw'];
    }
    f.bytes.set(s, (f.bytes.get(s) ?? 0) + bytes);
    f.pkts.set(s, (f.pkts.get(s) ?? 0) + 1);

    const sni = row['tls.handshake.extensions_server_name'];
    if (sni !== '' && f.tls === undefined) {
      const list = (x: string) => (x === '' ? [] : x.split(','));
      const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a;
      const offered = list(row['tls.handshake.extensions.supported_version'])
        .map(Number)
        .filter((v) => !isGrease(v));
      f.tls = {
        alpn: list(row['tls.handshake.extensions_alpn_str']),
        tlsVersion: offered.length > 0 ? Math.max(...offered) : Number(list(row['tls.handshake.version'])[0]),
      };
    }
    if (sni !== '') f.names.add(`${sni.toLowerCase()} ${row['quic.version'] !== '' ? 'quic-sni' : 'sni'}`);
    // HTTP over TCP only: the analyzer names a flow by the HTTP request that opens a TCP stream;
    // tshark also reads HTTP in UDP datagrams (SSDP's M-SEARCH, whose Host is the multicast group).
    if (tcp && row['http.request'] !== '' && row['http.host'] !== '')
      f.names.add(`${row['http.host'].toLowerCase().replace(/:\d+$/, '')} http-host`);
    if (row['dns.qry.name'] !== '') {
      for (const q of row['dns.qry.name'].split(',')) f.names.add(`${q.toLowerCase()} dns-query`);
      if (row['dns.flags.response'] === '1') {
        const addrs = [row['dns.a'], row['dns.aaaa']].flatMap((x) => (x === '' ? [] : x.split(',')));
        dns.push({
          frame,
          client: dst,
          query: row['dns.qry.name'].split(',')[0]!.toLowerCase(),
          type: DNS_TYPES[row['dns.qry.type'].split(',')[0]!] ?? row['dns.qry.type'],
          rcode: Number(row['dns.flags.rcode']),
          addrs,
        });
      }
    }
  }
  // A name learnt from DNS: the query whose answer most recently gave the originator the responder's address.
  for (const f of [...flows.values()].flat()) {
    const [client] = f.orig.split('|');
    const [server] = f.resp.split('|');
    let name: string | undefined;
    for (const r of dns)
      if (r.frame < f.firstFrame && r.client === client && r.addrs.includes(server!)) name = r.query;
    if (name !== undefined) f.names.add(`${name} dns`);
  }
  return { flows, dns };
}

/** One flow against the tshark connection it stands for: direction, counts, times, ClientHello facts, names. */
function checkFlow(f: JsonFlow, w: OracleFlow): void {
  const o = ep(f.orig.addr, f.orig.port);
  const r = ep(f.resp.addr, f.resp.port);
  const label = `${f.uid} ${f.proto} ${o} → ${r}`;
  if (f.proto === 'tcp') assert.equal(o, w.orig, `${label}: originator is not the SYN sender`);
  assert.deepEqual(
    { origBytes: f.origBytes, respBytes: f.respBytes, origPkts: f.origPkts, respPkts: f.respPkts },
    {
      origBytes: w.bytes.get(o) ?? 0,
      respBytes: w.bytes.get(r) ?? 0,
      origPkts: w.pkts.get(o) ?? 0,
      respPkts: w.pkts.get(r) ?? 0,
    },
    `${label}: bytes/packets differ from tshark`,
  );
  // Within a microsecond: the nanosecond fixture's times must not be read as microseconds.
  assert.ok(
    Math.abs(f.tsStart - w.tsStart) < 1e-6 && Math.abs(f.tsEnd - w.tsEnd) < 1e-6,
    `${label}: times ${f.tsStart}..${f.tsEnd}, tshark says ${w.tsStart}..${w.tsEnd}`,
  );
  if (w.tls !== undefined) {
    assert.deepEqual(
      { alpn: f.tls?.alpn, tlsVersion: f.tls?.tlsVersion },
      w.tls,
      `${label}: ClientHello facts differ from tshark`,
    );
  }
  const names = new Set(f.names.map((n) => `${n.name} ${n.source}`));
  // tshark 4.0 cannot read every QUIC ClientHello (Chromium shuffles its CRYPTO frames): a quic-sni
  // name tshark missed is checked against what the fixture asked for instead (below).
  const expected = new Set(w.names);
  if (f.proto === 'udp') for (const n of names) if (n.endsWith(' quic-sni')) expected.add(n);
  assert.deepEqual([...names].sort(), [...expected].sort(), `${label}: names differ from tshark`);
}

/** Every TCP/UDP flow, its direction, counts and names, and the DNS log, checked against the oracle. */
function checkAgainstTshark(file: string): JsonAnalysis {
  const got = analyze(file);
  assert.equal(got.formatVersion, 2);
  const want = oracle(file);
  assert.ok(want.flows.size > 0, `tshark found no TCP or UDP traffic in ${file}`);

  // The analyzer's flows by endpoint pair, in start order, matched one to one with tshark's connections.
  const byKey = new Map<string, JsonFlow[]>();
  for (const f of got.flows) {
    if (f.proto !== 'tcp' && f.proto !== 'udp') continue;
    const key = flowKey(f.proto, ep(f.orig.addr, f.orig.port), ep(f.resp.addr, f.resp.port));
    byKey.set(key, [...(byKey.get(key) ?? []), f]);
  }
  for (const [key, fs] of byKey) {
    const ws = want.flows.get(key) ?? [];
    assert.equal(
      fs.length,
      ws.length,
      `${key}: ${fs.length} flows (${fs.map((f) => f.uid).join(' ')}), tshark sees ${ws.length} connections`,
    );
    fs.sort((a, b) => a.tsStart - b.tsStart);
    for (const [i, f] of fs.entries()) checkFlow(f, ws[i]!);
  }
  const missing = [...want.flows.keys()].filter((k) => !byKey.has(k));
  assert.deepEqual(missing, [], 'connections tshark saw that the analyzer did not report');

  const gotDns = got.dns.map((d) => ({
    query: d.query,
    type: d.type,
    rcode: d.rcode,
    addrs: d.answers
      .filter((a) => a.startsWith('A ') || a.startsWith('AAAA '))
      .map((a) => a.slice(a.indexOf(' ') + 1))
      .sort(),
  }));
  const wantDns = want.dns.map((d) => ({
    query: d.query,
    type: d.type,
    rcode: d.rcode,
    addrs: d.addrs.sort(),
  }));
  assert.deepEqual(gotDns, wantDns, 'DNS log differs from tshark');
  return got;
}

/** The flows carrying the name the fixture asked for, with the provenance a user expects. */
function checkAsked(file: string, got: JsonAnalysis): void {
  const asked = ASKED[file.split('/').pop()!];
  if (asked === undefined) return;
  const carrying = got.flows.filter(
    (f) =>
      f.proto === asked.proto &&
      f.resp.port === asked.port &&
      f.names.some((n) => n.name === asked.name && n.source === asked.source),
  );
  assert.ok(
    carrying.length > 0,
    `no ${asked.proto}/${asked.port} flow named ${asked.name} by ${asked.source} in ${file}`,
  );
  if (asked.source === 'quic-sni') {
    // Every datagram flow Chromium opened to UDP 443 was a QUIC attempt for the one name it was sent to.
    for (const f of got.flows.filter((x) => x.proto === 'udp' && x.resp.port === 443)) {
      assert.ok(
        f.names.some((n) => n.name === asked.name && n.source === 'quic-sni'),
        `${f.uid}: QUIC flow without the quic-sni name ${asked.name}`,
      );
      assert.equal(f.service, 'quic', `${f.uid}: QUIC flow not recognised as quic`);
    }
  }
}

function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

const files = existsSync(FIXTURES)
  ? readdirSync(FIXTURES)
      .filter((f) => /\.pcap(ng)?$/.test(f))
      .sort()
  : [];

const group = gate(!tsharkAvailable() && 'tshark missing');

group.describe('analyze agrees with tshark on the lab fixtures', () => {
  group.test('every fixture the README lists is present', () => {
    assert.deepEqual(files, Object.keys(ASKED).sort());
  });
  for (const f of files) {
    group.test(f, () => {
      const path = join(FIXTURES, f);
      checkAsked(f, checkAgainstTshark(path));
    });
  }
});

// More captures to hold against tshark, e.g. the benchmark's: PHONEHOME_ORACLE_EXTRA=a.pcap:b.pcapng
const extra = (process.env['PHONEHOME_ORACLE_EXTRA'] ?? '').split(':').filter((f) => f !== '');
if (extra.length > 0) {
  describe('analyze agrees with tshark on PHONEHOME_ORACLE_EXTRA captures', () => {
    for (const f of extra) test(f, { timeout: 600_000 }, () => void checkAgainstTshark(resolve(f)));
  });
}

const isRoot = process.getuid?.() === 0;
const tmp = mkdtempSync(join(tmpdir(), 'phonehome-analyze-vs-tshark-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('live: a capture recorded now in a fresh namespace lab (split ClientHello) reads like tshark says', {
  skip: !isRoot
    ? 'needs root to build the namespace lab (run make test as root)'
    : !tsharkAvailable() && 'tshark missing',
  timeout: 120_000,
}, () => {
  const r = spawnSync(LAB_SCRIPT, ['--out', tmp, 'split-clienthello', 'dns-udp'], {
    encoding: 'utf8',
    timeout: 100_000,
  });
  assert.equal(r.status, 0, `make-lab-captures exited ${r.status ?? r.signal}: ${r.stderr}`);
  for (const f of ['split-clienthello.pcap', 'dns-udp.pcap']) {
    const path = join(tmp, f);
    checkAsked(f, checkAgainstTshark(path));
  }
  // The lab leaves nothing behind: no namespace, veth or resolver file of its own.
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  const pid = /lab (phfx-\d+) up/.exec(r.stdout)?.[1];
  assert.ok(pid !== undefined, `no lab name in the script's output: ${r.stdout}`);
  assert.ok(!ns.includes(pid), `namespace ${pid} left behind`);
  assert.ok(!existsSync(`/etc/netns/${pid}-c`), `/etc/netns/${pid}-c left behind`);
});
