import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import { parseCidr, prefixContains, sameIp } from './ip-prefix.js';
import { parseIp } from './ip-text.js';

// Node's own address code is the oracle: BlockList for prefix membership, the URL parser for
// canonical IPv6 text, isIP for what counts as an address.

function randomV4(seed: number): string {
  const b = [seed & 0xff, (seed >> 8) & 0xff, (seed * 7) & 0xff, (seed * 13) & 0xff];
  return b.join('.');
}

test('CIDR membership agrees with net.BlockList for IPv4', () => {
  const prefixes = [
    '10.0.0.0/8',
    '192.168.1.0/24',
    '172.16.0.0/12',
    '0.0.0.0/0',
    '203.0.113.7/32',
    '128.0.0.0/1',
  ];
  for (const cidr of prefixes) {
    const r = parseCidr(cidr);
    assert.ok(r.ok, cidr);
    const [net, bits] = cidr.split('/');
    const oracle = new BlockList();
    oracle.addSubnet(net!, Number(bits), 'ipv4');
    for (let i = 0; i < 500; i++) {
      const addr = i < 5 ? net! : randomV4(i * 2654435761);
      assert.equal(prefixContains(r.prefix, addr), oracle.check(addr, 'ipv4'), `${addr} in ${cidr}`);
    }
    assert.equal(prefixContains(r.prefix, '10.0.0.1'), oracle.check('10.0.0.1', 'ipv4'));
  }
});

test('CIDR membership agrees with net.BlockList for IPv6', () => {
  const addrs = [
    '2001:db8::1',
    '2001:db8:ffff::1',
    '2001:db9::',
    'fe80::1',
    '::1',
    '2001:db8:1234::1',
    'ff02::fb',
  ];
  for (const cidr of ['2001:db8::/32', 'fe80::/10', '::1/128', '::/0', '2001:db8:1234::/48']) {
    const r = parseCidr(cidr);
    assert.ok(r.ok, cidr);
    const [net, bits] = cidr.split('/');
    const oracle = new BlockList();
    oracle.addSubnet(net!, Number(bits), 'ipv6');
    for (const addr of addrs) {
      assert.equal(prefixContains(r.prefix, addr), oracle.check(addr, 'ipv6'), `${addr} in ${cidr}`);
    }
  }
});

test('an IPv4 prefix matches IPv4-mapped IPv6 addresses; families do not otherwise mix', () => {
  const r = parseCidr('10.0.0.0/8');
  assert.ok(r.ok);
  assert.equal(prefixContains(r.prefix, '::ffff:10.9.9.9'), true);
  assert.equal(prefixContains(r.prefix, '::a09:909'), false);
  const v6 = parseCidr('::/0');
  assert.ok(v6.ok);
  assert.equal(prefixContains(v6.prefix, '10.0.0.1'), false);
});

test('bad CIDRs say what is wrong', () => {
  const bad = (s: string) => {
    const r = parseCidr(s);
    assert.ok(!r.ok, s);
    return r.problem;
  };
  assert.match(bad('10.0.0.0/33'), /prefix length must be 0–32/);
  assert.match(bad('2001:db8::/129'), /0–128/);
  assert.match(bad('10.0.0.0'), /ADDRESS\/BITS/);
  assert.match(bad('10.0.0/8'), /not an IP address/);
  assert.match(bad('10.0.0.0/x'), /prefix length/);
  assert.equal(bad('10.1.2.3/8'), 'has host bits set past /8; did you mean 10.0.0.0/8?');
  assert.equal(bad('2001:db8::1/32'), 'has host bits set past /32; did you mean 2001:db8::/32?');
});

test('sameIp compares addresses, not spellings', () => {
  assert.equal(sameIp(parseIp('2001:DB8:0::1')!, '2001:db8::1'), true);
  assert.equal(sameIp(parseIp('10.0.0.1')!, '::ffff:10.0.0.1'), true);
  assert.equal(sameIp(parseIp('10.0.0.1')!, '10.0.0.2'), false);
  assert.equal(sameIp(parseIp('10.0.0.1')!, 'not-an-ip'), false);
});
