import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import { chromiumQuicFixture, hexFixture } from '../../testing/names-test-data.js';
import {
  deriveClientInitialKeys,
  looksLikeQuicInitial,
  QUIC_V1,
  QUIC_V2,
  QuicInitialReader,
} from './quic-initial.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const RFC_DCID = Buffer.from('8394c8f03e515708', 'hex');

/** RFC 9001 A.2 / RFC 9369 A.2: the client's CRYPTO frame, padded with PADDING to 1162 bytes. */
const RFC_CRYPTO_FRAME = Buffer.from(
  '060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e86804fe3a47f06a2b69484c0000041301130201' +
    '0000c000000010000e00000b6578616d706c652e636f6dff01000100000a00080006001d0017001800100007000504616c70' +
    '6e000500050100000000003300260024001d00209370b2c9caa47fbabaf4559fedba753de171fa71f50f1ce15d43e994ec74' +
    'd748002b0003020304000d0010000e0403050306030203080408050806002d00020101001c00024001003900320408ffffff' +
    'ffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff',
  'hex',
);

function readAll(datagrams: Uint8Array[]): QuicInitialReader {
  const r = new QuicInitialReader();
  for (const d of datagrams) r.push(d);
  return r;
}

/** A QUIC varint in 1, 2 or 4 bytes. */
function varint(v: number): number[] {
  if (v < 0x40) return [v];
  if (v < 0x4000) return [0x40 | (v >> 8), v & 0xff];
  return [0x80 | (v >>> 24), (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

/**
 * Protects a client Initial the way a client does (RFC 9001 §5.3–5.4), with a 4-byte packet
 * number. Checked below against the RFC's own protected packets before it is used to build others.
 */
function protectInitial(version: number, dcid: Uint8Array, pn: number, payload: Uint8Array): Uint8Array {
  const k = deriveClientInitialKeys(dcid, version);
  const typeBits = version === QUIC_V2 ? 1 : 0;
  const length = 4 + payload.length + 16;
  const header = Uint8Array.from([
    0xc0 | (typeBits << 4) | 3,
    ...[24, 16, 8, 0].map((s) => (version >>> s) & 0xff),
    dcid.length,
    ...dcid,
    0, // SCID length
    0, // token length
    ...(length < 0x4000 ? [0x40 | (length >> 8), length & 0xff] : varint(length)),
    ...[24, 16, 8, 0].map((s) => (pn >>> s) & 0xff),
  ]);
  const nonce = Buffer.from(k.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  const gcm = createCipheriv('aes-128-gcm', k.key, nonce);
  gcm.setAAD(header);
  const sealed = Buffer.concat([gcm.update(payload), gcm.final(), gcm.getAuthTag()]);
  const packet = Buffer.concat([header, sealed]);
  const pnOffset = header.length - 4;
  const mask = createCipheriv('aes-128-ecb', k.hp, null).update(packet.subarray(pnOffset + 4, pnOffset + 20));
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < 4; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return packet;
}

function padded(frames: number[], size = 1162): Uint8Array {
  const out = new Uint8Array(Math.max(size, frames.length));
  out.set(frames);
  return out;
}

function cryptoFrame(offset: number, data: Uint8Array): number[] {
  return [0x06, ...varint(offset), ...varint(data.length), ...data];
}

test('RFC 9001 A.1: client Initial keys for DCID 8394c8f03e515708', () => {
  const k = deriveClientInitialKeys(RFC_DCID, QUIC_V1);
  assert.equal(hex(k.secret), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
  assert.equal(hex(k.key), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(hex(k.iv), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(hex(k.hp), '9f50449e04a0e810283a1e9933adedd2');
});

test('RFC 9369 A.1: QUIC v2 client Initial keys', () => {
  const k = deriveClientInitialKeys(RFC_DCID, QUIC_V2);
  assert.equal(hex(k.secret), '14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b');
  assert.equal(hex(k.key), '8b1a0bc121284290a29e0971b5cd045d');
  assert.equal(hex(k.iv), '91f73e2351d8fa91660e909f');
  assert.equal(hex(k.hp), '45b95e15235d6f45a6b19cbcb0294ba9');
});

test('keys for other versions are refused', () => {
  assert.throws(() => deriveClientInitialKeys(RFC_DCID, 0xff00001d), RangeError);
});

for (const [label, file, version] of [
  ['RFC 9001 A.2', 'rfc9001-a2-client-initial.hex', QUIC_V1],
  ['RFC 9369 A.2', 'rfc9369-a2-client-initial.hex', QUIC_V2],
] as const) {
  test(`${label}: the protected client Initial decrypts to a ClientHello for example.com`, () => {
    const packet = hexFixture(file);
    assert.equal(packet.length, 1200);
    assert.ok(looksLikeQuicInitial(packet));
    const r = readAll([packet]);
    assert.equal(r.version, version);
    assert.deepEqual(r.result(), { sni: 'example.com', alpn: ['alpn'], ech: false, tlsVersion: 0x0304 });
  });

  test(`${label}: the test's packet protector reproduces the RFC packet byte for byte`, () => {
    assert.equal(
      hex(protectInitial(version, RFC_DCID, 2, padded([...RFC_CRYPTO_FRAME]))),
      hex(hexFixture(file)),
    );
  });
}

test('a tampered Initial is passed over without a result or an exception', () => {
  for (const at of [0, 5, 18, 25, 600, 1199]) {
    const packet = Uint8Array.from(hexFixture('rfc9001-a2-client-initial.hex'));
    packet[at]! ^= 0x40;
    const r = readAll([packet]);
    assert.equal(r.result(), undefined, `byte ${at} flipped`);
  }
});

test('Chromium: the ClientHello spans two Initial datagrams and is read whatever their order', () => {
  const { datagrams, host } = chromiumQuicFixture();
  assert.ok(datagrams.length >= 2);
  assert.ok(datagrams.every(looksLikeQuicInitial));
  const expected = { sni: host, alpn: ['h3'], ech: true, tlsVersion: 0x0304 };
  assert.deepEqual(readAll(datagrams).result(), expected);
  assert.equal(readAll(datagrams).version, QUIC_V1);
  assert.equal(readAll(datagrams.slice(0, 1)).result(), undefined, 'one datagram is not enough');
  assert.deepEqual(readAll([...datagrams].reverse()).result(), expected);
  // Retransmitted copies change nothing.
  assert.deepEqual(readAll([datagrams[0]!, ...datagrams]).result(), expected);
});

test('coalesced packets: two Initials in one datagram, followed by a short-header packet', () => {
  const { datagrams, host } = chromiumQuicFixture();
  const one = Buffer.concat([...datagrams, Uint8Array.from([0x40, 1, 2, 3, 4, 5, 6, 7, 8])]);
  assert.equal(readAll([one]).result()?.sni, host);
});

test('CRYPTO frames shuffled across packets with PING, ACK and PADDING, v1 and v2', () => {
  const hello = RFC_CRYPTO_FRAME.subarray(4); // the ClientHello itself (offset 0, 241 bytes)
  const a = hello.subarray(0, 50);
  const b = hello.subarray(50, 130);
  const c = hello.subarray(130);
  for (const version of [QUIC_V1, QUIC_V2]) {
    const dcid = Buffer.from('0011223344556677', 'hex');
    const p1 = protectInitial(
      version,
      dcid,
      0,
      padded([0x01, 0x00, 0x00, ...cryptoFrame(130, c), 0x01, 0x02, 0, 0, 1, 0, 2, 3, ...cryptoFrame(0, a)]),
    );
    const p2 = protectInitial(version, dcid, 1, padded([0x00, 0x01, ...cryptoFrame(50, b)]));
    const r = readAll([p2, p1]);
    assert.equal(r.result()?.sni, 'example.com', `version ${version.toString(16)}`);
    assert.equal(r.version, version);
  }
});

test("keys come from each packet's own DCID (after a Retry the client switches DCID)", () => {
  const hello = RFC_CRYPTO_FRAME.subarray(4);
  const first = protectInitial(
    QUIC_V1,
    Buffer.from('a1a2a3a4a5a6a7a8', 'hex'),
    0,
    padded(cryptoFrame(0, hello.subarray(0, 100))),
  );
  const second = protectInitial(
    QUIC_V1,
    Buffer.from('b1b2b3b4', 'hex'),
    1,
    padded(cryptoFrame(100, hello.subarray(100))),
  );
  assert.equal(readAll([first, second]).result()?.sni, 'example.com');
});

test('a CRYPTO stream that is not a ClientHello gives no result', () => {
  const p = protectInitial(
    QUIC_V1,
    RFC_DCID,
    0,
    padded(cryptoFrame(0, Buffer.from('0200000400000000', 'hex'))),
  );
  assert.equal(readAll([p]).result(), undefined);
});

test('looksLikeQuicInitial rejects what is not a client Initial', () => {
  const rfc = hexFixture('rfc9001-a2-client-initial.hex');
  const handshake = Uint8Array.from(rfc);
  handshake[0] = (handshake[0]! & 0xcf) | 0x20; // v1 Handshake packet type
  const versionNegotiation = Uint8Array.from(rfc);
  versionNegotiation.set([0, 0, 0, 0], 1);
  const draft29 = Uint8Array.from(rfc);
  draft29.set([0xff, 0, 0, 0x1d], 1);
  const dns = Buffer.from('12340100000100000000000003777777076578616d706c6503636f6d0000010001', 'hex');
  const cases: [string, Uint8Array][] = [
    ['Handshake packet', handshake],
    ['version negotiation', versionNegotiation],
    ['unknown version', draft29],
    ['truncated', rfc.subarray(0, 600)],
    ['short header', Uint8Array.from([0x40, ...rfc.subarray(1)])],
    ['DNS query', dns],
    ['empty', new Uint8Array(0)],
  ];
  for (const [label, bytes] of cases) {
    assert.equal(looksLikeQuicInitial(bytes), false, label);
    assert.equal(readAll([bytes]).result(), undefined, label);
  }
});

test('corrupted datagrams never throw', () => {
  const { datagrams } = chromiumQuicFixture();
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  for (let i = 0; i < 3000; i++) {
    const r = new QuicInitialReader();
    for (const d of datagrams) {
      const copy = Uint8Array.from(d);
      // Corrupt only the header area most of the time: that is where parsing (not AEAD) decides.
      const span = rand() < 0.8 ? 60 : copy.length;
      copy[Math.floor(rand() * span)] = Math.floor(rand() * 256);
      r.push(copy.subarray(0, rand() < 0.2 ? Math.floor(rand() * copy.length) : copy.length));
    }
    const res = r.result();
    if (res?.sni !== undefined) assert.match(res.sni, /^[\x21-\x7e]+$/);
  }
});

test('retransmissions that never complete the ClientHello are not held without bound', () => {
  const hello = RFC_CRYPTO_FRAME.subarray(4);
  const part = protectInitial(QUIC_V1, RFC_DCID, 0, padded(cryptoFrame(0, hello.subarray(0, 200))));
  const rest = protectInitial(QUIC_V1, RFC_DCID, 1, padded(cryptoFrame(200, hello.subarray(200))));
  const r = new QuicInitialReader();
  for (let i = 0; i < 1000; i++) r.push(part); // 200 KB of the same first 200 bytes
  r.push(rest);
  assert.equal(r.result(), undefined, 'gave up before the rest arrived');
  const fresh = new QuicInitialReader();
  for (let i = 0; i < 10; i++) fresh.push(part);
  fresh.push(rest);
  assert.equal(fresh.result()?.sni, 'example.com', 'a few retransmissions are fine');
});
