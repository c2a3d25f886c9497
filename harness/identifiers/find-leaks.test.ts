import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { pcapFile } from '../../testing/capture-writer.js';
import { ipv4Packet, tcpSegment, udpDatagram } from '../../testing/packet-builder.js';
import { type Analysis, analyzeStream } from '../analyze.js';
import type { SoughtIdentifier } from './find-leaks.js';

const PHONE = '10.213.7.20';
const SOUGHT: SoughtIdentifier[] = [
  { kind: 'imei', value: '868523061234565', slot: 0 },
  { kind: 'android-id', value: '3f6a1c92b07e45d8' },
  { kind: 'wifi-mac', value: 'aa:bb:cc:0d:1e:2f' },
  { kind: 'serial', value: 'a1b2c3d4' },
];
const PACKAGES = [
  'com.xiaomi.xmsf',
  'com.miui.analytics',
  'com.android.chrome',
  'com.whatsapp',
  'com.mi.globalbrowser',
  'com.miui.securitycenter',
  'com.google.android.gms',
];

type Frame = { ts: number; data: Uint8Array };

/** A TCP connection from the phone: handshake, then the client's payloads as given (seq order or not). */
function tcpFlow(
  server: string,
  sport: number,
  dport: number,
  t0: number,
  segments: { at: number; bytes: Uint8Array }[],
): Frame[] {
  const isn = 1000;
  const frames: Frame[] = [
    {
      ts: t0,
      data: ipv4Packet(
        { src: PHONE, dst: server, proto: 6 },
        tcpSegment({ srcPort: sport, dstPort: dport, seq: isn, flags: 0x02 }),
      ),
    },
    {
      ts: t0 + 0.01,
      data: ipv4Packet(
        { src: server, dst: PHONE, proto: 6 },
        tcpSegment({ srcPort: dport, dstPort: sport, seq: 5000, ack: isn + 1, flags: 0x12 }),
      ),
    },
  ];
  for (const [i, s] of segments.entries()) {
    frames.push({
      ts: t0 + 0.02 + i * 0.01,
      data: ipv4Packet(
        { src: PHONE, dst: server, proto: 6 },
        tcpSegment({ srcPort: sport, dstPort: dport, seq: isn + 1 + s.at, flags: 0x18 }, s.bytes),
      ),
    });
  }
  return frames;
}

/** Splits bytes into segments at the given offsets. */
function split(b: Buffer, ...at: number[]): { at: number; bytes: Uint8Array }[] {
  const cuts = [0, ...at, b.length];
  return cuts.slice(0, -1).map((c, i) => ({ at: c, bytes: b.subarray(c, cuts[i + 1]) }));
}

function dnsQuery(labels: string[]): Uint8Array {
  const q = Buffer.concat([
    Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  return udpDatagram(41000, 53, q);
}

async function analyse(frames: Frame[], capBytes?: number): Promise<Analysis> {
  const bytes = pcapFile(
    { linkType: 101 },
    frames.sort((a, b) => a.ts - b.ts),
  );
  return analyzeStream(
    (async function* () {
      yield bytes;
    })(),
    {
      deviceAddrs: [PHONE],
      identifiers: { sought: SOUGHT, key: 'test-key', packages: PACKAGES, ...(capBytes ? { capBytes } : {}) },
    },
  );
}

const leakLines = (a: Analysis) =>
  (a.identifiers?.leaks ?? []).map((l) => `${l.kind} | ${l.place} | ${l.encoding} | ${l.count}`).sort();

describe('the identifier search over a capture', () => {
  it('names each leak by kind, place and encoding, in every place the studies found them', async () => {
    const imei = '868523061234565';
    const json = gzipSync(
      JSON.stringify({
        device: { h: createHash('sha256').update(imei).digest('hex') },
        apps: PACKAGES.slice(0, 6),
      }),
    );
    const post = Buffer.concat([
      Buffer.from(
        `POST /v2/report HTTP/1.1\r\nHost: data.example.test\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${json.length}\r\n` +
          `Cookie: lang=en; uid=${Buffer.from('3f6a1c92b07e45d8').toString('base64')}\r\n` +
          `X-Dev: ${createHash('md5').update('aabbcc0d1e2f').digest('hex')}\r\n\r\n`,
      ),
      json,
    ]);
    const get = Buffer.from(`GET /r?imei=${imei}&x=1 HTTP/1.1\r\nHost: a.example.test\r\n\r\n`);
    // The IMEI crosses a segment boundary; the segments come out of order, one twice.
    const getSegs = split(get, 12, 20);
    const frames = [
      ...tcpFlow('203.0.113.5', 40001, 80, 1, [getSegs[0]!, getSegs[2]!, getSegs[1]!, getSegs[1]!]),
      ...tcpFlow('203.0.113.6', 40002, 80, 2, split(post, 100)),
      {
        ts: 3,
        data: ipv4Packet(
          { src: PHONE, dst: '10.213.7.1', proto: 17 },
          dnsQuery([Buffer.from('a1b2c3d4').toString('hex'), 'c', 'evil', 'test']),
        ),
      },
    ];
    const a = await analyse(frames);
    assert.deepEqual(leakLines(a), [
      'android-id | header Cookie key uid | base64(plain) | 1',
      'app-list | body | gzip(plain) | 1',
      'imei | URL query imei | plain | 1',
      'imei | body JSON $.device.h | gzip(json(sha256(plain))) | 1',
      'serial | DNS label 1 | hex(plain) | 1',
      'wifi-mac | header X-Dev | md5(lower(no separator)) | 1',
    ]);
    const imeiLeak = a.identifiers!.leaks.find((l) => l.place === 'URL query imei')!;
    assert.equal(imeiLeak.masked, '868…565');
    assert.equal(imeiLeak.slot, 0);
    assert.equal(imeiLeak.flow, a.flows.find((f) => f.resp.addr === '203.0.113.5')!.uid);
    assert.ok(!JSON.stringify(a.identifiers).includes(imei), 'no raw value in the search results');
    assert.ok(!JSON.stringify(a.identifiers).includes('3f6a1c92b07e45d8'));
    // The flows keep the request as evidence, with the value masked.
    const get5 = a.flows.find((f) => f.resp.addr === '203.0.113.5')!;
    assert.match(JSON.stringify(get5.http), /imei=868…565/);
    assert.ok(!JSON.stringify(a.flows).includes(imei), 'no raw value in the flows');
  });

  it('searches the raw bytes of other protocols, each way, across segments; a random 15-digit number is no IMEI', async () => {
    const push = Buffer.from('\x10\x20\x00\x04MQTT\x04\x02client/868523061234565/up');
    let other = '';
    while (other.length < 15) other += Math.floor(Math.random() * 10);
    if (other.startsWith('86852306123456')) other = '123456789012345';
    const frames = [
      ...tcpFlow('203.0.113.9', 40003, 1883, 1, split(push, 20)),
      ...tcpFlow('203.0.113.10', 40004, 80, 2, [
        { at: 0, bytes: Buffer.from(`GET /r?imei=${other} HTTP/1.1\r\n\r\n`) },
      ]),
    ];
    const a = await analyse(frames);
    assert.deepEqual(leakLines(a), ['imei | bytes client→server | plain | 1']);
  });

  it('searches each side when it closes: a FIN before a missing segment waits for it; a RST ends both sides', async () => {
    const get = Buffer.from('GET /r?imei=868523061234565 HTTP/1.1\r\nHost: a.example.test\r\n\r\n');
    const [first, second] = split(get, 15);
    const frames = tcpFlow('203.0.113.20', 40010, 80, 1, [first!]);
    const seg = (ts: number, from: 'phone' | 'server', seq: number, flags: number, bytes?: Buffer) => ({
      ts,
      data: ipv4Packet(
        from === 'phone'
          ? { src: PHONE, dst: '203.0.113.20', proto: 6 }
          : { src: '203.0.113.20', dst: PHONE, proto: 6 },
        tcpSegment(
          from === 'phone'
            ? { srcPort: 40010, dstPort: 80, seq, flags }
            : { srcPort: 80, dstPort: 40010, seq, flags },
          bytes,
        ),
      ),
    });
    // The phone's FIN overtakes its second segment; the server answers with the serial, then resets.
    frames.push(seg(1.1, 'phone', 1001 + get.length, 0x11));
    frames.push(seg(1.2, 'phone', 1001 + 15, 0x18, second!.bytes as Buffer));
    frames.push(seg(1.3, 'server', 5001, 0x18, Buffer.from('HTTP/1.1 200 OK\r\n\r\nsn=a1b2c3d4')));
    frames.push(seg(1.4, 'server', 5001 + 30, 0x14));
    const a = await analyse(frames);
    assert.deepEqual(leakLines(a), [
      'imei | URL query imei | plain | 1',
      'serial | bytes server→client | plain | 1',
    ]);
    assert.deepEqual(a.identifiers!.notSearched, { flows: 0, overCap: 0, missing: 0 });
    assert.equal(a.identifiers!.searched.bytes, get.length + 30);
  });

  it('counts encrypted flows with their bytes, and reports the bytes past the cap', async () => {
    const tls = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x10]), Buffer.alloc(16, 7)]);
    const big = Buffer.concat([
      Buffer.from('POST /up HTTP/1.1\r\nContent-Length: 3000\r\n\r\n'),
      Buffer.alloc(3000, 0x61),
    ]);
    const frames = [
      ...tcpFlow('203.0.113.11', 40005, 443, 1, [{ at: 0, bytes: tls }]),
      ...tcpFlow('203.0.113.12', 40006, 80, 2, split(big, 1000, 2000, 3000)),
    ];
    const a = await analyse(frames, 2048);
    const id = a.identifiers!;
    assert.deepEqual([id.encrypted.flows, id.encrypted.tls], [1, 1]);
    assert.ok(id.encrypted.bytes >= tls.length, `encrypted bytes ${id.encrypted.bytes}`);
    assert.equal(id.notSearched.flows, 1);
    assert.equal(id.notSearched.overCap, big.length - 2048);
    assert.ok(
      a.warnings.some((w) => w.startsWith('1 flows were not searched whole for identifiers')),
      JSON.stringify(a.warnings),
    );
  });

  it('without identifiers the analysis is as before: no search, no field', async () => {
    const bytes = pcapFile(
      { linkType: 101 },
      tcpFlow('203.0.113.5', 40001, 80, 1, [{ at: 0, bytes: Buffer.from('GET / HTTP/1.1\r\n\r\n') }]),
    );
    const a = await analyzeStream(
      (async function* () {
        yield bytes;
      })(),
      { deviceAddrs: [PHONE] },
    );
    assert.equal(a.identifiers, undefined);
    assert.equal(a.flows.length, 1);
  });
});
