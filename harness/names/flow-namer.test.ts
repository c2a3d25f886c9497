import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import dnsPacket from 'dns-packet';
import { FlowTable } from '../flows/flow-table.js';
import type { Packet } from '../packets/packet.js';
import type { DnsRecord } from './dns-join.js';
import { FlowNamer, type Reading } from './flow-namer.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

interface P {
  ts: number;
  src: string;
  dst: string;
  sp?: number;
  dp?: number;
  proto?: number;
  flags?: number;
  seq?: number;
  payload?: Uint8Array;
  app?: { uid: number; name: string };
}

/** A decoded packet as the packet decoder would hand it over: IPv4/IPv6 + TCP (20-byte headers) or UDP. */
function pkt(o: P): Packet {
  const proto = o.proto ?? 6;
  const payload = o.payload ?? new Uint8Array(0);
  const transportHeader = proto === 6 ? 20 : proto === 17 ? 8 : 4;
  const p: Packet = {
    ts: o.ts,
    frame: 0,
    ipVersion: o.src.includes(':') ? 6 : 4,
    src: o.src,
    dst: o.dst,
    proto,
    ipPayloadLen: transportHeader + payload.length,
    srcPort: o.sp ?? 0,
    dstPort: o.dp ?? 0,
    payload,
    payloadLen: payload.length,
    truncated: false,
  };
  if (proto === 6) p.tcp = { seq: (o.seq ?? 0) >>> 0, ack: 0, flags: o.flags ?? ACK };
  if (o.app) p.app = o.app;
  return p;
}

const PHONE = '192.168.1.10';
const SERVER = '93.184.216.34';
const text = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** A TCP connection from the phone: handshake, the client's segments, FINs. Returns the packets. */
function tcpConn(opts: {
  t0: number;
  sport: number;
  dport: number;
  dst?: string;
  isn?: number;
  segments?: { off: number; data: Uint8Array }[];
}): Packet[] {
  const isn = opts.isn ?? 1000;
  const dst = opts.dst ?? SERVER;
  const c = { src: PHONE, dst, sp: opts.sport, dp: opts.dport };
  const s = { src: dst, dst: PHONE, sp: opts.dport, dp: opts.sport };
  let n = 0;
  const next = () => opts.t0 + 0.01 * n++;
  const out = [
    pkt({ ...c, ts: next(), flags: SYN, seq: isn }),
    pkt({ ...s, ts: next(), flags: SYN | ACK, seq: 5000 }),
    pkt({ ...c, ts: next(), flags: ACK, seq: isn + 1 }),
  ];
  for (const seg of opts.segments ?? []) {
    out.push(pkt({ ...c, ts: next(), flags: ACK | PSH, seq: isn + 1 + seg.off, payload: seg.data }));
  }
  out.push(pkt({ ...c, ts: next(), flags: FIN | ACK, seq: isn + 1 + 100_000 }));
  out.push(pkt({ ...s, ts: next(), flags: FIN | ACK, seq: 5001 }));
  return out;
}

/** The flow table with the namer, as analyze wires them, fed the packets; dns() is the namer's log. */
function table(packets: Packet[]): FlowTable<Reading> & { dns(): DnsRecord[] } {
  const namer = new FlowNamer();
  const t = new FlowTable(namer);
  for (const p of packets) t.add(p);
  return Object.assign(t, { dns: () => namer.dns() });
}

/** A committed fixture of the names module: real Chromium first flights, hex encoded. */
function fixture<T>(file: string): T {
  return JSON.parse(readFileSync(`fixtures/names/${file}`, 'utf8')) as T;
}

function chromiumClientHello(): { host: string; stream: Uint8Array } {
  const f = fixture<{ host: string; stream: string }>('chromium-tls-client-hello.json');
  return { host: f.host, stream: new Uint8Array(Buffer.from(f.stream, 'hex')) };
}

function dnsResponse(
  id: number,
  question: { name: string; type: 'A' | 'AAAA' },
  answers: dnsPacket.Answer[],
): Uint8Array {
  return new Uint8Array(
    dnsPacket.encode({
      type: 'response',
      id,
      flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: [question],
      answers,
    }),
  );
}

function dnsQuery(id: number, name: string, type: 'A' | 'AAAA' = 'A'): Uint8Array {
  return new Uint8Array(
    dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type }] }),
  );
}

/** A DNS exchange over UDP between the phone and its resolver. */
function dnsExchange(
  ts: number,
  sport: number,
  query: Uint8Array,
  response: Uint8Array,
  client = PHONE,
): Packet[] {
  return [
    pkt({ ts, src: client, dst: '192.168.1.1', sp: sport, dp: 53, proto: 17, payload: query }),
    pkt({ ts: ts + 0.02, src: '192.168.1.1', dst: client, sp: 53, dp: sport, proto: 17, payload: response }),
  ];
}

test('counts packets and IP payload bytes each way, one flow per connection, sorted by start', () => {
  const a = tcpConn({ t0: 10, sport: 40000, dport: 80, segments: [{ off: 0, data: text('xyz') }] });
  const b = tcpConn({ t0: 5, sport: 40001, dport: 80 });
  const t = table([...b, ...a]);
  const flows = t.flows();
  assert.equal(flows.length, 2);
  assert.deepEqual(
    flows.map((f) => f.orig.port),
    [40001, 40000],
  );
  const fa = flows[1]!;
  assert.equal(fa.proto, 'tcp');
  assert.deepEqual(fa.orig, { addr: PHONE, port: 40000 });
  assert.deepEqual(fa.resp, { addr: SERVER, port: 80 });
  assert.equal(fa.origPkts, 4);
  assert.equal(fa.respPkts, 2);
  assert.equal(fa.origBytes, 4 * 20 + 3);
  assert.equal(fa.respBytes, 2 * 20);
  assert.equal(fa.connState, 'SF');
  assert.equal(fa.tsStart, 10);
  assert.ok(Math.abs(fa.tsEnd - 10.05) < 1e-9);
  assert.match(fa.uid, /^C[0-9a-z]+$/);
  assert.notEqual(flows[0]!.uid, fa.uid);
  assert.deepEqual(fa.names, []);
});

test('a flow first seen at its SYN-ACK is originated by the SYN-ACK receiver', () => {
  const t = table([
    pkt({ ts: 1, src: SERVER, dst: PHONE, sp: 443, dp: 50000, flags: SYN | ACK, seq: 9 }),
    pkt({ ts: 2, src: PHONE, dst: SERVER, sp: 50000, dp: 443, flags: ACK, seq: 1 }),
  ]);
  const [f] = t.flows();
  assert.deepEqual(f!.orig, { addr: PHONE, port: 50000 });
  assert.equal(f!.origPkts, 1);
  assert.equal(f!.respPkts, 1);
  assert.equal(f!.connState, 'S1');
});

test('a ClientHello split over segments, out of order and retransmitted, names the flow by SNI', () => {
  const { host, stream } = chromiumClientHello();
  const cut = [0, 300, 900, 1400, stream.length];
  const segs = cut.slice(0, -1).map((off, i) => ({ off, data: stream.subarray(off, cut[i + 1]) }));
  // Order on the wire: 2nd, 4th, 1st, 2nd again (retransmission), 3rd.
  const t = table(
    tcpConn({
      t0: 1,
      sport: 41000,
      dport: 443,
      isn: 0xfffffe00,
      segments: [segs[1]!, segs[3]!, segs[0]!, segs[1]!, segs[2]!],
    }),
  );
  const [f] = t.flows();
  assert.equal(f!.service, 'tls');
  assert.deepEqual(f!.names, [{ name: host, source: 'sni' }]);
  assert.equal(f!.tls?.sni, host);
  assert.ok((f!.tls?.alpn.length ?? 0) > 0);
  assert.equal(f!.connState, 'SF');
});

test('a ClientHello missing its middle segment gives no name', () => {
  const { stream } = chromiumClientHello();
  const t = table(
    tcpConn({
      t0: 1,
      sport: 41001,
      dport: 443,
      segments: [
        { off: 0, data: stream.subarray(0, 500) },
        { off: 1000, data: stream.subarray(1000) },
      ],
    }),
  );
  const [f] = t.flows();
  assert.deepEqual(f!.names, []);
  assert.equal(f!.service, undefined);
});

test('an HTTP request names the flow by its Host header and is kept as evidence', () => {
  const req = text('GET /collect?id=1 HTTP/1.1\r\nHost: Tracker.Example.com:8080\r\nUser-Agent: x\r\n\r\n');
  const t = table(
    tcpConn({
      t0: 1,
      sport: 41002,
      dport: 8080,
      segments: [
        { off: 0, data: req.subarray(0, 20) },
        { off: 20, data: req.subarray(20) },
      ],
    }),
  );
  const [f] = t.flows();
  assert.equal(f!.service, 'http');
  assert.deepEqual(f!.names, [{ name: 'tracker.example.com', source: 'http-host' }]);
  assert.deepEqual(f!.http, {
    method: 'GET',
    target: '/collect?id=1',
    version: 'HTTP/1.1',
    host: 'tracker.example.com',
  });
});

test('the HTTP/2 prior-knowledge preface marks the flow http2', () => {
  const t = table(
    tcpConn({
      t0: 1,
      sport: 41003,
      dport: 80,
      segments: [{ off: 0, data: text('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0') }],
    }),
  );
  assert.equal(t.flows()[0]!.service, 'http2');
});

test('a binary protocol gets no service and no names', () => {
  const t = table(
    tcpConn({ t0: 1, sport: 41004, dport: 5228, segments: [{ off: 0, data: bytesOf(0x05, 0x01, 0x00) }] }),
  );
  const [f] = t.flows();
  assert.equal(f!.service, undefined);
  assert.deepEqual(f!.names, []);
});

function bytesOf(...b: number[]): Uint8Array {
  return new Uint8Array(b);
}

test('picked up mid-stream with the client speaking second: the ClientHello sender becomes the originator', () => {
  const { host, stream } = chromiumClientHello();
  const t = table([
    // The server's ACK is the first thing seen, from a high port to a high port (no hint who serves).
    pkt({ ts: 1, src: SERVER, dst: PHONE, sp: 8443, dp: 50001, flags: ACK, seq: 77 }),
    pkt({ ts: 2, src: PHONE, dst: SERVER, sp: 50001, dp: 8443, flags: ACK | PSH, seq: 1, payload: stream }),
  ]);
  const [f] = t.flows();
  assert.deepEqual(f!.orig, { addr: PHONE, port: 50001 });
  assert.deepEqual(f!.names, [{ name: host, source: 'sni' }]);
  assert.equal(f!.origPkts, 1);
  assert.equal(f!.origBytes, 20 + stream.length);
});

test('a TCP connection with no SYN in the capture is midstream; one whose handshake is seen, or UDP, is not', () => {
  const t = table([
    // Already open when the capture began: data, then FINs.
    pkt({
      ts: 1,
      src: PHONE,
      dst: SERVER,
      sp: 50002,
      dp: 443,
      flags: ACK | PSH,
      seq: 900,
      payload: text('x'),
    }),
    pkt({ ts: 2, src: SERVER, dst: PHONE, sp: 443, dp: 50002, flags: FIN | ACK, seq: 70 }),
    pkt({ ts: 3, src: PHONE, dst: SERVER, sp: 50002, dp: 443, flags: FIN | ACK, seq: 901 }),
    ...tcpConn({ t0: 4, sport: 50003, dport: 443 }),
    // Picked up at its SYN-ACK: the handshake is there, if half of it.
    pkt({ ts: 6, src: SERVER, dst: PHONE, sp: 443, dp: 50004, flags: SYN | ACK, seq: 5 }),
    pkt({ ts: 7, src: PHONE, dst: SERVER, sp: 40000, dp: 9999, proto: 17, payload: text('udp') }),
  ]);
  const flows = t.flows();
  assert.deepEqual(
    flows.map((f) => [f.orig.port, f.midstream, f.connState]),
    [
      [50002, true, 'SF'],
      [50003, undefined, 'SF'],
      [50004, undefined, 'OTH'],
      [40000, undefined, undefined],
    ],
  );
});

test('a QUIC flow whose client speaks first in a 1-RTT packet is midstream; other UDP is not', () => {
  const shortHeader = new Uint8Array(40).fill(7);
  shortHeader[0] = 0x41; // header form 0, fixed bit 1
  const t = table([
    // The server's packet comes first, then the phone's: both 1-RTT.
    pkt({ ts: 1, src: SERVER, dst: PHONE, sp: 443, dp: 51000, proto: 17, payload: shortHeader }),
    pkt({ ts: 2, src: PHONE, dst: SERVER, sp: 51000, dp: 443, proto: 17, payload: shortHeader }),
    // Too short to be QUIC, to port 443.
    pkt({
      ts: 3,
      src: PHONE,
      dst: SERVER,
      sp: 51001,
      dp: 443,
      proto: 17,
      payload: shortHeader.subarray(0, 12),
    }),
    // The same bytes to another port.
    pkt({ ts: 4, src: PHONE, dst: SERVER, sp: 51002, dp: 9443, proto: 17, payload: shortHeader }),
  ]);
  assert.deepEqual(
    t.flows().map((f) => [f.orig.port, f.resp.port, f.midstream, f.names.length]),
    [
      [51000, 443, true, 0],
      [51001, 443, undefined, 0],
      [51002, 9443, undefined, 0],
    ],
  );
});

test('a new SYN on a finished 5-tuple starts a new flow; a SYN on an open one does not', () => {
  const first = tcpConn({ t0: 1, sport: 42000, dport: 80 });
  const second = tcpConn({ t0: 50, sport: 42000, dport: 80, isn: 99 });
  const t = table([...first, ...second]);
  const flows = t.flows();
  assert.equal(flows.length, 2);
  assert.ok(flows.every((f) => f.connState === 'SF' && f.origPkts === 3 && f.respPkts === 2));
  const open = table([
    pkt({ ts: 1, src: PHONE, dst: SERVER, sp: 42001, dp: 80, flags: SYN, seq: 5 }),
    pkt({ ts: 2, src: PHONE, dst: SERVER, sp: 42001, dp: 80, flags: SYN, seq: 5 }),
  ]);
  assert.equal(open.flows().length, 1);
  assert.equal(open.flows()[0]!.connState, 'S0');
});

test('a UDP flow silent for more than 60 s starts a new flow; 59 s does not', () => {
  const u = (ts: number) =>
    pkt({ ts, src: PHONE, dst: SERVER, sp: 5000, dp: 6000, proto: 17, payload: bytesOf(1) });
  assert.equal(table([u(0), u(59), u(118)]).flows().length, 1);
  const split = table([u(0), u(61), u(62)]).flows();
  assert.equal(split.length, 2);
  assert.deepEqual(
    split.map((f) => f.origPkts),
    [1, 2],
  );
});

test('ICMP echo request and reply make one flow; ports hold type and code', () => {
  const t = table([
    pkt({ ts: 1, src: PHONE, dst: '1.1.1.1', sp: 8, dp: 0, proto: 1 }),
    pkt({ ts: 1.01, src: '1.1.1.1', dst: PHONE, sp: 0, dp: 0, proto: 1 }),
    pkt({ ts: 2, src: PHONE, dst: '1.1.1.1', sp: 3, dp: 3, proto: 1 }),
  ]);
  const flows = t.flows();
  assert.equal(flows.length, 2);
  assert.equal(flows[0]!.proto, 'icmp');
  assert.deepEqual([flows[0]!.origPkts, flows[0]!.respPkts], [1, 1]);
  assert.deepEqual([flows[0]!.orig.port, flows[0]!.resp.port], [8, 0]);
  assert.equal(flows[0]!.connState, undefined);
});

test('DNS answers name later flows, following CNAME chains back to the name asked', () => {
  const resp = dnsResponse(7, { name: 'www.shop.example', type: 'A' }, [
    { type: 'CNAME', name: 'www.shop.example', data: 'shop.cdn.example.net' },
    { type: 'CNAME', name: 'shop.cdn.example.net', data: 'edge7.cdn.example.net' },
    { type: 'A', name: 'edge7.cdn.example.net', data: SERVER, ttl: 60 },
  ]);
  const t = table([
    ...dnsExchange(1, 33000, dnsQuery(7, 'www.shop.example'), resp),
    ...tcpConn({ t0: 2, sport: 43000, dport: 443 }),
  ]);
  const [dnsFlow, web] = t.flows();
  assert.equal(dnsFlow!.service, 'dns');
  assert.deepEqual(dnsFlow!.names, [{ name: 'www.shop.example', source: 'dns-query' }]);
  assert.deepEqual(web!.names, [{ name: 'www.shop.example', source: 'dns' }]);
  const [rec] = t.dns();
  assert.deepEqual(rec, {
    ts: 1.02,
    client: PHONE,
    server: '192.168.1.1',
    uid: dnsFlow!.uid,
    query: 'www.shop.example',
    type: 'A',
    rcode: 0,
    answers: ['CNAME shop.cdn.example.net', 'CNAME edge7.cdn.example.net', `A ${SERVER}`],
  });
});

test('the DNS name is the one resolved most recently before the flow started, by that client', () => {
  const answerFor = (id: number, name: string) =>
    dnsResponse(id, { name, type: 'A' }, [{ type: 'A', name, data: SERVER, ttl: 60 }]);
  const t = table([
    ...dnsExchange(10, 33001, dnsQuery(1, 'first.example'), answerFor(1, 'first.example')),
    ...tcpConn({ t0: 15, sport: 43001, dport: 443 }),
    ...dnsExchange(20, 33002, dnsQuery(2, 'second.example'), answerFor(2, 'second.example')),
    ...tcpConn({ t0: 25, sport: 43002, dport: 443 }),
    // Another client's lookup says nothing about the phone's flows.
    ...dnsExchange(30, 33003, dnsQuery(3, 'other.example'), answerFor(3, 'other.example'), '192.168.1.77'),
    ...tcpConn({ t0: 35, sport: 43003, dport: 443 }),
  ]);
  const named = t
    .flows()
    .filter((f) => f.proto === 'tcp')
    .map((f) => f.names.map((n) => `${n.source}:${n.name}`).join(','));
  assert.deepEqual(named, ['dns:first.example', 'dns:second.example', 'dns:second.example']);
  const early = table([
    ...tcpConn({ t0: 1, sport: 43004, dport: 443 }),
    ...dnsExchange(10, 33004, dnsQuery(1, 'late.example'), answerFor(1, 'late.example')),
  ]);
  assert.deepEqual(early.flows()[0]!.names, [], 'an answer after the flow started does not name it');
});

test('HTTPS record address hints name flows too', () => {
  const q = dnsQuery(9, 'api.example', 'A');
  const t = table([
    ...dnsExchange(1, 33010, q, httpsResponse(9, 'api.example', '198.51.100.7')),
    ...tcpConn({ t0: 2, sport: 43010, dport: 443, dst: '198.51.100.7' }),
  ]);
  const web = t.flows().find((f) => f.proto === 'tcp')!;
  assert.deepEqual(web.names, [{ name: 'api.example', source: 'dns' }]);
});

/** A response with one HTTPS record (priority 1, target ".", ipv4hint) for name. */
function httpsResponse(id: number, name: string, hint: string): Uint8Array {
  const labels = Buffer.concat([
    ...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const rdata = Buffer.concat([
    Buffer.from([0, 1, 0]), // priority 1, target "."
    Buffer.from([0, 4, 0, 4]), // ipv4hint, 4 bytes
    Buffer.from(hint.split('.').map(Number)),
  ]);
  const header = Buffer.from([id >> 8, id & 255, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
  const question = Buffer.concat([labels, Buffer.from([0, 65, 0, 1])]);
  const answer = Buffer.concat([
    Buffer.from([0xc0, 12]), // name: pointer to the question
    Buffer.from([0, 65, 0, 1, 0, 0, 0, 60, rdata.length >> 8, rdata.length & 255]),
    rdata,
  ]);
  return new Uint8Array(Buffer.concat([header, question, answer]));
}

test('DNS over TCP is read in both directions, messages split by their length prefix', () => {
  const q = dnsQuery(4, 'tcp.example');
  const r = dnsResponse(4, { name: 'tcp.example', type: 'A' }, [
    { type: 'A', name: 'tcp.example', data: '203.0.113.9' },
  ]);
  const framed = (m: Uint8Array) =>
    new Uint8Array(Buffer.concat([Buffer.from([m.length >> 8, m.length & 255]), m]));
  const c = { src: PHONE, dst: '8.8.8.8', sp: 44000, dp: 53 };
  const s = { src: '8.8.8.8', dst: PHONE, sp: 53, dp: 44000 };
  const qf = framed(q);
  const rf = framed(r);
  const t = table([
    pkt({ ...c, ts: 1, flags: SYN, seq: 10 }),
    pkt({ ...s, ts: 1.1, flags: SYN | ACK, seq: 500 }),
    pkt({ ...c, ts: 1.2, flags: ACK | PSH, seq: 11, payload: qf.subarray(0, 5) }),
    pkt({ ...c, ts: 1.3, flags: ACK | PSH, seq: 16, payload: qf.subarray(5) }),
    pkt({ ...s, ts: 1.4, flags: ACK | PSH, seq: 501, payload: rf }),
    ...tcpConn({ t0: 3, sport: 44001, dport: 443, dst: '203.0.113.9' }),
  ]);
  const [dnsFlow, web] = t.flows();
  assert.equal(dnsFlow!.service, 'dns');
  assert.deepEqual(dnsFlow!.names, [{ name: 'tcp.example', source: 'dns-query' }]);
  assert.equal(t.dns().length, 1);
  assert.deepEqual(web!.names, [{ name: 'tcp.example', source: 'dns' }]);
});

test('DNS on an unusual port counts only once a query and its response pair up', () => {
  const q = dnsQuery(11, 'odd.example');
  const r = dnsResponse(11, { name: 'odd.example', type: 'A' }, [
    { type: 'A', name: 'odd.example', data: '203.0.113.10' },
  ]);
  const c = { src: PHONE, dst: '10.0.0.53', sp: 45000, dp: 5300, proto: 17 };
  const s = { src: '10.0.0.53', dst: PHONE, sp: 5300, dp: 45000, proto: 17 };
  const t = table([pkt({ ...c, ts: 1, payload: q }), pkt({ ...s, ts: 1.1, payload: r })]);
  assert.equal(t.flows()[0]!.service, 'dns');
  assert.equal(t.dns().length, 1);
  const unanswered = table([
    pkt({ ...c, ts: 1, payload: q }),
    pkt({ ...s, ts: 1.1, payload: bytesOf(1, 2, 3) }),
  ]);
  assert.equal(unanswered.flows()[0]!.service, undefined);
  assert.equal(unanswered.dns().length, 0);
});

test('a QUIC Initial names the flow by its encrypted ClientHello (Chromium, two datagrams)', () => {
  const f = fixture<{ host: string; datagrams: string[] }>('chromium-quic-initials.json');
  const t = table(
    f.datagrams.map((hex, i) =>
      pkt({
        ts: 1 + i / 100,
        src: PHONE,
        dst: SERVER,
        sp: 46000,
        dp: 443,
        proto: 17,
        payload: Buffer.from(hex, 'hex'),
      }),
    ),
  );
  const [flow] = t.flows();
  assert.equal(flow!.service, 'quic');
  assert.deepEqual(flow!.names, [{ name: f.host, source: 'quic-sni' }]);
});

test('with device addresses, flows towards the device are turned round and named from its side', () => {
  const answer = dnsResponse(1, { name: 'push.example', type: 'A' }, [
    { type: 'A', name: 'push.example', data: SERVER },
  ]);
  const t = table([
    ...dnsExchange(1, 33020, dnsQuery(1, 'push.example'), answer),
    // Mid-stream: the server's segment came first, between two high ports.
    pkt({
      ts: 5,
      src: SERVER,
      dst: PHONE,
      sp: 5228,
      dp: 50002,
      flags: ACK | PSH,
      seq: 1,
      payload: bytesOf(9, 9),
    }),
    pkt({ ts: 6, src: PHONE, dst: SERVER, sp: 50002, dp: 5228, flags: ACK, seq: 1 }),
  ]);
  const asSeen = t.flows().find((f) => f.proto === 'tcp')!;
  assert.equal(asSeen.orig.addr, SERVER);
  const turned = t.flows(new Set([PHONE])).find((f) => f.proto === 'tcp')!;
  assert.deepEqual(turned.orig, { addr: PHONE, port: 50002 });
  assert.deepEqual([turned.origPkts, turned.respPkts, turned.origBytes, turned.respBytes], [1, 1, 20, 22]);
  assert.deepEqual(turned.names, [{ name: 'push.example', source: 'dns' }]);
});

test('the app tag is taken from the first packet that has one', () => {
  const a = { uid: 10123, name: 'com.example.app' };
  const t = table([
    pkt({ ts: 1, src: PHONE, dst: SERVER, sp: 47000, dp: 443, flags: SYN }),
    pkt({ ts: 2, src: SERVER, dst: PHONE, sp: 443, dp: 47000, flags: SYN | ACK, app: a }),
    pkt({ ts: 3, src: PHONE, dst: SERVER, sp: 47000, dp: 443, app: { uid: 1, name: 'other' } }),
  ]);
  assert.deepEqual(t.flows()[0]!.app, a);
});

test('a rejected connection and a RST-aborted one get their conn states', () => {
  const t = table([
    pkt({ ts: 1, src: PHONE, dst: SERVER, sp: 48000, dp: 81, flags: SYN }),
    pkt({ ts: 1.1, src: SERVER, dst: PHONE, sp: 81, dp: 48000, flags: RST | ACK }),
  ]);
  assert.equal(t.flows()[0]!.connState, 'REJ');
});

test('flows({ release: true }) hands the flows over and leaves the table empty', () => {
  const t = table(tcpConn({ t0: 1, sport: 49000, dport: 80 }));
  const kept = t.flows();
  const released = t.flows(undefined, { release: true });
  assert.deepEqual(released, kept);
  assert.deepEqual(t.flows(), []);
  assert.throws(() => t.add(pkt({ ts: 9, src: PHONE, dst: SERVER, sp: 1, dp: 2 })));
});

test('table sweeps during long captures keep finished TCP connections for their late packets', () => {
  const t = new FlowTable(new FlowNamer());
  const conn = tcpConn({ t0: 1, sport: 49100, dport: 443 });
  for (const p of conn) t.add(p);
  // 70,000 one-packet UDP flows in between: the table is swept at least once.
  for (let i = 0; i < 70_000; i++) {
    t.add(
      pkt({
        ts: 2 + i / 10_000,
        src: PHONE,
        dst: SERVER,
        sp: 1024 + (i % 60_000),
        dp: 7000 + Math.floor(i / 60_000),
        proto: 17,
      }),
    );
  }
  // The last ACK of the closed connection, 9 s later: still that connection.
  t.add(pkt({ ts: 10, src: PHONE, dst: SERVER, sp: 49100, dp: 443, flags: ACK, seq: 2 }));
  const flows = t.flows();
  assert.equal(flows.length, 70_001);
  const tcp = flows.filter((f) => f.proto === 'tcp');
  assert.equal(tcp.length, 1);
  assert.equal(tcp[0]!.origPkts, 4);
  assert.equal(tcp[0]!.tsEnd, 10);
});

test('a ClientHello carried on the SYN (TCP Fast Open) names the flow', () => {
  const { host, stream } = chromiumClientHello();
  const t = table([
    pkt({ ts: 1, src: PHONE, dst: SERVER, sp: 49200, dp: 443, flags: SYN, seq: 700, payload: stream }),
    pkt({ ts: 1.1, src: SERVER, dst: PHONE, sp: 443, dp: 49200, flags: SYN | ACK, seq: 1 }),
  ]);
  assert.deepEqual(t.flows()[0]!.names, [{ name: host, source: 'sni' }]);
});

test('a ClientHello cut short by the snap length gives no name; bytes count what the IP header declares', () => {
  const { stream } = chromiumClientHello();
  const cut = pkt({
    ts: 1.03,
    src: PHONE,
    dst: SERVER,
    sp: 49201,
    dp: 443,
    flags: ACK | PSH,
    seq: 1,
    payload: stream.subarray(0, 96),
  });
  cut.payloadLen = stream.length;
  cut.ipPayloadLen = 20 + stream.length;
  cut.truncated = true;
  const t = table([
    pkt({ ts: 1, src: PHONE, dst: SERVER, sp: 49201, dp: 443, flags: SYN, seq: 0 }),
    pkt({ ts: 1.01, src: SERVER, dst: PHONE, sp: 443, dp: 49201, flags: SYN | ACK, seq: 0 }),
    cut,
  ]);
  const [f] = t.flows();
  assert.deepEqual(f!.names, []);
  assert.equal(f!.origBytes, 20 + 20 + stream.length);
});

test('encrypted DNS is flagged: DoT by its port, DoH by a resolver name in the SNI', () => {
  const t = table([
    ...tcpConn({ t0: 1, sport: 49300, dport: 853, dst: '1.1.1.1' }),
    ...tcpConn({
      t0: 2,
      sport: 49301,
      dport: 443,
      dst: '8.8.8.8',
      segments: [{ off: 0, data: clientHelloFor('dns.google') }],
    }),
    ...tcpConn({ t0: 3, sport: 49302, dport: 443 }),
  ]);
  assert.deepEqual(
    t.flows().map((f) => f.encryptedDns),
    ['dot', 'doh', undefined],
  );
});

/** A minimal TLS 1.2 ClientHello record with one server_name. */
function clientHelloFor(host: string): Uint8Array {
  const name = Buffer.from(host);
  const sniList = Buffer.concat([Buffer.from([0, name.length >> 8, name.length & 255]), name]);
  const sniExt = Buffer.concat([
    Buffer.from([
      0,
      0,
      (sniList.length + 2) >> 8,
      (sniList.length + 2) & 255,
      sniList.length >> 8,
      sniList.length & 255,
    ]),
    sniList,
  ]);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7), // random
    Buffer.from([0]), // session id
    Buffer.from([0, 2, 0x13, 0x01]), // one cipher suite
    Buffer.from([1, 0]), // null compression
    Buffer.from([sniExt.length >> 8, sniExt.length & 255]),
    sniExt,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 255]), body]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x16, 3, 1, hs.length >> 8, hs.length & 255]), hs]));
}

test('through an HTTP proxy: the CONNECT target and the ClientHello inside the tunnel both name the flow', () => {
  const { host, stream } = chromiumClientHello();
  const connect = text('CONNECT 203.0.113.9:443 HTTP/1.1\r\nHost: Tunnelled.Example:443\r\n\r\n');
  const at = connect.length;
  // The request, then the ClientHello in three segments, the last two out of order.
  const t = table(
    tcpConn({
      t0: 1,
      sport: 41100,
      dport: 8080,
      segments: [
        { off: 0, data: connect },
        { off: at, data: stream.subarray(0, 400) },
        { off: at + 900, data: stream.subarray(900) },
        { off: at + 400, data: stream.subarray(400, 900) },
      ],
    }),
  );
  const [f] = t.flows();
  assert.equal(f!.service, 'http');
  assert.deepEqual(f!.names, [
    { name: 'tunnelled.example', source: 'http-host' },
    { name: host, source: 'sni' },
  ]);
  assert.equal(f!.http?.method, 'CONNECT');
  assert.equal(f!.http?.target, '203.0.113.9:443');
  assert.equal(f!.tls?.sni, host);
});

test('a CONNECT request and its ClientHello in one segment name the flow at once', () => {
  const hello = clientHelloFor('inner.example.net');
  const connect = text('CONNECT inner.example.net:443 HTTP/1.1\r\n\r\n');
  const both = new Uint8Array(connect.length + hello.length);
  both.set(connect);
  both.set(hello, connect.length);
  const [f] = table(
    tcpConn({ t0: 1, sport: 41101, dport: 3128, segments: [{ off: 0, data: both }] }),
  ).flows();
  assert.deepEqual(f!.names, [
    { name: 'inner.example.net', source: 'http-host' },
    { name: 'inner.example.net', source: 'sni' },
  ]);
});

test('a CONNECT tunnel carrying something other than TLS keeps only the CONNECT target', () => {
  const connect = text('CONNECT mail.example:25 HTTP/1.1\r\nHost: mail.example:25\r\n\r\n');
  const [f] = table(
    tcpConn({
      t0: 1,
      sport: 41102,
      dport: 8080,
      segments: [
        { off: 0, data: connect },
        { off: connect.length, data: text('EHLO phone\r\n') },
      ],
    }),
  ).flows();
  assert.deepEqual(f!.names, [{ name: 'mail.example', source: 'http-host' }]);
  assert.equal(f!.tls, undefined);
  assert.equal(f!.http?.method, 'CONNECT');
});
