import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { LINKTYPE_ETHERNET, readPcap } from './pcap-file.js';
import { PCAPDROID_TRAILER_MAGIC, toPcapdroidDump } from './pcapdroid-dump.js';

function ethIpv4Tcp(src: number[], dst: number[], sport: number, dport: number, payloadLen: number): Buffer {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 20 + payloadLen, 2);
  ip[9] = 6;
  Buffer.from(src).copy(ip, 12);
  Buffer.from(dst).copy(ip, 16);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(sport, 0);
  tcp.writeUInt16BE(dport, 2);
  tcp[12] = 0x50;
  return Buffer.concat([eth, ip, tcp, Buffer.alloc(payloadLen, 0x61)]);
}

const phone = [10, 213, 5, 10];
const server = [10, 213, 200, 7];
const arp = Buffer.concat([Buffer.alloc(12), Buffer.from([0x08, 0x06]), Buffer.alloc(28)]);
const input = {
  linkType: LINKTYPE_ETHERNET,
  snaplen: 65535,
  records: [
    ethIpv4Tcp(phone, server, 40001, 443, 5),
    arp,
    ethIpv4Tcp(server, phone, 443, 40001, 0),
    ethIpv4Tcp(phone, server, 40002, 443, 1),
  ].map((data, i) => ({ tsSec: 1000 + i, tsUsec: 0, data, origLen: data.length })),
};
const owners: Record<number, { uid: number; name: string }> = {
  40001: { uid: 10042, name: 'com.miui.analytics' },
  40002: { uid: 10043, name: 'com.a.very.long.package.name.indeed' },
};

test('with extensions: bogus Ethernet, 4-byte padding, trailer with uid, name and CRC; ARP dropped', () => {
  const out = toPcapdroidDump(input, {
    phoneIp: '10.213.5.10',
    extensions: true,
    appFor: (l) => owners[l.port] ?? { uid: -1, name: '' },
  });
  assert.equal(out.packets, 3);
  const pcap = readPcap(out.file);
  assert.equal(pcap.linkType, 1);
  const expectedUids = [10042, 10042, 10043];
  for (const [i, r] of pcap.records.entries()) {
    assert.equal(r.data.length % 4, 0);
    assert.equal(r.origLen, r.data.length);
    assert.deepEqual(r.data.subarray(0, 12), Buffer.alloc(12), 'both MACs zero');
    assert.equal(r.data.readUInt16BE(12), 0x0800);
    const t = r.data.subarray(r.data.length - 32);
    assert.equal(t.readUInt32BE(0), PCAPDROID_TRAILER_MAGIC);
    assert.equal(t.readInt32BE(4), expectedUids[i]);
    assert.equal(t.readUInt32LE(28), crc32(r.data.subarray(0, r.data.length - 4)));
  }
  const name = pcap.records[2]!.data.subarray(-24, -4);
  assert.equal(
    name.toString('utf8').replace(/\0+$/, ''),
    'com.a.very.long.pac',
    'truncated to 19 bytes, NUL-terminated',
  );
  // The IP packet follows the bogus header unchanged.
  assert.deepEqual(pcap.records[0]!.data.subarray(14, 14 + 45), input.records[0]!.data.subarray(14));
});

test('without extensions: RAW IP packets', () => {
  const out = toPcapdroidDump(input, {
    phoneIp: '10.213.5.10',
    extensions: false,
    appFor: () => ({ uid: 0, name: '' }),
  });
  const pcap = readPcap(out.file);
  assert.equal(pcap.linkType, 101);
  assert.deepEqual(pcap.records[1]!.data, input.records[2]!.data.subarray(14));
  assert.equal(pcap.records[1]!.origLen, input.records[2]!.origLen - 14);
});

test('multicast and broadcast packets (mDNS, IGMP, DHCP) are left out, as PCAPdroid in VPN mode never sees them', () => {
  const lan = {
    linkType: LINKTYPE_ETHERNET,
    snaplen: 65535,
    records: [
      ethIpv4Tcp(phone, [224, 0, 0, 251], 5353, 5353, 30),
      ethIpv4Tcp(phone, [224, 0, 0, 22], 0, 0, 8),
      ethIpv4Tcp(phone, [255, 255, 255, 255], 68, 67, 300),
      ethIpv4Tcp(phone, server, 40001, 443, 5),
      ethIpv4Tcp(phone, [239, 255, 255, 250], 40003, 1900, 90),
    ].map((data, i) => ({ tsSec: 1000 + i, tsUsec: 0, data, origLen: data.length })),
  };
  for (const extensions of [true, false]) {
    const out = toPcapdroidDump(lan, {
      phoneIp: '10.213.5.10',
      extensions,
      appFor: () => ({ uid: -1, name: '' }),
    });
    assert.equal(out.packets, 1, `extensions ${extensions}`);
    const [only] = readPcap(out.file).records;
    const ip = extensions ? only!.data.subarray(14) : only!.data;
    assert.deepEqual([...ip.subarray(16, 20)], server);
  }
});
