import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { concat } from '../../testing/capture-writer.js';
import {
  ethernetFrame,
  ipv4Packet,
  ipv6Packet,
  loopbackFrame,
  pcapdroidFrame,
  sll2Frame,
  sllFrame,
  tcpSegment,
  udpDatagram,
} from '../../testing/packet-builder.js';
import { type Frame, type Packet, TCP_ACK, TCP_PSH, TCP_SYN } from './packet.js';
import { type DecoderStats, PacketDecoder } from './packet-decoder.js';

const enc = new TextEncoder();
const text = (d: Uint8Array) => new TextDecoder().decode(d);

let nextIndex = 0;
function frame(data: Uint8Array, linkType: number, extra: Partial<Frame> = {}): Frame {
  return {
    ts: 1000 + nextIndex,
    linkType,
    interfaceId: 0,
    data,
    origLen: data.length,
    index: nextIndex++,
    offset: 0,
    ...extra,
  };
}

const hello = enc.encode('GET / HTTP/1.1\r\n\r\n');
const tcp4 = () =>
  ipv4Packet(
    { src: '10.0.0.2', dst: '93.184.216.34', proto: 6 },
    tcpSegment({ srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 7, flags: TCP_PSH | TCP_ACK }, hello),
  );
const udp6 = () =>
  ipv6Packet(
    { src: '2001:db8:0:0:0:0:0:1', dst: '2001:4860:4860::8888', proto: 17 },
    udpDatagram(5353, 53, enc.encode('dns?')),
  );

function decodeOne(f: Frame, dec = new PacketDecoder()): Packet {
  const p = dec.decode(f);
  assert.ok(p, `frame not decoded; skipped: ${JSON.stringify(dec.skipped())}`);
  return p;
}

function reasons(dec: PacketDecoder): Record<string, number> {
  return Object.fromEntries(dec.skipped().map((s) => [s.reason, s.count]));
}

describe('link types', () => {
  const cases: [string, Uint8Array, number][] = [
    ['Ethernet', ethernetFrame(tcp4()), 1],
    ['Ethernet 802.1Q', ethernetFrame(tcp4(), { vlans: [[0x8100, 42]] }), 1],
    [
      'Ethernet QinQ (802.1ad outer, 802.1Q inner)',
      ethernetFrame(tcp4(), {
        vlans: [
          [0x88a8, 100],
          [0x8100, 42],
        ],
      }),
      1,
    ],
    ['Linux cooked SLL', sllFrame(tcp4()), 113],
    ['Linux cooked SLL2', sll2Frame(tcp4()), 276],
    ['raw IP (101)', tcp4(), 101],
    ['raw IP (12)', tcp4(), 12],
    ['raw IP (14)', tcp4(), 14],
    ['IPv4 (228)', tcp4(), 228],
    ['BSD NULL, little endian AF_INET', loopbackFrame(tcp4(), 2, true), 0],
    ['BSD NULL, big endian AF_INET', loopbackFrame(tcp4(), 2, false), 0],
    ['OpenBSD LOOP', loopbackFrame(tcp4(), 2, false), 108],
  ];
  for (const [name, data, lt] of cases) {
    test(`${name}: IPv4 TCP`, () => {
      const p = decodeOne(frame(data, lt));
      assert.equal(p.ipVersion, 4);
      assert.equal(p.src, '10.0.0.2');
      assert.equal(p.dst, '93.184.216.34');
      assert.equal(p.proto, 6);
      assert.equal(p.srcPort, 40000);
      assert.equal(p.dstPort, 80);
      assert.deepEqual(p.tcp, { seq: 0xfffffff0, ack: 7, flags: TCP_PSH | TCP_ACK });
      assert.equal(text(p.payload), 'GET / HTTP/1.1\r\n\r\n');
      assert.equal(p.payloadLen, hello.length);
      assert.equal(p.ipPayloadLen, 20 + hello.length);
      assert.equal(p.truncated, false);
    });
  }
  const v6cases: [string, Uint8Array, number][] = [
    ['Ethernet', ethernetFrame(udp6()), 1],
    ['SLL2', sll2Frame(udp6()), 276],
    ['IPv6 (229)', udp6(), 229],
    ['BSD NULL AF_INET6 24 (little endian)', loopbackFrame(udp6(), 24, true), 0],
    ['BSD NULL AF_INET6 28 (big endian)', loopbackFrame(udp6(), 28, false), 0],
    ['BSD NULL AF_INET6 30 (little endian)', loopbackFrame(udp6(), 30, true), 0],
    ['LOOP AF_INET6 24', loopbackFrame(udp6(), 24, false), 108],
  ];
  for (const [name, data, lt] of v6cases) {
    test(`${name}: IPv6 UDP`, () => {
      const p = decodeOne(frame(data, lt));
      assert.equal(p.ipVersion, 6);
      assert.equal(p.src, '2001:db8::1');
      assert.equal(p.dst, '2001:4860:4860::8888');
      assert.equal(p.proto, 17);
      assert.deepEqual([p.srcPort, p.dstPort, p.payloadLen, p.ipPayloadLen], [5353, 53, 4, 12]);
      assert.equal(p.tcp, undefined);
      assert.equal(text(p.payload), 'dns?');
    });
  }

  test('non-IP frames and unknown link types are skipped by reason, first frame remembered', () => {
    const dec = new PacketDecoder();
    const arp = frame(ethernetFrame(new Uint8Array(28), { ethertype: 0x0806 }), 1);
    assert.equal(dec.decode(arp), undefined);
    assert.equal(dec.decode(frame(ethernetFrame(new Uint8Array(28), { ethertype: 0x0806 }), 1)), undefined);
    const usb = frame(tcp4(), 147);
    assert.equal(dec.decode(usb), undefined);
    assert.equal(dec.decode(frame(loopbackFrame(tcp4(), 7, true), 0)), undefined);
    assert.equal(dec.decode(frame(new Uint8Array(5), 1)), undefined);
    assert.deepEqual(dec.skipped(), [
      { reason: 'non-ip-ethertype-0x0806', count: 2, firstFrame: arp.index },
      { reason: 'unknown-linktype-147', count: 1, firstFrame: usb.index },
      { reason: 'loopback-family-7', count: 1, firstFrame: usb.index + 1 },
      { reason: 'link-short-header', count: 1, firstFrame: usb.index + 2 },
    ]);
    assert.equal(dec.stats().decoded, 0);
  });
});

describe('IPv4', () => {
  test('header options are stepped over', () => {
    const ip = ipv4Packet(
      { src: '192.168.1.10', dst: '8.8.8.8', proto: 17, options: Uint8Array.of(0x94, 4, 0, 0, 1, 1, 1, 0) },
      udpDatagram(1000, 53, enc.encode('abc')),
    );
    const p = decodeOne(frame(ip, 101));
    assert.deepEqual(
      [p.src, p.dst, p.srcPort, p.dstPort, text(p.payload), p.ipPayloadLen],
      ['192.168.1.10', '8.8.8.8', 1000, 53, 'abc', 11],
    );
  });

  test('TCP options: the payload starts after the data offset', () => {
    const seg = tcpSegment(
      { srcPort: 1, dstPort: 443, flags: TCP_SYN, options: Uint8Array.of(2, 4, 5, 0xb4, 4, 2, 8, 10) },
      enc.encode('x'),
    );
    const p = decodeOne(frame(ipv4Packet({ src: '1.2.3.4', dst: '5.6.7.8', proto: 6 }, seg), 101));
    assert.equal(p.tcp!.flags, TCP_SYN);
    assert.equal(text(p.payload), 'x');
    assert.equal(p.payloadLen, 1);
    assert.equal(p.ipPayloadLen, 29);
  });

  test('ICMP: type and code in the port fields; other protocols by number', () => {
    const echo = ipv4Packet(
      { src: '1.1.1.1', dst: '2.2.2.2', proto: 1 },
      Uint8Array.of(8, 0, 0, 0, 0, 1, 0, 1, 9, 9),
    );
    const p = decodeOne(frame(echo, 101));
    assert.deepEqual([p.proto, p.srcPort, p.dstPort, p.payloadLen], [1, 8, 0, 6]);
    const unreachable = ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', proto: 1 }, Uint8Array.of(3, 13, 0, 0));
    assert.deepEqual(
      [decodeOne(frame(unreachable, 101)).srcPort, decodeOne(frame(unreachable, 101)).dstPort],
      [3, 13],
    );
    const gre = decodeOne(
      frame(ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', proto: 47 }, new Uint8Array(24)), 101),
    );
    assert.deepEqual(
      [gre.proto, gre.srcPort, gre.dstPort, gre.payloadLen, gre.ipPayloadLen],
      [47, 0, 0, 24, 24],
    );
  });

  test('a GSO/TSO packet larger than the MTU is normal', () => {
    const big = new Uint8Array(60000).fill(7);
    const ip = ipv4Packet(
      { src: '10.0.0.1', dst: '10.0.0.2', proto: 6 },
      tcpSegment({ srcPort: 1, dstPort: 2 }, big),
    );
    const p = decodeOne(frame(ethernetFrame(ip), 1));
    assert.equal(p.payloadLen, 60000);
    assert.equal(p.payload.length, 60000);
  });

  test('TSO capture with total length 0: the captured length counts', () => {
    const ip = ipv4Packet(
      { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, totalLength: 0 },
      tcpSegment({ srcPort: 1, dstPort: 2 }, new Uint8Array(3000)),
    );
    const p = decodeOne(frame(ethernetFrame(ip), 1));
    assert.equal(p.ipPayloadLen, 3020);
    assert.equal(p.payloadLen, 3000);
    assert.equal(p.truncated, false);
  });

  test('truncated by snaplen: what is there is decoded, the declared lengths kept', () => {
    const ip = tcp4();
    const cut = ethernetFrame(ip).subarray(0, 14 + 20 + 20 + 4);
    const dec = new PacketDecoder();
    const p = decodeOne(frame(cut, 1, { origLen: 14 + ip.length }), dec);
    assert.equal(p.truncated, true);
    assert.equal(p.ipPayloadLen, 20 + hello.length);
    assert.equal(p.payloadLen, hello.length);
    assert.equal(text(p.payload), 'GET ');
    assert.equal(p.srcPort, 40000);
    assert.equal(dec.stats().truncated, 1);
  });

  test('malformed packets are skipped with a reason and never throw', () => {
    const dec = new PacketDecoder();
    const good = tcp4();
    const v0 = good.slice();
    v0[0] = 0x05;
    const shortHdr = good.subarray(0, 16);
    const badIhl = good.slice();
    badIhl[0] = 0x43;
    const badTotal = good.slice();
    badTotal[2] = 0;
    badTotal[3] = 10;
    const badOffset = good.slice();
    badOffset[20 + 12] = 0x30;
    const shortUdp = ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17 }, Uint8Array.of(0, 53, 0, 53));
    const shortTcp = ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', proto: 6 }, new Uint8Array(12));
    for (const d of [v0, shortHdr, badIhl, badTotal, badOffset, shortUdp, shortTcp, new Uint8Array(0)]) {
      assert.equal(dec.decode(frame(d, 101)), undefined);
    }
    assert.deepEqual(reasons(dec), {
      'ip-version-0': 1,
      'ipv4-short-header': 1,
      'ipv4-bad-header-length': 1,
      'ipv4-bad-total-length': 1,
      'tcp-bad-offset': 1,
      'udp-short-header': 1,
      'tcp-short-header': 1,
      'ip-short-header': 1,
    });
  });

  test('random bytes never throw, on any link type', () => {
    const dec = new PacketDecoder();
    let seed = 12345;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let i = 0; i < 20000; i++) {
      const d = new Uint8Array(rnd() % 120);
      for (let j = 0; j < d.length; j++) d[j] = rnd() & 255;
      if (d.length > 0 && i % 2 === 0) d[0] = (i % 4 === 0 ? 0x45 : 0x60) | (d[0]! & 0x0f);
      const lt = [1, 101, 113, 276, 0, 108, 229][i % 7]!;
      dec.decode(frame(d, lt, { origLen: d.length + (rnd() % 3) }));
    }
    const s = dec.stats();
    const skipped = dec.skipped().reduce((a, x) => a + x.count, 0);
    assert.ok(s.decoded + skipped > 0);
  });
});

describe('IPv6', () => {
  test('extension header chain: hop-by-hop, routing, destination options, then TCP', () => {
    const ip = ipv6Packet(
      {
        src: 'fe80::1',
        dst: 'ff02::1:ff2d:3b8e',
        proto: 6,
        extensions: [{ type: 0 }, { type: 43, body: new Uint8Array(14) }, { type: 60 }],
      },
      tcpSegment({ srcPort: 5, dstPort: 6 }, enc.encode('hi')),
    );
    const p = decodeOne(frame(ip, 229));
    assert.deepEqual([p.proto, p.srcPort, p.dstPort, text(p.payload), p.ipPayloadLen], [6, 5, 6, 'hi', 22]);
  });

  test('AH is stepped over in 4-byte units; ESP and no-next-header end the chain', () => {
    const ah = ipv6Packet(
      { src: '::1', dst: '::2', proto: 17, extensions: [{ type: 51, body: new Uint8Array(14) }] },
      udpDatagram(500, 500),
    );
    assert.equal(decodeOne(frame(ah, 229)).dstPort, 500);
    const esp = ipv6Packet({ src: '::1', dst: '::2', proto: 50 }, new Uint8Array(40));
    const e = decodeOne(frame(esp, 229));
    assert.deepEqual([e.proto, e.srcPort, e.ipPayloadLen], [50, 0, 40]);
    const none = ipv6Packet(
      { src: '::1', dst: '::2', proto: 59, extensions: [{ type: 60 }] },
      new Uint8Array(0),
    );
    assert.equal(decodeOne(frame(none, 229)).proto, 59);
  });

  test('ICMPv6 type and code', () => {
    const ns = ipv6Packet(
      { src: '::', dst: 'ff02::1:ff00:1', proto: 58 },
      Uint8Array.of(135, 0, 0, 0, 0, 0, 0, 0),
    );
    const p = decodeOne(frame(ns, 229));
    assert.deepEqual([p.src, p.proto, p.srcPort, p.dstPort], ['::', 58, 135, 0]);
  });

  test('an extension header running past the packet is skipped', () => {
    const ip = ipv6Packet(
      { src: '::1', dst: '::2', proto: 6, extensions: [{ type: 60 }] },
      new Uint8Array(0),
    );
    ip[41] = 9; // claims 80 bytes
    const dec = new PacketDecoder();
    assert.equal(dec.decode(frame(ip, 229)), undefined);
    assert.deepEqual(reasons(dec), { 'ipv6-bad-ext-header': 1 });
  });

  test('addresses are in RFC 5952 form', () => {
    const cases: [string, string][] = [
      ['2001:0DB8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ];
    for (const [input, want] of cases) {
      const p = decodeOne(frame(ipv6Packet({ src: input, dst: '::1', proto: 59 }, new Uint8Array(0)), 229));
      assert.equal(p.src, want, input);
    }
  });
});

describe('IP fragments', () => {
  const payload = enc.encode('A'.repeat(1000) + 'B'.repeat(1000) + 'C'.repeat(500));
  const udp = udpDatagram(4444, 53, payload);
  function v4frags(id: number, order: number[]): Uint8Array[] {
    const pieces = [
      [0, 1000],
      [1000, 2000],
      [2000, udp.length],
    ] as const;
    return order.map((i) => {
      const [a, b] = pieces[i]!;
      return ipv4Packet(
        { src: '10.1.1.1', dst: '10.2.2.2', proto: 17, id, fragOffset: a, more: b < udp.length },
        udp.subarray(a, b),
      );
    });
  }
  // The UDP checksum is filled only in unfragmented packets; that does not matter to the decoder.

  function run(frames: Uint8Array[], dec = new PacketDecoder()): (Packet | undefined)[] {
    return frames.map((f) => dec.decode(frame(f, 101)));
  }

  for (const order of [
    [0, 1, 2],
    [2, 0, 1],
    [1, 2, 0],
    [0, 0, 2, 1],
  ]) {
    test(`IPv4 fragments in order ${order} are reassembled into one packet`, () => {
      const dec = new PacketDecoder();
      const out = run(v4frags(7, order), dec);
      assert.deepEqual(
        out.slice(0, -1).map((p) => p),
        new Array(order.length - 1).fill(undefined),
      );
      const p = out.at(-1)!;
      assert.ok(p);
      assert.deepEqual([p.srcPort, p.dstPort, p.payloadLen, p.ipPayloadLen], [4444, 53, 2500, 2508]);
      assert.equal(text(p.payload), text(payload));
      assert.equal(dec.stats().fragmentsReassembled, 1);
      assert.equal(dec.stats().fragmentsIncomplete, 0);
      assert.deepEqual(dec.skipped(), []);
    });
  }

  test('overlapping fragments and fragments past the end never throw', () => {
    const frag = (off: number, more: boolean, len: number, id = 5) =>
      ipv4Packet(
        { src: '10.1.1.1', dst: '10.2.2.2', proto: 17, id, fragOffset: off, more },
        udp.subarray(0, len),
      );
    const dec = new PacketDecoder();
    // A piece beyond the end a later "last" fragment sets, then overlapping pieces.
    const out = run(
      [frag(2000, true, 80), frag(0, true, 1000), frag(800, false, 400), frag(1000, true, 200)],
      dec,
    );
    const p = out.find(Boolean);
    assert.ok(p, JSON.stringify(dec.skipped()));
    assert.equal(p.ipPayloadLen, 1200);
    const tooLarge = run([frag(65528, false, 16, 6)], dec);
    assert.deepEqual(tooLarge, [undefined]);
    assert.equal(reasons(dec)['ip-fragment-too-large'], 1);
  });

  test('random fragment soup never throws and every frame is accounted for', () => {
    const dec = new PacketDecoder({ maxSets: 8, maxBytes: 20000 });
    let seed = 99;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let returned = 0;
    const N = 5000;
    for (let i = 0; i < N; i++) {
      const off = rnd(16) * 8;
      const len = 64 + rnd(200);
      const ip = ipv4Packet(
        { src: '10.1.1.1', dst: '10.2.2.2', proto: 17, id: rnd(12), fragOffset: off, more: rnd(3) > 0 },
        new Uint8Array(len),
      );
      if (dec.decode(frame(ip, 101))) returned++;
    }
    dec.flush();
    const s = dec.stats();
    const skippedFrames = dec.skipped().reduce((a, x) => a + x.count, 0);
    assert.equal(s.decoded, returned);
    assert.ok(s.fragmentsReassembled > 0, 'some datagrams completed');
    // Every frame either completed a datagram, was part of one, or was counted as skipped.
    assert.ok(returned + skippedFrames <= N);
    assert.ok(skippedFrames > 0);
  });

  test('interleaved datagrams with different ids stay apart', () => {
    const a = v4frags(1, [0, 1, 2]);
    const b = v4frags(2, [2, 1, 0]);
    const out = run([a[0]!, b[0]!, a[1]!, b[1]!, a[2]!, b[2]!]);
    assert.equal(out.filter(Boolean).length, 2);
  });

  test('later fragments whose first never came are counted as first-missing', () => {
    const dec = new PacketDecoder();
    const out = run(v4frags(9, [1, 2]), dec);
    assert.deepEqual(out, [undefined, undefined]);
    assert.deepEqual(reasons(dec), { 'ip-fragment-first-missing': 2 });
    assert.equal(dec.stats().fragmentsIncomplete, 1);
    dec.flush();
    assert.deepEqual(reasons(dec), { 'ip-fragment-first-missing': 2 });
    assert.equal(dec.stats().fragmentsIncomplete, 1);
  });

  test('a datagram missing a middle fragment is incomplete; old ones expire', () => {
    const dec = new PacketDecoder({ timeoutSec: 30 });
    const [f0, , f2] = v4frags(3, [0, 1, 2]);
    dec.decode(frame(f0!, 101, { ts: 100 }));
    dec.decode(frame(f2!, 101, { ts: 101 }));
    assert.equal(dec.stats().fragmentsIncomplete, 1);
    // A fragment of another datagram 31 s later makes the first one expire.
    dec.decode(frame(v4frags(4, [0])[0]!, 101, { ts: 132 }));
    assert.deepEqual(reasons(dec), { 'ip-fragment-incomplete': 3 });
    assert.equal(dec.stats().fragmentsIncomplete, 2);
  });

  test('memory is bounded: beyond maxSets the oldest datagram is given up', () => {
    const dec = new PacketDecoder({ maxSets: 4 });
    for (let id = 0; id < 10; id++) dec.decode(frame(v4frags(id, [0])[0]!, 101));
    const s: DecoderStats = dec.stats();
    assert.equal(s.fragmentsIncomplete, 10);
    // The last four datagrams can still complete.
    const rest = run(v4frags(9, [1, 2]), dec);
    assert.ok(rest[1]);
    assert.equal(dec.stats().fragmentsIncomplete, 9);
  });

  test('memory is bounded: beyond maxBytes the oldest datagrams are given up', () => {
    const dec = new PacketDecoder({ maxBytes: 2500 });
    for (let id = 0; id < 5; id++) dec.decode(frame(v4frags(id, [0])[0]!, 101));
    assert.equal(dec.stats().fragmentsIncomplete, 5);
    assert.ok(reasons(dec)['ip-fragment-incomplete']! >= 3);
  });

  test('IPv6 fragments are reassembled and the chain continues in the payload', () => {
    const seg = tcpSegment({ srcPort: 443, dstPort: 50000, seq: 1 }, new Uint8Array(3000).fill(0x5a));
    const cuts = [0, 1232, 2464, seg.length];
    const frags = [2, 0, 1].map((i) =>
      ipv6Packet(
        {
          src: '2a00:1450::1',
          dst: '2001:db8::2',
          proto: 6,
          extensions: [{ type: 0 }, { type: 44, fragOffset: cuts[i]!, more: i < 2, id: 77 }],
        },
        seg.subarray(cuts[i]!, cuts[i + 1]!),
      ),
    );
    const dec = new PacketDecoder();
    const out = frags.map((f) => dec.decode(frame(f, 229)));
    assert.deepEqual(out.slice(0, 2), [undefined, undefined]);
    const p = out[2]!;
    assert.deepEqual(
      [p.proto, p.srcPort, p.dstPort, p.payloadLen, p.ipPayloadLen],
      [6, 443, 50000, 3000, 3020],
    );
    assert.ok(p.payload.every((b) => b === 0x5a));
    assert.equal(dec.stats().fragmentsReassembled, 1);
  });

  test('an atomic IPv6 fragment (offset 0, no more) is just a packet', () => {
    const ip = ipv6Packet(
      { src: '::1', dst: '::2', proto: 17, extensions: [{ type: 44, fragOffset: 0, more: false }] },
      udpDatagram(1, 2, enc.encode('z')),
    );
    assert.equal(text(decodeOne(frame(ip, 229)).payload), 'z');
  });
});

describe('PCAPdroid trailer', () => {
  for (const [name, ip] of [
    ['IPv4 TCP', tcp4()],
    ['IPv6 UDP', udp6()],
    [
      'IPv4, length already a multiple of 4',
      ipv4Packet({ src: '1.1.1.1', dst: '2.2.2.2', proto: 17 }, udpDatagram(1, 2, new Uint8Array(2))),
    ],
  ] as const) {
    test(`${name}: the app is read and the trailer is not payload`, () => {
      const f = pcapdroidFrame(ip, 10123, 'com.example.tracker');
      const plain = decodeOne(frame(ethernetFrame(ip), 1));
      const p = decodeOne(frame(f, 1));
      assert.deepEqual(p.app, { uid: 10123, name: 'com.example.tracker' });
      assert.equal(p.payloadLen, plain.payloadLen);
      assert.equal(p.ipPayloadLen, plain.ipPayloadLen);
      assert.deepEqual(p.payload, plain.payload);
    });
  }

  test('uid -1 and a 20-byte name without NUL', () => {
    const p = decodeOne(frame(pcapdroidFrame(tcp4(), -1, 'abcdefghijklmnopqrstuvwxyz'), 1));
    assert.deepEqual(p.app, { uid: -1, name: 'abcdefghijklmnopqrst' });
  });

  test('a bad CRC leaves the packet without app, counted', () => {
    const dec = new PacketDecoder();
    const p = decodeOne(frame(pcapdroidFrame(tcp4(), 10123, 'x', true), 1), dec);
    assert.equal(p.app, undefined);
    assert.equal(p.payloadLen, hello.length);
    assert.equal(dec.stats().pcapdroidBadCrc, 1);
  });

  test('Ethernet padding with real MACs is not mistaken for a trailer', () => {
    const ip = tcp4();
    const f = concat([ethernetFrame(ip), pcapdroidFrame(ip, 1, 'y').subarray(-32)]);
    assert.equal(decodeOne(frame(f, 1)).app, undefined);
  });
});
