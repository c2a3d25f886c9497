/**
 * The packet layer against real captures from PCAPdroid's test suite, with tshark as the oracle for
 * what each frame holds.
 */

import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tsharkAvailable, tsharkFields } from '../../testing/tshark-fields.js';
import { readCapture } from './capture-parser.js';
import type { CaptureSummary } from './capture-summary.js';
import type { Frame, Packet } from './packet.js';
import { PacketDecoder } from './packet-decoder.js';

const DIR = join(process.cwd(), '..', 'shared', 'captures', 'pcapdroid');
const CRASH = 'crash-593ec6ead7a1bf23faa96d03cbd74c315bcf67fc';
const haveTshark = tsharkAvailable();
const noTshark = haveTshark ? false : 'tshark is not installed: the oracle comparison cannot run';
const noFiles = existsSync(DIR) ? false : `${DIR} is missing`;

interface Decoded {
  frames: Frame[];
  packets: (Packet | undefined)[];
  summary: CaptureSummary;
  decoder: PacketDecoder;
}

async function decodeFile(name: string): Promise<Decoded> {
  const decoder = new PacketDecoder();
  const frames: Frame[] = [];
  const packets: (Packet | undefined)[] = [];
  const summary = await readCapture(createReadStream(join(DIR, name), { highWaterMark: 4096 }), (f) => {
    frames.push({ ...f, data: f.data.slice() });
    packets.push(decoder.decode(f));
  });
  return { frames, packets, summary, decoder };
}

const FIELDS = [
  'frame.number',
  'frame.time_epoch',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'tcp.seq_raw',
  'tcp.ack_raw',
  'tcp.flags',
  'tcp.len',
  'udp.srcport',
  'udp.dstport',
  'udp.length',
  'icmp.type',
  'icmp.code',
  'icmpv6.type',
  'icmpv6.code',
];

/** Checks one decoded packet against tshark's fields for the same frame. */
function assertMatches(p: Packet, row: Record<string, string>, where: string): void {
  assert.equal(p.src, row['ip.src'] || row['ipv6.src'], `${where}: src`);
  assert.equal(p.dst, row['ip.dst'] || row['ipv6.dst'], `${where}: dst`);
  if (row['tcp.srcport']) {
    assert.equal(p.proto, 6, where);
    assert.equal(p.srcPort, Number(row['tcp.srcport']), `${where}: tcp src port`);
    assert.equal(p.dstPort, Number(row['tcp.dstport']), `${where}: tcp dst port`);
    assert.equal(p.tcp?.seq, Number(row['tcp.seq_raw']), `${where}: seq`);
    assert.equal(p.tcp?.ack, Number(row['tcp.ack_raw']), `${where}: ack`);
    assert.equal(p.tcp?.flags, Number(row['tcp.flags']) & 0xff, `${where}: flags`);
    assert.equal(p.payloadLen, Number(row['tcp.len']), `${where}: tcp payload length`);
  } else if (row['udp.srcport']) {
    assert.equal(p.proto, 17, where);
    assert.equal(p.srcPort, Number(row['udp.srcport']), `${where}: udp src port`);
    assert.equal(p.dstPort, Number(row['udp.dstport']), `${where}: udp dst port`);
    assert.equal(p.payloadLen, Number(row['udp.length']) - 8, `${where}: udp payload length`);
  } else if (row['icmp.type']) {
    assert.deepEqual(
      [p.proto, p.srcPort, p.dstPort],
      [1, Number(row['icmp.type']), Number(row['icmp.code'])],
      where,
    );
  } else if (row['icmpv6.type']) {
    assert.deepEqual(
      [p.proto, p.srcPort, p.dstPort],
      [58, Number(row['icmpv6.type']), Number(row['icmpv6.code'])],
      where,
    );
  }
}

describe('real PCAPdroid captures', { skip: noFiles }, () => {
  for (const name of ['metadata.pcap', 'two_flows.pcap', 'http_proxy.pcap']) {
    test(`${name}: every frame decodes and matches tshark`, { skip: noTshark }, async () => {
      const { frames, packets, summary, decoder } = await decodeFile(name);
      const rows = tsharkFields(join(DIR, name), FIELDS);
      assert.equal(summary.frames, rows.length);
      assert.equal(summary.truncated, undefined);
      assert.deepEqual(decoder.skipped(), []);
      assert.equal(decoder.stats().decoded, rows.length);
      for (const [i, row] of rows.entries()) {
        const p = packets[i]!;
        assert.ok(Math.abs(frames[i]!.ts - Number(row['frame.time_epoch'])) < 1e-6, `frame ${i + 1} time`);
        assertMatches(p, row, `${name} frame ${i + 1}`);
      }
    });
  }

  test('metadata.pcap holds the client 192.168.1.10 / 2001:db8:1234::1 and one ICMP echo exchange', async () => {
    const { packets } = await decodeFile('metadata.pcap');
    const addrs = new Set(packets.flatMap((p) => (p ? [p.src, p.dst] : [])));
    assert.ok(addrs.has('192.168.1.10'));
    assert.ok(addrs.has('2001:db8:1234::1'));
    // One ping session: three echo requests (type 8) to 1.1.1.1, each answered (type 0).
    const icmp = packets
      .filter((p) => p?.proto === 1)
      .map((p) => `${p!.src}>${p!.dst} ${p!.srcPort}/${p!.dstPort}`);
    const exchange = ['192.168.1.10>1.1.1.1 8/0', '1.1.1.1>192.168.1.10 0/0'];
    assert.deepEqual(icmp, [...exchange, ...exchange, ...exchange]);
  });

  test('two_flows.pcap: 20 packets of an HTTP flow, then 29 of a TLS flow', async () => {
    const { packets } = await decodeFile('two_flows.pcap');
    const key = (p: Packet) => [`${p.src}:${p.srcPort}`, `${p.dst}:${p.dstPort}`].sort().join(' ');
    assert.equal(packets.length, 49);
    const first = new Set(packets.slice(0, 20).map((p) => key(p!)));
    const last = new Set(packets.slice(20).map((p) => key(p!)));
    assert.equal(first.size, 1);
    assert.equal(last.size, 1);
    assert.ok([...first][0]!.includes(':80'));
    assert.ok([...last][0]!.includes(':443'));
  });

  test('invalid_or_unsupported.pcap: each oddity is skipped or flagged as SOURCE.md describes', async () => {
    const { packets, summary, decoder } = await decodeFile('invalid_or_unsupported.pcap');
    assert.equal(summary.frames, 15);
    const skipped = Object.fromEntries(decoder.skipped().map((s) => [s.reason, [s.count, s.firstFrame]]));
    assert.deepEqual(skipped, {
      // frame 5: 16 bytes where the IPv4 header needs 20
      'ipv4-short-header': [1, 4],
      // frame 6: 4 bytes of UDP header
      'udp-short-header': [1, 5],
      // frame 7: version nibble 0
      'ip-version-0': [1, 6],
      // frames 8 and 9: fragments at offsets 128 and 144 of a datagram whose first never came
      'ip-fragment-first-missing': [2, 7],
    });
    assert.equal(decoder.stats().fragmentsIncomplete, 1);
    // Bad lengths: IPv4 headers claiming 1500 bytes where far fewer were captured.
    for (const i of [0, 1, 2, 3, 9]) {
      assert.equal(packets[i]?.truncated, true, `frame ${i + 1}`);
      assert.equal(packets[i]?.ipPayloadLen, 1480, `frame ${i + 1}`);
    }
    assert.equal(packets[9]?.proto, 16, 'frame 10 is protocol CHAOS');
    assert.deepEqual(
      [packets[10]?.proto, packets[10]?.srcPort],
      [58, 143],
      'frame 11: MLDv2 after hop-by-hop',
    );
    assert.equal(packets[13]?.proto, 89, 'frame 14 is OSPF');
    assert.equal(packets[14]?.proto, 50, 'frame 15 ends the chain at ESP');
    assert.equal(decoder.stats().decoded, 10);
    assert.equal(decoder.stats().truncated, 5);
  });

  test('invalid_or_unsupported.pcap: decoded frames carry the addresses tshark shows', {
    skip: noTshark,
  }, async () => {
    const { packets } = await decodeFile('invalid_or_unsupported.pcap');
    const rows = tsharkFields(join(DIR, 'invalid_or_unsupported.pcap'), FIELDS);
    assert.equal(rows.length, 15);
    for (const [i, p] of packets.entries()) {
      if (!p) continue;
      const row = rows[i]!;
      assert.equal(p.src, row['ip.src'] || row['ipv6.src'], `frame ${i + 1}`);
      assert.equal(p.dst, row['ip.dst'] || row['ipv6.dst'], `frame ${i + 1}`);
    }
  });

  test('the fuzzer crash file: one frame, then a record claiming 6.5 MB: truncated, not thrown', async () => {
    const { packets, summary } = await decodeFile(CRASH);
    assert.equal(summary.frames, 1);
    assert.equal(summary.truncated?.offset, 134);
    assert.match(summary.truncated!.message, /106 of 6553616 bytes/);
    assert.ok(packets[0]);
    if (haveTshark) {
      const rows = tsharkFields(join(DIR, CRASH), FIELDS);
      assert.equal(rows.length, 1, 'tshark also reads one frame before giving up');
      assertMatches(packets[0], rows[0]!, 'crash frame 1');
    }
  });
});
