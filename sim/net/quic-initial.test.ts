import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LINKTYPE_RAW, writePcap } from './pcap-file.js';
import { buildQuicInitial, clientInitialKeys, INITIAL_DATAGRAM_SIZE } from './quic-initial.js';

/** An IPv4/UDP packet around a payload (checksums zero: tshark does not insist on them). */
function ipv4Udp(payload: Buffer, sport: number, dport: number): Buffer {
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + 8 + payload.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  Buffer.from([10, 213, 1, 10]).copy(ip, 12);
  Buffer.from([10, 213, 200, 7]).copy(ip, 16);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return Buffer.concat([ip, udp, payload]);
}

test('client Initial keys match the RFC 9001 Appendix A test vector', () => {
  const k = clientInitialKeys(Buffer.from('8394c8f03e515708', 'hex'));
  assert.equal(k.secret.toString('hex'), 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea');
  assert.equal(k.key.toString('hex'), '1f369613dd76d5467730efcbe3b1a22d');
  assert.equal(k.iv.toString('hex'), 'fa044b2f42a3fd3b46fb255c');
  assert.equal(k.hp.toString('hex'), '9f50449e04a0e810283a1e9933adedd2');
});

test('an Initial is a 1200-byte long-header v1 packet with the DCID in clear', () => {
  const q = buildQuicInitial('api.ad.intl.xiaomi.com');
  assert.equal(q.datagram.length, INITIAL_DATAGRAM_SIZE);
  assert.equal(q.datagram[0]! & 0xf0, 0xc0);
  assert.equal(q.datagram.readUInt32BE(1), 1);
  assert.equal(q.datagram[5], 8);
  assert.deepEqual(q.datagram.subarray(6, 14), q.dcid);
  assert.ok(!q.datagram.includes(Buffer.from('api.ad.intl.xiaomi.com')), 'the server name is encrypted');
});

test('tshark decrypts our Initials and reads each server name', () => {
  const names = ['tracking.intl.miui.com', 'www.googleapis.com', 'a-rather-long-host-name.example.test'];
  const dir = mkdtempSync(join(tmpdir(), 'phl-quic-'));
  try {
    const file = join(dir, 'initials.pcap');
    const records = names.map((n, i) => {
      const pkt = ipv4Udp(buildQuicInitial(n).datagram, 40000 + i, 443);
      return { tsSec: 1_700_000_000 + i, tsUsec: 0, data: pkt, origLen: pkt.length };
    });
    writeFileSync(file, writePcap({ linkType: LINKTYPE_RAW, snaplen: 65535, records }));
    const out = execFileSync(
      'tshark',
      ['-r', file, '-Y', 'quic', '-T', 'fields', '-e', 'tls.handshake.extensions_server_name'],
      { encoding: 'utf8' },
    );
    assert.deepEqual(out.trim().split('\n'), names);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
