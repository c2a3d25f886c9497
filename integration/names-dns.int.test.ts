/**
 * DNS parsing against a real server: dnsmasq on 127.0.0.1 (a free port) answers A, AAAA, CNAME
 * and HTTPS queries over UDP and TCP; dig, asked the same questions, is the oracle.
 */

import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { encode } from 'dns-packet';
import { parseDnsMessage, splitDnsTcpStream } from '../harness/names/dns-message.js';
import { haveCommand } from '../testing/names-test-data.js';
import { freePort } from './free-port.js';

const missing = ['dnsmasq', 'dig'].filter((c) => !haveCommand(c, c === 'dig' ? ['-v'] : ['--version']));
const skip = missing.length > 0 && `not installed: ${missing.join(', ')}`;

/** SVCB/HTTPS RDATA (RFC 9460): priority, target, key-ordered params. */
function svcbRdata(priority: number, target: string, params: [number, Buffer][]): Buffer {
  const labels = target === '.' ? [] : target.split('.');
  const name = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  return Buffer.concat([
    Buffer.from([priority >> 8, priority & 0xff]),
    name,
    ...params.map(([k, v]) =>
      Buffer.concat([Buffer.from([k >> 8, k & 0xff, v.length >> 8, v.length & 0xff]), v]),
    ),
  ]);
}

const HTTPS_RDATA = svcbRdata(1, '.', [
  [1, Buffer.from([2, 0x68, 0x33, 2, 0x68, 0x32])], // alpn h3,h2
  [4, Buffer.from([192, 0, 2, 1, 192, 0, 2, 2])], // ipv4hint
  [6, Buffer.from('20010db8000000000000000000000001', 'hex')], // ipv6hint
]);
const ALIAS_RDATA = svcbRdata(0, 'svc.phonehome.test', []);

let port = 0;
let dnsmasq: ChildProcess | undefined;

async function udpQuery(msg: Buffer, timeoutMs = 2000): Promise<Buffer> {
  const sock = dgram.createSocket('udp4');
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no DNS answer')), timeoutMs);
      sock.on('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      sock.on('error', reject);
      sock.send(msg, port, '127.0.0.1');
    });
  } finally {
    sock.close();
  }
}

function dig(type: string, name: string): string[] {
  return execFileSync(
    'dig',
    ['@127.0.0.1', '-p', String(port), '+short', '+tries=1', '+time=2', type, name],
    {
      encoding: 'utf8',
      timeout: 10_000,
    },
  )
    .trim()
    .split('\n')
    .filter(Boolean);
}

before(async () => {
  if (skip) return;
  port = await freePort();
  dnsmasq = spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      '--conf-file=/dev/null',
      '--no-resolv',
      '--no-hosts',
      '--pid-file=',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      `--port=${port}`,
      '--local=/phonehome.test/',
      '--host-record=a.phonehome.test,192.0.2.10,2001:db8::10',
      '--cname=www.phonehome.test,a.phonehome.test',
      `--dns-rr=svc.phonehome.test,65,${HTTPS_RDATA.toString('hex')}`,
      `--dns-rr=alias.phonehome.test,65,${ALIAS_RDATA.toString('hex')}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  dnsmasq.on('error', () => {});
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await udpQuery(
        encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'a.phonehome.test' }] }),
        300,
      );
      return;
    } catch (e) {
      if (Date.now() > deadline || dnsmasq.exitCode !== null) throw e;
    }
  }
});

after(() => {
  if (dnsmasq?.exitCode === null) dnsmasq.kill('SIGKILL');
});

test('UDP: CNAME then A, as dig sees them', { skip }, async () => {
  const res = parseDnsMessage(
    await udpQuery(
      encode({
        type: 'query',
        id: 0x1111,
        flags: 0x0100,
        questions: [{ type: 'A', name: 'WWW.phonehome.test' }],
      }),
    ),
  );
  assert.equal(res?.id, 0x1111);
  assert.equal(res?.isResponse, true);
  assert.deepEqual(res?.questions, [{ name: 'www.phonehome.test', type: 'A' }]);
  // dig +short prints the CNAME target with its dot, then the address.
  assert.deepEqual(
    res?.answers.map((a) => (a.type === 'CNAME' ? `${a.data}.` : a.data)),
    dig('A', 'www.phonehome.test'),
  );
  assert.deepEqual(
    res?.answers.map((a) => [a.name, a.type]),
    [
      ['www.phonehome.test', 'CNAME'],
      ['a.phonehome.test', 'A'],
    ],
  );
});

test('UDP: AAAA', { skip }, async () => {
  const res = parseDnsMessage(
    await udpQuery(
      encode({
        type: 'query',
        id: 2,
        flags: 0x0100,
        questions: [{ type: 'AAAA', name: 'a.phonehome.test' }],
      }),
    ),
  );
  assert.deepEqual(
    res?.answers.map((a) => a.data),
    dig('AAAA', 'a.phonehome.test'),
  );
});

test('UDP: HTTPS records, ServiceMode with address hints and AliasMode', { skip }, async () => {
  const res = parseDnsMessage(
    await udpQuery(
      encode({
        type: 'query',
        id: 3,
        flags: 0x0100,
        questions: [{ type: 'UNKNOWN_65' as 'A', name: 'svc.phonehome.test' }],
      }),
    ),
  );
  const [digLine] = dig('HTTPS', 'svc.phonehome.test');
  assert.ok(digLine, 'dig got an HTTPS answer');
  const hintsFromDig = [...digLine.matchAll(/ipv[46]hint=(\S+)/g)].flatMap((m) => m[1]!.split(','));
  assert.equal(res?.answers.length, 1);
  const [https] = res!.answers;
  assert.equal(https?.type, 'HTTPS');
  assert.equal(https?.data, 'svc.phonehome.test'); // target "." = the owner name
  assert.deepEqual(https?.hints, hintsFromDig);
  assert.deepEqual(hintsFromDig, ['192.0.2.1', '192.0.2.2', '2001:db8::1']);

  const alias = parseDnsMessage(
    await udpQuery(
      encode({
        type: 'query',
        id: 4,
        flags: 0x0100,
        questions: [{ type: 'UNKNOWN_65' as 'A', name: 'alias.phonehome.test' }],
      }),
    ),
  );
  assert.equal(`0 ${alias?.answers[0]?.data}.`, dig('HTTPS', 'alias.phonehome.test')[0]);
});

test('UDP: a name that does not exist is NXDOMAIN', { skip }, async () => {
  const res = parseDnsMessage(
    await udpQuery(
      encode({
        type: 'query',
        id: 5,
        flags: 0x0100,
        questions: [{ type: 'A', name: 'nope.phonehome.test' }],
      }),
    ),
  );
  assert.equal(res?.rcode, 3);
  assert.deepEqual(res?.answers, []);
});

test('TCP: three pipelined queries, answers split from the stream as it arrives', { skip }, async () => {
  const queries = [
    encode({ type: 'query', id: 21, flags: 0x0100, questions: [{ type: 'A', name: 'a.phonehome.test' }] }),
    encode({ type: 'query', id: 22, flags: 0x0100, questions: [{ type: 'AAAA', name: 'a.phonehome.test' }] }),
    encode({ type: 'query', id: 23, flags: 0x0100, questions: [{ type: 'A', name: 'www.phonehome.test' }] }),
  ];
  const sock = net.connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      sock.on('connect', () =>
        sock.write(
          Buffer.concat(
            queries.map((q) => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q])),
          ),
        ),
      );
      sock.on('error', reject);
      const timer = setTimeout(() => reject(new Error('no TCP answers')), 5000);
      let rest: Uint8Array = new Uint8Array(0);
      let got = 0;
      sock.on('data', (d: Buffer) => {
        chunks.push(d);
        const split = splitDnsTcpStream(Buffer.concat([rest, d]));
        rest = split.rest;
        got += split.messages.length;
        if (got === 3) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  } finally {
    sock.destroy();
  }
  const stream = Buffer.concat(chunks);
  // The same stream cut at every byte gives the same three answers.
  for (let cut = 0; cut <= stream.length; cut++) {
    const first = splitDnsTcpStream(stream.subarray(0, cut));
    const second = splitDnsTcpStream(Buffer.concat([first.rest, stream.subarray(cut)]));
    const ids = [...first.messages, ...second.messages].map((m) => parseDnsMessage(m)?.id).sort();
    assert.deepEqual(ids, [21, 22, 23], `cut at ${cut}`);
  }
  const answers = splitDnsTcpStream(stream).messages.map((m) => parseDnsMessage(m)!);
  const byId = new Map(answers.map((a) => [a.id, a]));
  assert.deepEqual(
    byId.get(21)?.answers.map((a) => a.data),
    dig('A', 'a.phonehome.test'),
  );
  assert.deepEqual(
    byId.get(22)?.answers.map((a) => a.data),
    dig('AAAA', 'a.phonehome.test'),
  );
});
