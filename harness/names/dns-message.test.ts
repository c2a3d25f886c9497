import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { decode, encode } from 'dns-packet';
import { startUdpRecorder } from '../../testing/first-bytes-recorder.js';
import { haveCommand, PCAPDROID_DIR, tsharkFields } from '../../testing/names-test-data.js';
import { dnsTypeName, parseDnsMessage, splitDnsTcpStream } from './dns-message.js';
import { hostNameValid } from './host-name.js';

const hasTshark = haveCommand('tshark', ['-v']);
const TYPES: Record<string, string> = { '1': 'A', '28': 'AAAA', '5': 'CNAME', '65': 'HTTPS', '64': 'SVCB' };

/** SVCB/HTTPS RDATA (RFC 9460 §2.2): priority, target (uncompressed), then sorted key=value params. */
function svcbRdata(priority: number, target: string, params: [number, Uint8Array][]): Buffer {
  const labels = target === '.' ? [] : target.split('.');
  const name = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);
  const ps = params.map(([k, v]) =>
    Buffer.concat([Buffer.from([k >> 8, k & 0xff, v.length >> 8, v.length & 0xff]), v]),
  );
  return Buffer.concat([Buffer.from([priority >> 8, priority & 0xff]), name, ...ps]);
}

const alpnParam = (ids: string[]): [number, Uint8Array] => [
  1,
  Buffer.concat(ids.map((id) => Buffer.concat([Buffer.from([id.length]), Buffer.from(id)]))),
];

test('PCAPdroid capture: every DNS message (UDP and TCP) agrees with tshark', {
  skip: !hasTshark && 'tshark not installed',
}, () => {
  const rows = tsharkFields(`${PCAPDROID_DIR}/metadata.pcap`, 'dns', [
    'udp.payload',
    'tcp.payload',
    'dns.id',
    'dns.flags.response',
    'dns.flags.rcode',
    'dns.qry.name',
    'dns.qry.type',
    'dns.a',
    'dns.aaaa',
  ]);
  assert.ok(rows.length >= 30, `${rows.length} DNS messages`);
  let tcp = 0;
  for (const [udpPayload, tcpPayload, id, response, rcode, qname, qtype, a, aaaa] of rows) {
    let payload = Buffer.from(udpPayload || '', 'hex');
    if (tcpPayload) {
      const split = splitDnsTcpStream(Buffer.from(tcpPayload, 'hex'));
      assert.equal(split.messages.length, 1);
      assert.equal(split.rest.length, 0);
      payload = Buffer.from(split.messages[0]!);
      tcp++;
    }
    const info = parseDnsMessage(payload);
    assert.ok(info, `message ${id} parsed`);
    assert.equal(info.id, Number(id));
    assert.equal(info.isResponse, response === '1');
    assert.equal(info.rcode, Number(rcode || 0));
    assert.deepEqual(info.questions, [{ name: qname, type: TYPES[qtype!] }]);
    const addrs = (type: string) => info.answers.filter((x) => x.type === type).map((x) => x.data);
    assert.deepEqual(addrs('A'), a ? a.split(',') : []);
    assert.deepEqual(addrs('AAAA'), aaaa ? aaaa.split(',') : []);
    for (const ans of info.answers) assert.equal(ans.name, qname);
  }
  assert.ok(tcp >= 2, 'DNS over TCP messages were among them');
});

test('SOA in the authority section of a NODATA answer is not an answer', {
  skip: !hasTshark && 'no tshark',
}, () => {
  const [row] = tsharkFields(`${PCAPDROID_DIR}/metadata.pcap`, 'dns.flags.response == 1 && dns.soa.mname', [
    'udp.payload',
  ]);
  const info = parseDnsMessage(Buffer.from(row![0]!, 'hex'));
  assert.equal(info?.isResponse, true);
  assert.deepEqual(info?.answers, []);
});

test('a query sent by dig', { skip: !haveCommand('dig', ['-v']) && 'no dig' }, async () => {
  const rec = await startUdpRecorder();
  const dig = spawn(
    'dig',
    ['@127.0.0.1', '-p', String(rec.port), '+tries=1', '+time=2', 'HTTPS', 'Dig.PhoneHome.TEST.'],
    {
      stdio: 'ignore',
    },
  );
  dig.on('error', () => {});
  try {
    const [query] = await rec.until((ds) => ds.length > 0, AbortSignal.timeout(5000));
    const info = parseDnsMessage(query!);
    assert.equal(info?.isResponse, false);
    assert.deepEqual(info?.questions, [{ name: 'dig.phonehome.test', type: 'HTTPS' }]);
  } finally {
    if (dig.exitCode === null) dig.kill('SIGKILL');
    await rec.close();
  }
});

test('answers: CNAME chain, A, AAAA and HTTPS with address hints', () => {
  const v6 = Buffer.from('20010db8000000000000000000000001', 'hex');
  const msg = encode({
    type: 'response',
    id: 0x4242,
    flags: 0x8180,
    questions: [{ type: 'A', name: 'WWW.Example.TEST' }],
    answers: [
      { type: 'CNAME', name: 'www.example.test', ttl: 300, data: 'Edge.CDN.test.' },
      { type: 'A', name: 'edge.cdn.test', ttl: 60, data: '192.0.2.10' },
      { type: 'AAAA', name: 'edge.cdn.test', ttl: 60, data: '2001:db8:0:0::a' },
      {
        type: 'UNKNOWN_65',
        name: 'edge.cdn.test',
        ttl: 30,
        data: svcbRdata(1, '.', [
          alpnParam(['h3', 'h2']),
          [4, Buffer.from([192, 0, 2, 1, 192, 0, 2, 2])],
          [6, v6],
        ]),
      } as never,
      {
        type: 'UNKNOWN_64',
        name: '_dns.resolver.arpa',
        ttl: 30,
        data: svcbRdata(1, 'doh.cdn.test', []),
      } as never,
      { type: 'UNKNOWN_65', name: 'alias.test', ttl: 30, data: svcbRdata(0, 'Target.Test', []) } as never,
      { type: 'TXT', name: 'edge.cdn.test', ttl: 30, data: 'ignored' },
    ],
  });
  const info = parseDnsMessage(msg);
  assert.deepEqual(info, {
    id: 0x4242,
    isResponse: true,
    rcode: 0,
    questions: [{ name: 'www.example.test', type: 'A' }],
    answers: [
      { name: 'www.example.test', type: 'CNAME', ttl: 300, data: 'edge.cdn.test' },
      { name: 'edge.cdn.test', type: 'A', ttl: 60, data: '192.0.2.10' },
      { name: 'edge.cdn.test', type: 'AAAA', ttl: 60, data: '2001:db8::a' },
      // Target "." in ServiceMode stands for the owner name.
      {
        name: 'edge.cdn.test',
        type: 'HTTPS',
        ttl: 30,
        data: 'edge.cdn.test',
        hints: ['192.0.2.1', '192.0.2.2', '2001:db8::1'],
      },
      { name: '_dns.resolver.arpa', type: 'SVCB', ttl: 30, data: 'doh.cdn.test' },
      { name: 'alias.test', type: 'HTTPS', ttl: 30, data: 'target.test' },
    ],
  });
});

test('NXDOMAIN rcode', () => {
  const msg = encode({
    type: 'response',
    id: 7,
    flags: 0x8183,
    questions: [{ type: 'AAAA', name: 'nope.test' }],
  });
  assert.equal(parseDnsMessage(msg)?.rcode, 3);
});

test('agrees with dns-packet on 3,000 well-formed messages of every section and many record types', () => {
  let seed = 2024;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return Math.floor((seed / 0x80000000) * n);
  };
  const pick = <T>(xs: readonly T[]): T => xs[rand(xs.length)]!;
  const label = () => {
    const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';
    let l = '';
    for (let i = 1 + rand(20); i > 0; i--) l += pick([...chars]);
    return l;
  };
  const suffixes = ['example.test', 'cdn.Example.TEST', 'xiaomi.test'];
  const name = () =>
    `${Array.from({ length: rand(3) }, label).join('.')}${rand(2) ? '.' : ''}${pick(suffixes)}`;
  const ipv6 = () =>
    Array.from({ length: 8 }, () => (rand(3) === 0 ? 0 : rand(0x10000)).toString(16)).join(':');
  const record = () => {
    const owner = name();
    switch (rand(9)) {
      case 0:
        return {
          type: 'A',
          name: owner,
          ttl: rand(1e5),
          data: `${rand(256)}.${rand(256)}.${rand(256)}.${rand(256)}`,
        };
      case 1:
        return { type: 'AAAA', name: owner, ttl: rand(1e5), data: ipv6() };
      case 2:
        return { type: 'CNAME', name: owner, ttl: rand(1e5), data: name() };
      case 3:
        return { type: 'TXT', name: owner, ttl: 1, data: [label(), label()] };
      case 4:
        return { type: 'MX', name: owner, ttl: 1, data: { preference: rand(100), exchange: name() } };
      case 5:
        return {
          type: 'SRV',
          name: owner,
          ttl: 1,
          data: { priority: 1, weight: 2, port: rand(65536), target: name() },
        };
      case 6:
        return { type: 'PTR', name: owner, ttl: 1, data: name() };
      case 7:
        return { type: 'NS', name: owner, ttl: 1, data: name() };
      default: {
        const soa = {
          mname: name(),
          rname: name(),
          serial: rand(1e9),
          refresh: 1,
          retry: 2,
          expire: 3,
          minimum: 4,
        };
        return { type: 'SOA', name: owner, ttl: 1, data: soa };
      }
    }
  };
  const qtypes = ['A', 'AAAA', 'HTTPS', 'SVCB', 'PTR', 'TXT', 'ANY', 'SRV', 'MX', 'NS', 'UNKNOWN_4321'];
  const kept = new Set(['A', 'AAAA', 'CNAME']);
  const asWeKeep = (n: string) => (n === '' || n === '.' ? '.' : n.replace(/\.$/, '').toLowerCase());
  for (let i = 0; i < 3000; i++) {
    const msg = encode({
      type: rand(2) ? 'response' : 'query',
      id: rand(65536),
      flags: rand(16),
      questions: Array.from({ length: rand(3) }, () => ({ type: pick(qtypes) as 'A', name: name() })),
      answers: Array.from({ length: rand(6) }, record) as never,
      authorities: Array.from({ length: rand(2) }, record) as never,
      additionals: rand(2) ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232, flags: 0, options: [] }] : [],
    } as never);
    const ref = decode(msg);
    const ours = parseDnsMessage(msg);
    assert.ok(ours, `message ${i} parsed`);
    assert.deepEqual(ours, {
      id: ref.id,
      isResponse: ref.type === 'response',
      rcode: (ref.flags ?? 0) & 0x0f,
      questions: (ref.questions ?? []).map((q) => ({
        name: asWeKeep(q.name),
        type: q.type.startsWith('UNKNOWN_') ? dnsTypeName(Number(q.type.slice(8))) : q.type,
      })),
      answers: (ref.answers ?? [])
        .filter((a) => kept.has(a.type))
        .map((a) => ({
          name: asWeKeep(a.name),
          type: a.type,
          ttl: (a as { ttl: number }).ttl,
          data: asWeKeep((a as { data: string }).data),
        })),
    });
  }
});

test('compressed names: an owner that is a pointer, a CNAME target that ends in one', () => {
  const header = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
  const question = [3, 0x57, 0x57, 0x57, 3, 0x63, 0x64, 0x6e, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]; // WWW.cdn.test A
  // www.cdn.test CNAME edge + pointer to "cdn.test" (offset 16); edge.cdn.test (pointer to the CNAME data) A 192.0.2.7.
  const cname = [0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 7, 4, 0x65, 0x64, 0x67, 0x65, 0xc0, 16];
  const a = [0xc0, 42, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7];
  const msg = Uint8Array.from([...header, ...question, ...cname, ...a]);
  assert.equal(msg[42], 4, 'the CNAME data starts at 42');
  assert.deepEqual(parseDnsMessage(msg), {
    id: 0x1234,
    isResponse: true,
    rcode: 0,
    questions: [{ name: 'www.cdn.test', type: 'A' }],
    answers: [
      { name: 'www.cdn.test', type: 'CNAME', ttl: 60, data: 'edge.cdn.test' },
      { name: 'edge.cdn.test', type: 'A', ttl: 60, data: '192.0.2.7' },
    ],
  });
  assert.deepEqual(
    decode(Buffer.from(msg)).answers?.map((x) => (x as { data: string }).data),
    ['edge.cdn.test', '192.0.2.7'],
  );
  // A pointer forward (to the A record) is refused, as a loop could hide behind it.
  const forward = Uint8Array.from(msg);
  forward[31] = 49; // the CNAME owner's pointer now points at the A record, after it
  assert.equal(parseDnsMessage(forward), undefined);
});

test('record types by name, and RFC 3597 form for the rest; a lying RDLENGTH or a pointer loop is malformed', () => {
  assert.equal(dnsTypeName(65), 'HTTPS');
  assert.equal(dnsTypeName(28), 'AAAA');
  assert.equal(dnsTypeName(4321), 'TYPE4321');
  const msg = encode({
    type: 'response',
    id: 3,
    questions: [{ type: 'A', name: 'a.test' }],
    answers: [
      { type: 'A', name: 'a.test', ttl: 1, data: '192.0.2.1' },
      { type: 'TXT', name: 'a.test', ttl: 1, data: 'x' },
    ],
  });
  // dns-packet writes names whole; the A record's RDLENGTH follows its owner, type, class and TTL.
  const rdlength = msg.indexOf(Buffer.from([1, 0x61, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]), 20) + 16;
  assert.deepEqual([...msg.subarray(rdlength, rdlength + 2)], [0, 4]);
  const lying = Buffer.from(msg);
  lying[rdlength + 1] = 5;
  assert.equal(parseDnsMessage(lying), undefined);
  // A question whose name points at itself.
  const loop = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1]);
  assert.equal(parseDnsMessage(loop), undefined);
  // A name with a space in it is kept, escaped, and so is the message.
  const spaced = encode({ type: 'query', id: 4, questions: [{ type: 'A', name: 'a b.test' }] });
  assert.deepEqual(parseDnsMessage(spaced)?.questions, [{ name: 'a\\x20b.test', type: 'A' }]);
});

test('garbage and truncation never throw', () => {
  const good = encode({
    type: 'response',
    id: 1,
    flags: 0x8180,
    questions: [{ type: 'A', name: 'a.test' }],
    answers: [
      { type: 'A', name: 'a.test', ttl: 1, data: '192.0.2.1' },
      {
        type: 'UNKNOWN_65',
        name: 'a.test',
        ttl: 1,
        data: svcbRdata(1, 'b.test', [[4, Buffer.from([192, 0, 2, 9])]]),
      } as never,
    ],
  });
  assert.ok(parseDnsMessage(good));
  let seed = 77;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  for (let i = 0; i < 20_000; i++) {
    const copy = Uint8Array.from(good);
    copy[Math.floor(rand() * copy.length)] = Math.floor(rand() * 256);
    const info = parseDnsMessage(copy.subarray(0, Math.floor(rand() * (copy.length + 1))));
    for (const a of info?.answers ?? []) assert.equal(typeof a.data, 'string');
  }
  for (let k = 0; k < good.length; k++) parseDnsMessage(good.subarray(0, k));
  assert.equal(parseDnsMessage(new Uint8Array(5)), undefined);
  assert.equal(parseDnsMessage(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), undefined);
});

test('DNS over TCP: several messages per segment, a message across segments, split at every byte', () => {
  const m1 = encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'one.test' }] });
  const m2 = encode({ type: 'query', id: 2, questions: [{ type: 'AAAA', name: 'two.test' }] });
  const m3 = encode({ type: 'query', id: 3, questions: [{ type: 'A', name: 'three.test' }] });
  const framed = (m: Buffer) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
  const stream = Buffer.concat([framed(m1), framed(m2), framed(m3)]);
  const all = splitDnsTcpStream(stream);
  assert.deepEqual(
    all.messages.map((m) => parseDnsMessage(m)?.id),
    [1, 2, 3],
  );
  assert.equal(all.rest.length, 0);
  for (let cut = 0; cut <= stream.length; cut++) {
    // Segment 1 ends at `cut`; the caller keeps `rest` and prepends it to segment 2.
    const first = splitDnsTcpStream(stream.subarray(0, cut));
    const second = splitDnsTcpStream(Buffer.concat([first.rest, stream.subarray(cut)]));
    const ids = [...first.messages, ...second.messages].map((m) => parseDnsMessage(m)?.id);
    assert.deepEqual(ids, [1, 2, 3], `cut at ${cut}`);
    assert.equal(second.rest.length, 0);
  }
  assert.deepEqual(splitDnsTcpStream(Uint8Array.from([0, 0, 0])).messages, []);
});

test('names with bytes no host name holds are kept escaped, never empty, their labels intact', () => {
  // Built by hand: a label holding NUL and ESC, a label holding a dot, a backslash, upper case.
  const label = (bytes: number[]) => [bytes.length, ...bytes];
  const ascii = (t: string) => [...t].map((c) => c.charCodeAt(0));
  const name = [
    ...label([0x61, 0x00, 0x62, 0x1b]),
    ...label(ascii('x.y')),
    ...label(ascii('Back\\')),
    ...label(ascii('evil')),
    ...label(ascii('TEST')),
    0,
  ];
  const msg = Uint8Array.from([0, 7, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1]);
  const q = parseDnsMessage(msg)?.questions[0];
  assert.equal(q?.name, 'a\\x00b\\x1b.x\\.y.back\\\\.evil.test');
  assert.equal(hostNameValid(q!.name), false);
  // The same name without the odd bytes is read as before, valid.
  const plain = Uint8Array.from([
    0,
    7,
    0x01,
    0x00,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    ...label(ascii('Evil')),
    ...label(ascii('test')),
    0,
    0,
    1,
    0,
    1,
  ]);
  assert.equal(parseDnsMessage(plain)?.questions[0]?.name, 'evil.test');
  assert.equal(hostNameValid('evil.test'), true);
});
