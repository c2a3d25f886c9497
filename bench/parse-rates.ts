/**
 * Measures the parse rates quoted in tls-client-hello.ts and the report: ClientHellos/s for this
 * parser and for the read-tls-client-hello package on the same real ClientHellos (Node, curl,
 * openssl recorded live here; Chromium from the fixture), QUIC Initials/s, DNS messages/s for this
 * reader and for dns-packet's decode. Each is timed twice: the first pass is what a fresh process pays.
 * Run from the project root: npx tsx bench/parse-rates.ts [iterations]
 */

import { Readable } from 'node:stream';
import { decode, encode } from 'dns-packet';
import { getExtensionData, readTlsClientHello as libraryRead } from 'read-tls-client-hello';
import { parseDnsMessage } from '../harness/names/dns-message.js';
import { QuicInitialReader } from '../harness/names/quic-initial.js';
import { readTlsClientHello } from '../harness/names/tls-client-hello.js';
import {
  chromiumQuicFixture,
  chromiumTlsFixture,
  curlClient,
  hexFixture,
  nodeTlsClient,
  opensslClient,
  recordClient,
} from '../testing/names-test-data.js';

const N = Number(process.argv[2] ?? 50_000);
const done = (b: Uint8Array) => readTlsClientHello(b).status !== 'need-more';

const hellos: [string, Buffer][] = [
  [
    'node',
    Buffer.from(await recordClient(nodeTlsClient({ servername: 'n.test', alpn: ['h2', 'http/1.1'] }), done)),
  ],
  ['curl', Buffer.from(await recordClient(curlClient('c.test'), done))],
  ['openssl', Buffer.from(await recordClient(opensslClient('o.test', ['h2']), done))],
  ['chromium', Buffer.from(chromiumTlsFixture().stream)],
];

function rate(label: string, count: number, ms: number): void {
  console.log(`${label.padEnd(48)} ${Math.round((count / ms) * 1000).toLocaleString('en')}/s`);
}

// Same facts out of both: SNI, ALPN, highest supported version, ECH present.
let sink = 0;
// N parses each way, cycling through the four ClientHellos.
let t = performance.now();
for (let i = 0; i < N; i++) {
  const r = readTlsClientHello(hellos[i % hellos.length]![1]);
  if (r.status === 'ok') sink += (r.info.sni?.length ?? 0) + r.info.alpn.length + (r.info.ech ? 1 : 0);
}
rate('ClientHellos, this parser', N, performance.now() - t);

t = performance.now();
for (let i = 0; i < N; i++) {
  // The package reads from a socket-like stream that stays open (a closed one makes it throw);
  // a bare Readable is the cheapest such stream.
  const stream = new Readable({ read() {} });
  stream.push(hellos[i % hellos.length]![1]);
  const hello = await libraryRead(stream);
  stream.destroy();
  const sni = getExtensionData(hello, 0x0000)?.serverName;
  const alpn = getExtensionData(hello, 0x0010)?.protocols ?? [];
  const versions = getExtensionData(hello, 0x002b)?.versions ?? [];
  const ech = hello.extensions.some((e) => e.id === 0xfe0d);
  sink += (sni?.length ?? 0) + alpn.length + versions.length + (ech ? 1 : 0);
}
rate('ClientHellos, read-tls-client-hello 2.0.0', N, performance.now() - t);

const chromium = chromiumQuicFixture().datagrams;
const rfc = hexFixture('rfc9001-a2-client-initial.hex');
t = performance.now();
const quicN = Math.max(1, Math.floor(N / 5));
for (let i = 0; i < quicN; i++) {
  const r = new QuicInitialReader();
  for (const d of chromium) r.push(d);
  const s = new QuicInitialReader();
  s.push(rfc);
  sink += (r.result()?.sni?.length ?? 0) + (s.result()?.sni?.length ?? 0);
}
const quicMs = performance.now() - t;
rate('QUIC Initial packets (decrypt + parse)', quicN * (chromium.length + 1), quicMs);
rate('QUIC connections (Chromium 2 + RFC 1 packet)', quicN * 2, quicMs);

const dns = [
  encode({ type: 'query', id: 1, flags: 0x0100, questions: [{ type: 'A', name: 'www.example.test' }] }),
  encode({
    type: 'response',
    id: 1,
    flags: 0x8180,
    questions: [{ type: 'A', name: 'www.example.test' }],
    answers: [
      { type: 'CNAME', name: 'www.example.test', ttl: 300, data: 'edge.cdn.test' },
      { type: 'A', name: 'edge.cdn.test', ttl: 60, data: '192.0.2.10' },
      { type: 'A', name: 'edge.cdn.test', ttl: 60, data: '192.0.2.11' },
    ],
  }),
];
for (const pass of ['first pass', 'second pass']) {
  t = performance.now();
  for (let i = 0; i < N; i++) for (const m of dns) sink += parseDnsMessage(m)?.answers.length ?? 0;
  rate(`DNS messages, this reader (${pass})`, N * dns.length, performance.now() - t);
  t = performance.now();
  for (let i = 0; i < N; i++) for (const m of dns) sink += decode(m).answers?.length ?? 0;
  rate(`DNS messages, dns-packet decode (${pass})`, N * dns.length, performance.now() - t);
}

console.log(`(${hellos.map(([l, b]) => `${l} ${b.length} B`).join(', ')}; checksum ${sink})`);
