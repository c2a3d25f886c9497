import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { pcapFile } from '../testing/capture-writer.js';
import { ipv4Packet, pcapdroidFrame, tcpSegment, udpDatagram } from '../testing/packet-builder.js';
import { type Analysis, analyzeStream, inferDevice, isLocalAddress, nothingToJudge } from './analyze.js';
import type { Flow } from './flows/flow.js';
import { CaptureFormatError } from './packets/packet.js';

const DIR = '../shared/captures/pcapdroid';
const METADATA = `${DIR}/metadata.pcap`;
const TWO_FLOWS = `${DIR}/two_flows.pcap`;
const HTTP_PROXY = `${DIR}/http_proxy.pcap`;
const INVALID = `${DIR}/invalid_or_unsupported.pcap`;
const CRASH = `${DIR}/crash-593ec6ead7a1bf23faa96d03cbd74c315bcf67fc`;

function analyzeFile(path: string, opts?: { deviceAddrs?: string[] }): Promise<Analysis> {
  return analyzeStream(createReadStream(path, { highWaterMark: 4096 }), opts);
}

async function* chunks(bytes: Uint8Array, sizes: number[]): AsyncIterable<Uint8Array> {
  let p = 0;
  for (let i = 0; p < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(p, p + n);
    p += n;
  }
}

/** tshark as the oracle: one row of the requested fields per packet matching the filter. */
function tshark(file: string, filter: string, fields: string[]): string[][] {
  const out = execFileSync(
    'tshark',
    ['-r', file, '-Y', filter, '-T', 'fields', '-E', 'separator=\t', ...fields.flatMap((f) => ['-e', f])],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
  );
  return out
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** Per TCP/UDP conversation, from tshark: packets and IP payload bytes sent from each "addr port". */
function tsharkConversations(file: string): Map<string, Map<string, { pkts: number; bytes: number }>> {
  const rows = tshark(file, 'tcp || udp', [
    'tcp.stream',
    'udp.stream',
    'ip.src',
    'ipv6.src',
    'tcp.srcport',
    'udp.srcport',
    'ip.len',
    'ip.hdr_len',
    'ipv6.plen',
  ]);
  const convs = new Map<string, Map<string, { pkts: number; bytes: number }>>();
  for (const [tcpStream, udpStream, ip4, ip6, tsp, usp, ipLen, hdrLen, plen] of rows) {
    const conv = tcpStream ? `tcp ${tcpStream}` : `udp ${udpStream}`;
    const from = `${ip4 || ip6} ${tsp || usp}`;
    const bytes = ip4 ? Number(ipLen) - Number(hdrLen) : Number(plen);
    const sides = convs.get(conv) ?? new Map<string, { pkts: number; bytes: number }>();
    const side = sides.get(from) ?? { pkts: 0, bytes: 0 };
    side.pkts++;
    side.bytes += bytes;
    sides.set(from, side);
    convs.set(conv, sides);
  }
  return convs;
}

function endpointKey(f: Flow): { orig: string; resp: string } {
  return { orig: `${f.orig.addr} ${f.orig.port}`, resp: `${f.resp.addr} ${f.resp.port}` };
}

test('metadata.pcap: the same conversations, packets and bytes each way as tshark counts', async () => {
  const a = await analyzeFile(METADATA);
  const convs = tsharkConversations(METADATA);
  const ours = a.flows.filter((f) => f.proto === 'tcp' || f.proto === 'udp');
  assert.equal(ours.length, convs.size);
  const unmatched = new Set(convs.keys());
  for (const f of ours) {
    const { orig, resp } = endpointKey(f);
    const conv = [...unmatched].find((c) => {
      const sides = convs.get(c)!;
      return c.startsWith(f.proto) && [...sides.keys()].every((k) => k === orig || k === resp);
    });
    assert.ok(conv, `tshark has no conversation ${f.proto} ${orig} <-> ${resp}`);
    unmatched.delete(conv);
    const sides = convs.get(conv)!;
    assert.deepEqual(
      { pkts: f.origPkts, bytes: f.origBytes },
      sides.get(orig) ?? { pkts: 0, bytes: 0 },
      `${f.uid} originator side`,
    );
    assert.deepEqual(
      { pkts: f.respPkts, bytes: f.respBytes },
      sides.get(resp) ?? { pkts: 0, bytes: 0 },
      `${f.uid} responder side`,
    );
  }
  const icmp = a.flows.filter((f) => f.proto === 'icmp');
  assert.equal(icmp.length, 1);
  assert.equal(icmp[0]!.origPkts + icmp[0]!.respPkts, tshark(METADATA, 'icmp', ['frame.number']).length);
});

test('metadata.pcap: names by SNI, Host and DNS query agree with tshark; the phone is inferred', async () => {
  const a = await analyzeFile(METADATA);
  assert.deepEqual(a.device, { addrs: ['192.168.1.10', '2001:db8:1234::1'], inferred: true });
  assert.equal(a.flows.length, 19);
  const names = (source: string) =>
    new Set(a.flows.flatMap((f) => f.names.filter((n) => n.source === source).map((n) => n.name)));

  const sni = new Set(
    tshark(METADATA, 'tls.handshake.type == 1', ['tls.handshake.extensions_server_name']).flat(),
  );
  assert.deepEqual(names('sni'), sni);
  const hosts = new Set(
    tshark(METADATA, 'http.request', ['http.host']).map(([h]) => h!.toLowerCase().replace(/:\d+$/, '')),
  );
  assert.deepEqual(names('http-host'), hosts);
  const asked = new Set(tshark(METADATA, 'dns', ['dns.qry.name']).map(([n]) => n!.toLowerCase()));
  assert.deepEqual(names('dns-query'), asked);

  // Every flow whose responder tshark saw in a DNS answer to the phone is named by it.
  const answered = new Map<string, string[]>();
  for (const [dst, addrs] of tshark(METADATA, 'dns.flags.response == 1 && dns.a', ['ip.dst', 'dns.a'])) {
    for (const addr of addrs!.split(',')) answered.set(addr, [...(answered.get(addr) ?? []), dst!]);
  }
  for (const f of a.flows.filter((x) => x.service === 'http' || x.service === 'tls')) {
    const viaDns = f.names.find((n) => n.source === 'dns');
    if (answered.get(f.resp.addr)?.includes(f.orig.addr))
      assert.ok(viaDns, `${f.uid} ${f.resp.addr} named by DNS`);
    else assert.equal(viaDns, undefined);
  }
  // And the first TLS flow carries its ClientHello facts.
  const tls = a.flows.find((f) => f.service === 'tls' && f.orig.addr === '192.168.1.10')!;
  assert.equal(tls.tls?.sni, 'google.it');
  assert.equal(tls.connState, 'SF');
});

test('metadata.pcap: one DNS record per response tshark sees', async () => {
  const a = await analyzeFile(METADATA);
  const responses = tshark(METADATA, 'dns.flags.response == 1', [
    'dns.id',
    'dns.qry.name',
    'dns.flags.rcode',
  ]);
  assert.equal(a.dns.length, responses.length);
  for (const [i, [id, qname, rcode]] of responses.entries()) {
    const rec = a.dns[i]!;
    assert.equal(rec.query, qname!.toLowerCase(), `record ${i} (id ${id})`);
    assert.equal(rec.rcode, Number(rcode));
    assert.equal(rec.client, '192.168.1.10');
    assert.ok(a.flows.some((f) => f.uid === rec.uid && f.service === 'dns'));
  }
  const withA = a.dns.find((r) => r.query === 'www.google.com' && r.type === 'A')!;
  assert.ok(withA.answers.some((x) => /^A \d+\.\d+\.\d+\.\d+$/.test(x)));
});

test('two_flows.pcap: exactly two TCP flows, the HTTP one then the TLS one', async () => {
  const a = await analyzeFile(TWO_FLOWS);
  assert.deepEqual(
    a.flows.map((f) => [f.proto, f.service, f.origPkts + f.respPkts]),
    [
      ['tcp', 'http', 20],
      ['tcp', 'tls', 29],
    ],
  );
  const [host] = tshark(TWO_FLOWS, 'http.request', ['http.host'])[0]!;
  const [sni] = tshark(TWO_FLOWS, 'tls.handshake.type == 1', ['tls.handshake.extensions_server_name'])[0]!;
  assert.deepEqual(a.flows[0]!.names, [{ name: host, source: 'http-host' }]);
  assert.deepEqual(a.flows[1]!.names, [{ name: sni, source: 'sni' }]);
  assert.ok(a.flows[0]!.tsStart < a.flows[1]!.tsStart);
});

test('http_proxy.pcap: the proxy connection, named by its CONNECT request and the ClientHello in the tunnel', async () => {
  const a = await analyzeFile(HTTP_PROXY);
  const convs = tsharkConversations(HTTP_PROXY);
  assert.equal(a.flows.length, convs.size);
  const [first] = tshark(HTTP_PROXY, 'http.request', ['http.host', 'http.request.method', 'tcp.dstport']);
  const [sni] = tshark(HTTP_PROXY, 'tls.handshake.type == 1', ['tls.handshake.extensions_server_name']);
  assert.equal(first![1], 'CONNECT');
  const f = a.flows[0]!;
  assert.equal(f.resp.port, Number(first![2]));
  assert.equal(f.service, 'http');
  assert.equal(f.http?.method, first![1]);
  assert.deepEqual(f.names, [
    { name: first![0]!.toLowerCase().replace(/:\d+$/, ''), source: 'http-host' },
    { name: sni![0]!, source: 'sni' },
  ]);
  assert.equal(f.tls?.sni, sni![0]);
});

test('invalid_or_unsupported.pcap: goes through, reports what it skipped and why', async () => {
  const a = await analyzeFile(INVALID);
  assert.equal(a.capture.frames, 15);
  const reasons = a.skipped.map((s) => s.reason);
  assert.ok(reasons.includes('ip-version-0'), reasons.join());
  assert.ok(reasons.includes('udp-short-header'), reasons.join());
  const skippedFrames = a.skipped.reduce((n, s) => n + s.count, 0);
  assert.ok(skippedFrames >= 4);
  const protos = new Set(a.flows.map((f) => f.proto));
  assert.ok(protos.has('ip-50'), 'ESP after IPv6 extension headers is its own flow');
  assert.ok(a.warnings.some((w) => /snap length/.test(w)));
});

test('the fuzzer crash file goes through: its one frame, and a warning where the capture was cut', async () => {
  const a = await analyzeFile(CRASH);
  assert.equal(a.capture.frames, 1);
  assert.equal(a.flows.length, 1);
  assert.ok(a.capture.truncated);
  assert.ok(a.warnings.some((w) => w.includes(`byte ${a.capture.truncated!.offset}`)));
});

test('a capture cut short warns with the byte offset, and keeps the flows before it', async () => {
  const bytes = new Uint8Array(readFileSync(METADATA));
  const whole = await analyzeStream(chunks(bytes, [bytes.length]));
  const cut = await analyzeStream(chunks(bytes.subarray(0, 30_000), [1000]));
  assert.ok(cut.capture.truncated);
  const at = cut.capture.truncated!.offset;
  assert.ok(at < 30_000 && at > 29_000);
  assert.ok(cut.warnings.some((w) => w.includes(`byte ${at}`)));
  assert.ok(cut.flows.length > 0 && cut.flows.length < whole.flows.length);
  assert.deepEqual(whole.warnings, []);
});

test('the same result however the stream is chunked', async () => {
  const bytes = new Uint8Array(readFileSync(METADATA));
  const one = await analyzeStream(chunks(bytes, [bytes.length]));
  const odd = await analyzeStream(chunks(bytes, [1, 7, 333, 24, 5000]));
  assert.deepEqual(odd, one);
});

test('given device addresses are used as they are; flows towards them are turned round', async () => {
  const a = await analyzeFile(METADATA, { deviceAddrs: ['8.8.8.8'] });
  assert.deepEqual(a.device, { addrs: ['8.8.8.8'], inferred: false });
  const dnsFlows = a.flows.filter((f) => f.resp.port === 53 || f.orig.port === 53);
  assert.ok(dnsFlows.length > 0);
  for (const f of dnsFlows) assert.equal(f.orig.addr, '8.8.8.8');
  const plain = await analyzeFile(METADATA);
  const before = plain.flows.find((f) => f.service === 'dns' && f.respPkts > 0)!;
  const after = a.flows.find((f) => f.uid === before.uid)!;
  assert.deepEqual([after.origBytes, after.respBytes], [before.respBytes, before.origBytes]);
});

test('not a capture at all: CaptureFormatError', async () => {
  await assert.rejects(
    analyzeStream(chunks(new Uint8Array(Buffer.from('hello, this is not a pcap file')), [64])),
    CaptureFormatError,
  );
});

test('device inference prefers private IPv4 addresses and keeps the other IP version only when it dominates', () => {
  const m = (entries: [string, number, number][]) =>
    new Map(entries.map(([addr, originated, answered]) => [addr, { originated, answered }]));
  assert.deepEqual(
    inferDevice(
      m([
        ['10.0.0.5', 40, 0],
        ['8.8.8.8', 0, 20],
        ['2001:db8::5', 10, 0],
        ['2001:db8::99', 0, 10],
        ['fe80::1', 1, 0],
        ['fe80::2', 0, 1],
      ]),
    ),
    ['10.0.0.5', '2001:db8::5'],
  );
  // A router's link-local chatter is not the phone's IPv6 address.
  assert.deepEqual(
    inferDevice(
      m([
        ['10.0.0.5', 40, 0],
        ['8.8.8.8', 0, 40],
        ['fe80::1', 1, 0],
        ['fe80::2', 1, 0],
        ['fe80::3', 0, 2],
      ]),
    ),
    ['10.0.0.5'],
  );
  assert.deepEqual(
    inferDevice(
      m([
        ['100.70.1.2', 30, 0],
        ['203.0.113.5', 0, 30],
        ['2001:db8::5', 9, 0],
        ['2001:db8::99', 0, 9],
      ]),
    ),
    ['100.70.1.2', '2001:db8::5'],
  );
  assert.deepEqual(
    inferDevice(
      m([
        ['198.51.100.1', 3, 0],
        ['203.0.113.9', 0, 3],
      ]),
    ),
    ['198.51.100.1'],
  );
  assert.deepEqual(inferDevice(new Map()), []);
});

test('local addresses: RFC 1918, CGNAT, link-local, ULA', () => {
  for (const a of [
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '100.64.0.1',
    '169.254.1.1',
    'fe80::1',
    'fd00::1',
  ]) {
    assert.ok(isLocalAddress(a), a);
  }
  for (const a of ['172.32.0.1', '8.8.8.8', '100.128.0.1', '2001:db8::1', 'ff02::1'])
    assert.ok(!isLocalAddress(a), a);
});

test('a PCAPdroid capture with app attribution: each flow carries the app that made it', async () => {
  const phone = '10.215.173.1';
  const frame = (src: string, dst: string, proto: number, l4: Uint8Array, uid: number, app: string) =>
    pcapdroidFrame(ipv4Packet({ src, dst, proto }, l4), uid, app);
  const bytes = pcapFile({ linkType: 1 }, [
    {
      ts: 1,
      data: frame(
        phone,
        '1.2.3.4',
        6,
        tcpSegment({ srcPort: 40000, dstPort: 443, flags: 0x02 }),
        10150,
        'com.whatsapp',
      ),
    },
    {
      ts: 1.1,
      data: frame(
        '1.2.3.4',
        phone,
        6,
        tcpSegment({ srcPort: 443, dstPort: 40000, flags: 0x12 }),
        10150,
        'com.whatsapp',
      ),
    },
    { ts: 2, data: frame(phone, '5.6.7.8', 17, udpDatagram(40001, 123, new Uint8Array(48)), 1000, 'system') },
  ]);
  const a = await analyzeStream(chunks(bytes, [100]));
  assert.deepEqual(
    a.flows.map((f) => [f.proto, f.app]),
    [
      ['tcp', { uid: 10150, name: 'com.whatsapp' }],
      ['udp', { uid: 1000, name: 'system' }],
    ],
  );
  assert.deepEqual(a.device, { addrs: [phone], inferred: true });
  assert.equal(a.flows[0]!.connState, 'S1');
});

test("device addresses are taken in any spelling and matched in the packets' form", async () => {
  const a = await analyzeFile(METADATA, { deviceAddrs: ['2001:0DB8:1234::0001', 'not-an-address'] });
  assert.deepEqual(a.device, { addrs: ['2001:db8:1234::1'], inferred: false });
  assert.ok(a.warnings.some((w) => w.includes('not-an-address')));
});

test('nothingToJudge says why a capture proves nothing, and is quiet when it holds flows', async () => {
  const capture = { format: 'pcap' as const, frames: 0, bytes: 24, linkTypes: [1] };
  assert.equal(
    nothingToJudge({ capture, flows: [], skipped: [] }),
    'the capture holds no packet (pcap, 24 bytes)',
  );
  assert.equal(
    nothingToJudge({
      capture: { ...capture, frames: 3, linkTypes: [147] },
      flows: [],
      skipped: [{ reason: 'unknown-linktype-147', count: 3, firstFrame: 0 }],
    }),
    'none of its 3 frames could be decoded into a connection (link type 147; skipped: unknown-linktype-147 ×3)',
  );
  const a = await analyzeFile(METADATA);
  assert.equal(nothingToJudge(a), undefined);
});
