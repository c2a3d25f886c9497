import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ConfigError } from '../errors.js';
import type { Flow } from '../flows/flow.js';
import { LeakScanner } from '../identifiers/find-leaks.js';
import {
  decryptedExchanges,
  joinExchanges,
  maskedExchangeLines,
  parseExchanges,
  requestBytes,
} from './exchanges.js';

const PHONE = '10.213.9.10';
const IMEI = '868523061234565';
const ANDROID_ID = '3f6a1c92b07e45d8';

function tcp(uid: string, host: string, port: number, sport: number, t0: number, t1: number): Flow {
  return {
    uid,
    proto: 'tcp',
    orig: { addr: PHONE, port: sport },
    resp: { addr: `10.213.150.${sport % 200}`, port },
    tsStart: t0,
    tsEnd: t1,
    origBytes: 1000,
    respBytes: 4000,
    origPkts: 8,
    respPkts: 8,
    names: [{ name: host, source: 'sni' }],
  } as Flow;
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

function exchange(sport: number, ts: number, over: Record<string, unknown>): string {
  return JSON.stringify({
    type: 'exchange',
    ts,
    client: [PHONE, sport],
    server: [`10.213.150.${sport % 200}`, 443],
    sni: 'h',
    tls: 'TLSv1.3',
    method: 'POST',
    url: 'https://h/x',
    httpVersion: 'HTTP/1.1',
    requestHeaders: [],
    requestBody: null,
    requestBodySize: 0,
    requestEncoding: null,
    status: 200,
    responseHeaders: [],
    responseBody: null,
    responseBodySize: 10,
    responseEncoding: null,
    error: null,
    ...over,
  });
}

const FAILED = (sport: number, ts: number) =>
  JSON.stringify({
    type: 'tls_failed',
    ts,
    side: 'client',
    why: 'left-during-handshake',
    client: [PHONE, sport],
    server: [`10.213.150.${sport % 200}`, 443],
    sni: 'android.clients.google.com',
    error: 'The client disconnected during the handshake. …',
  });

describe('mitmproxy exchanges', () => {
  it('joins requests, refusals and pass-throughs to their flows by the phone port and the time', () => {
    const flows = [
      tcp('a', 'tracking.intl.miui.com', 443, 40001, 100, 101),
      // The same port again later: a new connection, not the first one's.
      tcp('b', 'tracking.intl.miui.com', 443, 40001, 200, 201),
      tcp('c', 'android.clients.google.com', 443, 40002, 100, 100.5),
      tcp('d', 'play.googleapis.com', 443, 40003, 100, 102),
      tcp('e', 'nothing.example', 443, 40004, 100, 102),
    ];
    const log = parseExchanges(
      [
        '{"type":"start","ts":99,"mitmproxy":38001}',
        exchange(40001, 200.5, { url: 'https://tracking.intl.miui.com/track?x=1' }),
        FAILED(40002, 100.4),
        '{"type":"done","ts":300}',
        '',
      ].join('\n'),
      'exchanges.jsonl',
    );
    const s = joinExchanges(flows, log, [/^play\.googleapis\.com$/i]);
    assert.equal(flows[0]!.intercepted?.status, 'not-seen');
    assert.equal(flows[1]!.intercepted?.status, 'inside');
    assert.equal(flows[1]!.intercepted?.requests[0]?.url, 'https://tracking.intl.miui.com/track?x=1');
    assert.equal(flows[2]!.intercepted?.status, 'pinned');
    assert.equal(flows[3]!.intercepted?.status, 'passed-through');
    assert.equal(s.tlsFlows, 5);
    assert.equal(s.decryptedFlows, 1);
    assert.equal(s.problem, undefined);
    assert.deepEqual(s.hosts.map((h) => `${h.host} ${h.status} ${h.flows}`).sort(), [
      'android.clients.google.com pinned 1',
      'nothing.example not-seen 1',
      'play.googleapis.com passed-through 1',
      'tracking.intl.miui.com inside 1',
      'tracking.intl.miui.com not-seen 1',
    ]);
    assert.deepEqual(s.warnings, []);
  });

  it('says interception did not work when no TLS connection was read, and names refusals', () => {
    const flows = [tcp('a', 'x.example', 443, 40010, 10, 11), tcp('b', 'y.example', 443, 40011, 10, 11)];
    const s = joinExchanges(flows, parseExchanges(`${FAILED(40010, 10.5)}\n${FAILED(40011, 10.5)}\n`, 'f'));
    assert.match(
      s.problem ?? '',
      /^interception did not work: none of the phone's 2 TLS connections was read inside \(2 refused/,
    );
    assert.match(s.warnings.join(), /has no closing line/);
  });

  it('refuses a line that is not a record, naming file, line and field; keeps a cut last line out', () => {
    assert.throws(
      () => parseExchanges(`${exchange(1, 1, {})}\n{"type":"exchange","ts":"soon"}\n`, 'run/exchanges.jsonl'),
      (e: unknown) => e instanceof ConfigError && /^run\/exchanges\.jsonl:2:1: /.test(e.message),
    );
    assert.throws(() => parseExchanges('not json\n{"type":"done","ts":1}\n', 'f'), {
      message: /^f:1:1: not a JSON line/,
    });
    const cut = parseExchanges(`${exchange(1, 1, {})}\n{"type":"exch`, 'f');
    assert.equal(cut.exchanges.length, 1);
    assert.match(cut.warnings[0]!, /^f:2: the last line is cut short/);
  });

  it('searches decrypted requests like plain HTTP: a JSON body in gzip, a hashed value in an HTTP/2 header', () => {
    const flows = [tcp('a', 'h1', 443, 40020, 10, 12), tcp('b', 'h2', 443, 40021, 10, 12)];
    const sha = createHash('sha256').update(ANDROID_ID).digest('hex');
    const log = parseExchanges(
      [
        exchange(40020, 11, {
          url: 'https://h1/track/v4/device',
          requestHeaders: [
            ['Content-Type', 'application/json'],
            ['Content-Encoding', 'gzip'],
            ['Transfer-Encoding', 'chunked'],
          ],
          requestBody: b64(gzipSync(JSON.stringify({ device: { imei: IMEI } }))),
          requestBodySize: 40,
        }),
        exchange(40021, 11, {
          url: 'https://h2/v2/register',
          httpVersion: 'HTTP/2.0',
          requestHeaders: [['x-device-hash', sha]],
        }),
        '',
      ].join('\n'),
      'f',
    );
    const bytes = requestBytes(log.exchanges[1]!).toString('latin1');
    assert.match(
      bytes,
      /^POST \/v2\/register HTTP\/1\.1\r\nx-device-hash: [0-9a-f]{64}\r\nHost: h2\r\n\r\n$/,
    );
    const scanner = new LeakScanner(
      [
        { kind: 'imei', value: IMEI },
        { kind: 'android-id', value: ANDROID_ID },
      ],
      { key: 'k' },
    );
    for (const { flow, exchange: x } of decryptedExchanges(flows, log))
      scanner.decrypted(flow.uid, requestBytes(x), x.ts, x.httpVersion);
    const r = scanner.result({
      searched: { flows: 0, bytes: 0 },
      encrypted: { flows: 2, bytes: 0, tls: 2, quic: 0 },
      notSearched: { flows: 0, overCap: 0, missing: 0 },
    });
    assert.deepEqual(r.leaks.map((l) => `${l.flow} ${l.kind} ${l.place} ${l.encoding}`).sort(), [
      'a imei inside TLS (HTTP/1.1): body JSON $.device.imei gzip(json(plain))',
      'b android-id inside TLS (HTTP/2.0): header x-device-hash sha256(plain)',
    ]);
    assert.equal(r.decrypted?.flows, 2);
  });

  it('masked lines leave bodies out and mask identifiers in URLs and headers', () => {
    const log = parseExchanges(
      `${exchange(1, 1, { url: `https://h/x?imei=${IMEI}`, requestBody: b64(IMEI), requestBodySize: 15 })}\n`,
      'f',
    );
    const lines = maskedExchangeLines(log, (t) => t.replaceAll(IMEI, '868…565'));
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes(IMEI) && !lines[0]!.includes(b64(IMEI)));
    assert.match(lines[0]!, /"url":"https:\/\/h\/x\?imei=868…565"/);
    assert.match(lines[0]!, /"requestBody":null,"requestBodySize":15/);
  });
});
