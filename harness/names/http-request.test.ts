import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import {
  type ClientStarter,
  curlHttpClient,
  curlProxyClient,
  haveCommand,
  PCAPDROID_DIR,
  recordClient,
  tsharkFields,
} from '../../testing/names-test-data.js';
import { hostNameValid } from './host-name.js';
import { HTTP_HEADER_CAP, isHttp2Preface, readHttpRequest } from './http-request.js';

const done = (b: Uint8Array) => readHttpRequest(b).status !== 'need-more';
const noCurl = !haveCommand('curl') && 'no curl';
const hasTshark = haveCommand('tshark', ['-v']);

function ok(stream: Uint8Array) {
  const r = readHttpRequest(stream);
  assert.equal(r.status, 'ok', `expected an HTTP request, got ${r.status}`);
  return (r as Extract<typeof r, { status: 'ok' }>).info;
}

function assertNeedMoreUntilComplete(stream: Uint8Array): void {
  for (let k = 0; k < stream.length; k++) {
    const r = readHttpRequest(stream.subarray(0, k));
    assert.equal(r.status, 'need-more', `prefix of ${k}/${stream.length} bytes gave ${r.status}`);
  }
  ok(stream);
}

function nodeHttpClient(opts: { host: string; path: string; method?: string }): ClientStarter {
  return (port) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: opts.path,
      method: opts.method ?? 'GET',
      headers: { host: opts.host },
    });
    req.on('error', () => {});
    req.end();
    return { stop: () => req.destroy() };
  };
}

test('curl GET: method, target, version; Host lower-cased without its port', { skip: noCurl }, async () => {
  const bytes = await recordClient(curlHttpClient('Web.PhoneHome.TEST', '/a/b?c=d&e=f'), done);
  assert.match(Buffer.from(bytes).toString('latin1'), /\r\nHost: Web\.PhoneHome\.TEST:\d+\r\n/);
  assert.deepEqual(ok(bytes), {
    method: 'GET',
    target: '/a/b?c=d&e=f',
    version: 'HTTP/1.1',
    host: 'web.phonehome.test',
  });
  assertNeedMoreUntilComplete(bytes);
});

test('curl HTTP/1.0 POST', { skip: noCurl }, async () => {
  const bytes = await recordClient(curlHttpClient('old.phonehome.test', '/form', ['-0', '-d', 'x=1']), done);
  assert.deepEqual(ok(bytes), {
    method: 'POST',
    target: '/form',
    version: 'HTTP/1.0',
    host: 'old.phonehome.test',
  });
});

test('an IPv6 literal Host, with and without port, comes out canonical and without brackets', async () => {
  for (const [header, want] of [
    ['[2001:DB8:0:0::1]:8080', '2001:db8::1'],
    ['[::1]', '::1'],
    ['[fe80::1', undefined],
    ['[::1]x', undefined],
  ] as const) {
    const bytes = await recordClient(nodeHttpClient({ host: header, path: '/' }), done);
    assert.equal(ok(bytes).host, want, header);
  }
});

test('Node http client: other methods and an IPv4 Host', async () => {
  const bytes = await recordClient(
    nodeHttpClient({ host: '192.0.2.7:81', path: '/x', method: 'DELETE' }),
    done,
  );
  assert.deepEqual(ok(bytes), { method: 'DELETE', target: '/x', version: 'HTTP/1.1', host: '192.0.2.7' });
});

test('curl through an HTTP proxy: absolute-form target', { skip: noCurl }, async () => {
  const bytes = await recordClient(curlProxyClient('http://Far.Example.TEST/p?q'), done);
  const info = ok(bytes);
  assert.equal(info.target, 'http://Far.Example.TEST/p?q');
  assert.equal(info.host, 'far.example.test');
});

test('curl CONNECT through a proxy (proxytunnel)', { skip: noCurl }, async () => {
  const bytes = await recordClient(curlProxyClient('https://tunnel.phonehome.test:8443/', ['-p']), done);
  assert.deepEqual(ok(bytes), {
    method: 'CONNECT',
    target: 'tunnel.phonehome.test:8443',
    version: 'HTTP/1.1',
    host: 'tunnel.phonehome.test',
  });
});

test('without a Host header the absolute-form or CONNECT target gives the host', () => {
  assert.equal(ok(Buffer.from('GET http://u:p@A.test:8080/x HTTP/1.1\r\n\r\n')).host, 'a.test');
  assert.equal(ok(Buffer.from('CONNECT B.test:443 HTTP/1.1\r\n\r\n')).host, 'b.test');
  assert.equal(ok(Buffer.from('GET / HTTP/1.0\r\n\r\n')).host, undefined);
  // A Host header wins, and one no host can have is kept as sent, escaped, not replaced by a guess.
  assert.equal(ok(Buffer.from('GET http://a.test/ HTTP/1.1\r\nHost: c.test\r\n\r\n')).host, 'c.test');
  assert.equal(ok(Buffer.from('GET http://a.test/ HTTP/1.1\r\nHost: bad host\r\n\r\n')).host, 'bad\\x20host');
  // A bare LF ends the field: what follows it is not part of the name; a quote is kept and marks it.
  const quoted = ok(Buffer.from('GET / HTTP/1.1\nHost: evil"q\n\n')).host!;
  assert.equal(quoted, 'evil"q');
  assert.equal(hostNameValid(quoted), false);
});

test('headerLength is where the header section ends: a body or a CONNECT tunnel begins there', () => {
  const length = (text: string) => {
    const r = readHttpRequest(Buffer.from(text, 'latin1'));
    assert.equal(r.status, 'ok', text);
    return (r as Extract<typeof r, { status: 'ok' }>).headerLength;
  };
  const connect = 'CONNECT b.test:443 HTTP/1.1\r\nHost: b.test:443\r\n\r\n';
  assert.equal(length(connect), connect.length);
  assert.equal(length(`${connect}\x16\x03\x01`), connect.length);
  assert.equal(length('POST /x HTTP/1.0\nHost: a\n\nbody'), 'POST /x HTTP/1.0\nHost: a\n\n'.length);
  // The cap reached before the empty line: there is no end to tell.
  const capped = `GET / HTTP/1.1\r\nX-Pad: ${'a'.repeat(HTTP_HEADER_CAP)}\r\n`;
  assert.equal(length(capped), undefined);
});

test('header names in any case, bare LF line ends, the first Host counts', () => {
  assert.equal(ok(Buffer.from('GET / HTTP/1.1\nhOST:   x.test  \n\n')).host, 'x.test');
  assert.equal(
    ok(Buffer.from('GET / HTTP/1.1\r\nHost: one.test\r\nHost: two.test\r\n\r\n')).host,
    'one.test',
  );
  assert.equal(
    ok(Buffer.from('GET / HTTP/1.1\r\nX-Host: no.test\r\nHost: yes.test\r\n\r\n')).host,
    'yes.test',
  );
});

test('HTTP/2 with prior knowledge is recognised as such, and is not HTTP/1', { skip: noCurl }, async () => {
  const bytes = await recordClient(
    curlHttpClient('h2.phonehome.test', '/', ['--http2-prior-knowledge']),
    (b) => b.length >= 24,
  );
  assert.ok(isHttp2Preface(bytes));
  assert.equal(readHttpRequest(bytes).status, 'not-http');
  assert.equal(isHttp2Preface(bytes.subarray(0, 23)), false);
  assert.equal(readHttpRequest(bytes.subarray(0, 10)).status, 'need-more'); // "PRI * HTTP" could still be HTTP/1
  assert.equal(isHttp2Preface(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), false);
});

test('not HTTP: told apart within the first bytes', () => {
  const cases: [string, Uint8Array][] = [
    ['TLS', Uint8Array.from([0x16, 0x03, 0x01, 0x02, 0x00])],
    ['SSH', Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')],
    ['lower-case method', Buffer.from('get / HTTP/1.1\r\n')],
    ['HTTP/0.9', Buffer.from('GET /\r\n')],
    ['HTTP/3.0 version', Buffer.from('GET / HTTP/3.0\r\n\r\n')],
    ['control byte in target', Buffer.from('GET /\x01 HTTP/1.1\r\n')],
    ['two spaces', Buffer.from('GET  / HTTP/1.1\r\n')],
    ['CR not followed by LF', Buffer.from('GET / HTTP/1.1\rX')],
    ['leading space', Buffer.from(' GET / HTTP/1.1\r\n')],
  ];
  for (const [label, bytes] of cases) assert.equal(readHttpRequest(bytes).status, 'not-http', label);
  assert.equal(readHttpRequest(new Uint8Array(0)).status, 'need-more');
});

test('the header cap: a valid request line answers at the cap; a request line that long is not HTTP', () => {
  const filler = `X-Pad: ${'a'.repeat(HTTP_HEADER_CAP)}\r\n`;
  const long = Buffer.from(`GET / HTTP/1.1\r\nHost: capped.test\r\n${filler}`);
  assert.deepEqual(ok(long), { method: 'GET', target: '/', version: 'HTTP/1.1', host: 'capped.test' });
  assert.equal(readHttpRequest(long.subarray(0, HTTP_HEADER_CAP - 1)).status, 'need-more');
  const hugeTarget = Buffer.from(`GET /${'a'.repeat(HTTP_HEADER_CAP)}`);
  assert.equal(readHttpRequest(hugeTarget).status, 'not-http');
});

test('random bytes never throw', () => {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const base = Buffer.from('GET /x HTTP/1.1\r\nHost: [::1]:80\r\nA: b\r\n\r\n');
  for (let i = 0; i < 20_000; i++) {
    const copy = Uint8Array.from(base);
    copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
    const r = readHttpRequest(copy.subarray(0, Math.floor(rand() * (copy.length + 1))));
    if (r.status === 'ok' && r.info.host !== undefined) assert.match(r.info.host, /^[\x21-\x7e]+$/);
  }
});

test('PCAPdroid captures: every request agrees with tshark (method, target, version, Host)', {
  skip: !hasTshark && 'tshark not installed',
}, () => {
  let n = 0;
  for (const file of ['metadata.pcap', 'two_flows.pcap', 'http_proxy.pcap']) {
    const rows = tsharkFields(`${PCAPDROID_DIR}/${file}`, 'http.request && tcp.seq == 1', [
      'tcp.payload',
      'http.request.method',
      'http.request.uri',
      'http.request.version',
      'http.host',
    ]);
    for (const [payload, method, uri, version, host] of rows) {
      const bytes = Buffer.from(payload!, 'hex');
      const hostOnly = host!.replace(/:\d+$/, '').toLowerCase();
      assert.deepEqual(
        ok(bytes),
        { method, target: uri, version, host: hostOnly },
        `${file}: ${method} ${uri}`,
      );
      assertNeedMoreUntilComplete(bytes);
      n++;
    }
  }
  assert.ok(n >= 6, `${n} requests`);
});
