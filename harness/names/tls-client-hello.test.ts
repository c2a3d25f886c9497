import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  chromiumTlsFixture,
  curlClient,
  haveCommand,
  nodeTlsClient,
  opensslClient,
  PCAPDROID_DIR,
  recordClient,
  tsharkFields,
} from '../../testing/names-test-data.js';
import { hostNameValid } from './host-name.js';
import { parseClientHelloBody, readTlsClientHello, TLS_CLIENT_HELLO_CAP } from './tls-client-hello.js';

const done = (b: Uint8Array) => readTlsClientHello(b).status !== 'need-more';
const hasTshark = haveCommand('tshark', ['-v']);

function ok(stream: Uint8Array) {
  const r = readTlsClientHello(stream);
  assert.equal(r.status, 'ok', `expected a ClientHello, got ${r.status}`);
  return (r as Extract<typeof r, { status: 'ok' }>).info;
}

/** Every proper prefix of a stream must ask for more; the whole stream must parse. */
function assertNeedMoreUntilComplete(stream: Uint8Array): void {
  for (let k = 0; k < stream.length; k++) {
    const r = readTlsClientHello(stream.subarray(0, k));
    assert.equal(r.status, 'need-more', `prefix of ${k}/${stream.length} bytes gave ${r.status}`);
  }
  ok(stream);
}

/** The handshake message inside a stream of handshake records. */
function handshakeOf(stream: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let p = 0; p < stream.length; ) {
    const len = (stream[p + 3]! << 8) | stream[p + 4]!;
    parts.push(stream.subarray(p + 5, p + 5 + len));
    p += 5 + len;
  }
  return Buffer.concat(parts);
}

/** The same handshake message re-framed into records of at most `size` bytes (legal in TLS). */
function reframe(handshake: Uint8Array, size: number): Uint8Array {
  const out: number[] = [];
  for (let p = 0; p < handshake.length; p += size) {
    const frag = handshake.subarray(p, p + size);
    out.push(0x16, 0x03, 0x01, frag.length >> 8, frag.length & 0xff, ...frag);
  }
  return Uint8Array.from(out);
}

test('Node TLS 1.3 ClientHello: SNI lower-cased, ALPN in order, version 1.3, no ECH', async () => {
  const bytes = await recordClient(
    nodeTlsClient({ servername: 'Node13.PhoneHome.TEST', alpn: ['h2', 'http/1.1'] }),
    done,
  );
  assert.ok(Buffer.from(bytes).includes('Node13.PhoneHome.TEST'), 'the client sent the name as given');
  assert.deepEqual(ok(bytes), {
    sni: 'node13.phonehome.test',
    alpn: ['h2', 'http/1.1'],
    ech: false,
    tlsVersion: 0x0304,
  });
  assertNeedMoreUntilComplete(bytes);
});

test('Node TLS 1.2-only ClientHello reports version 1.2 (no supported_versions extension)', async () => {
  const bytes = await recordClient(
    nodeTlsClient({ servername: 'node12.phonehome.test', alpn: ['http/1.1'], maxVersion: 'TLSv1.2' }),
    done,
  );
  assert.deepEqual(ok(bytes), {
    sni: 'node12.phonehome.test',
    alpn: ['http/1.1'],
    ech: false,
    tlsVersion: 0x0303,
  });
});

test('Node ClientHello without SNI or ALPN', async () => {
  // Node sends no server_name for an IP address.
  const bytes = await recordClient(nodeTlsClient({ servername: '' }), done);
  const info = ok(bytes);
  assert.equal(info.sni, undefined);
  assert.deepEqual(info.alpn, []);
});

test('openssl s_client ClientHello', {
  skip: !haveCommand('openssl', ['version']) && 'no openssl',
}, async () => {
  const bytes = await recordClient(opensslClient('openssl.phonehome.test', ['h2', 'http/1.1']), done);
  assert.deepEqual(ok(bytes), {
    sni: 'openssl.phonehome.test',
    alpn: ['h2', 'http/1.1'],
    ech: false,
    tlsVersion: 0x0304,
  });
  assertNeedMoreUntilComplete(bytes);
});

test('curl ClientHello', { skip: !haveCommand('curl') && 'no curl' }, async () => {
  const bytes = await recordClient(curlClient('curl.phonehome.test'), done);
  const info = ok(bytes);
  assert.equal(info.sni, 'curl.phonehome.test');
  assert.deepEqual(info.alpn, ['h2', 'http/1.1']);
  assert.equal(info.tlsVersion, 0x0304);
});

test('Chromium ClientHello (post-quantum key share, larger than one 1460-byte segment, GREASE ECH)', () => {
  const { stream, host } = chromiumTlsFixture();
  assert.ok(stream.length > 1460, `${stream.length} bytes`);
  assert.deepEqual(ok(stream), { sni: host, alpn: ['h2', 'http/1.1'], ech: true, tlsVersion: 0x0304 });
  assertNeedMoreUntilComplete(stream);
});

test('a ClientHello spread over several records reads the same as in one', () => {
  const { stream } = chromiumTlsFixture();
  const hs = handshakeOf(stream);
  const whole = ok(stream);
  for (const size of [1, 3, 100, 512, 1000]) {
    const split = reframe(hs, size);
    assert.deepEqual(ok(split), whole, `records of ${size} bytes`);
  }
  assertNeedMoreUntilComplete(reframe(hs, 700));
  // What follows the ClientHello (a ChangeCipherSpec, early data) does not matter.
  const more = Buffer.concat([
    stream,
    Uint8Array.from([0x14, 0x03, 0x03, 0x00, 0x01, 0x01, 0x17, 0x03, 0x03]),
  ]);
  assert.deepEqual(ok(more), whole);
});

test('parseClientHelloBody reads the bare handshake message (as QUIC carries it), ignoring what follows', () => {
  const { stream, host } = chromiumTlsFixture();
  const hs = handshakeOf(stream);
  assert.equal(parseClientHelloBody(hs)?.sni, host);
  assert.equal(parseClientHelloBody(Buffer.concat([hs, Buffer.from('trailing')]))?.sni, host);
  assert.equal(parseClientHelloBody(hs.subarray(0, hs.length - 1)), undefined);
  assert.equal(parseClientHelloBody(new Uint8Array(0)), undefined);
});

test('streams that are not TLS are told apart at once', () => {
  const cases: [string, Uint8Array][] = [
    ['HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')],
    ['SSH banner', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')],
    ['TLS alert record', Uint8Array.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])],
    [
      'handshake record holding a ServerHello',
      Uint8Array.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]),
    ],
    ['record version 4.x', Uint8Array.from([0x16, 0x04])],
    ['empty handshake record', Uint8Array.from([0x16, 0x03, 0x01, 0x00, 0x00])],
    ['SSLv2-style hello', Uint8Array.from([0x80, 0x2e, 0x01, 0x00, 0x02])],
  ];
  for (const [label, bytes] of cases) assert.equal(readTlsClientHello(bytes).status, 'not-tls', label);
  assert.equal(readTlsClientHello(new Uint8Array(0)).status, 'need-more');
});

test('a ClientHello claiming more than the 64 KiB cap is given up on', () => {
  const big = TLS_CLIENT_HELLO_CAP; // handshake body length: 4 + this exceeds the cap
  const head = Uint8Array.from([
    0x16,
    0x03,
    0x01,
    0x40,
    0x00,
    0x01,
    big >> 16,
    (big >> 8) & 0xff,
    big & 0xff,
  ]);
  assert.equal(readTlsClientHello(head).status, 'not-tls');
  // A lawful ClientHello just under the cap is still waited for.
  const fits = 60_000;
  const head2 = Uint8Array.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0, fits >> 8, fits & 0xff]);
  assert.equal(readTlsClientHello(head2).status, 'need-more');
});

test('a server name with bytes no host name has is kept, escaped, the rest still read', () => {
  const { stream, host } = chromiumTlsFixture();
  const at = Buffer.from(stream).indexOf(host);
  for (const bad of [0x00, 0x20, 0x0a, 0xc3, 0x7f, 0x5c]) {
    const copy = Uint8Array.from(stream);
    copy[at + 3] = bad;
    const info = ok(copy);
    const escaped = bad === 0x5c ? '\\\\' : `\\x${bad.toString(16).padStart(2, '0')}`;
    assert.equal(info.sni, `${host.slice(0, 3)}${escaped}${host.slice(4)}`, `byte 0x${bad.toString(16)}`);
    assert.equal(hostNameValid(info.sni!), false);
    assert.deepEqual(info.alpn, ['h2', 'http/1.1']);
  }
  const dotted = Uint8Array.from(stream);
  dotted[at + host.length - 1] = 0x2e; // "…phonehome.tes." : a trailing dot goes
  assert.equal(ok(dotted).sni, host.slice(0, -1));
  assert.equal(hostNameValid(ok(dotted).sni!), true);
});

test('corrupted ClientHellos never throw and never yield a malformed name', () => {
  const { stream } = chromiumTlsFixture();
  let seed = 0x2545f491;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 0x100000000;
  };
  let oks = 0;
  for (let i = 0; i < 20_000; i++) {
    const copy = Uint8Array.from(stream);
    const flips = 1 + Math.floor(rand() * 4);
    for (let f = 0; f < flips; f++) copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
    const cut = rand() < 0.3 ? Math.floor(rand() * copy.length) : copy.length;
    const r = readTlsClientHello(copy.subarray(0, cut));
    if (r.status === 'ok') {
      oks++;
      if (r.info.sni !== undefined) assert.match(r.info.sni, /^[\x21-\x7e]+$/);
      assert.equal(r.info.sni, r.info.sni?.toLowerCase());
    }
  }
  assert.ok(oks > 1000, `${oks} of the corrupted ClientHellos still parsed`);
});

test('PCAPdroid capture: SNI, ALPN and version agree with tshark for every ClientHello that opens a stream', {
  skip: !hasTshark && 'tshark not installed',
}, () => {
  const rows = tsharkFields(`${PCAPDROID_DIR}/metadata.pcap`, 'tls.handshake.type == 1 && tcp.seq == 1', [
    'tcp.payload',
    'tls.handshake.extensions_server_name',
    'tls.handshake.extensions_alpn_str',
    'tls.handshake.extensions.supported_version',
  ]);
  assert.ok(rows.length >= 3, `${rows.length} ClientHellos`);
  for (const [payload, sni, alpn, versions] of rows) {
    const info = ok(Buffer.from(payload!, 'hex'));
    assert.equal(info.sni, sni || undefined);
    assert.deepEqual(info.alpn, alpn ? alpn.split(',') : []);
    const offered = (versions ?? '')
      .split(',')
      .filter(Boolean)
      .map((v) => Number(v))
      .filter((v) => (v & 0x0f0f) !== 0x0a0a);
    if (offered.length > 0) assert.equal(info.tlsVersion, Math.max(...offered));
  }
});
