import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import { canonicalIp, formatIp, parseIp } from './ip-text.js';

// Node's own address code is the oracle: the URL parser for canonical IPv6 text, isIP for what
// counts as an address.

test('parseIp accepts what Node calls an address and refuses the rest', () => {
  const samples = [
    '192.168.1.10',
    '0.0.0.0',
    '255.255.255.255',
    '2001:db8:1234::1',
    '::',
    '::1',
    'fe80::1:2:3:4',
    '::ffff:10.1.2.3',
    '1:2:3:4:5:6:7:8',
    '1::8',
    '256.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    'gggg::1',
    '12345::1',
    'example.com',
    '',
    ':1',
    '1:',
  ];
  for (const s of samples) {
    assert.equal(parseIp(s) !== undefined, isIP(s) !== 0, s);
  }
  assert.equal(parseIp('010.1.1.1'), undefined, 'leading zeros are ambiguous and refused');
});

test('formatIp writes IPv6 the way the URL parser canonicalises it', () => {
  for (const s of [
    '2001:DB8:0:0:0:0:0:1',
    '::',
    '1:0:0:2:0:0:0:3',
    '0:0:1::',
    'fe80::0:0:1',
    '1:2:3:4:5:6:7:8',
  ]) {
    const canonical = new URL(`http://[${s}]/`).hostname.slice(1, -1);
    assert.equal(formatIp(parseIp(s)!), canonical, s);
  }
  assert.equal(formatIp(parseIp('10.0.0.1')!), '10.0.0.1');
});

test("canonicalIp takes an address in any spelling to the packets' form", () => {
  assert.equal(canonicalIp('2001:DB8:1234:0:0:0:0:1'), '2001:db8:1234::1');
  assert.equal(canonicalIp(' 192.168.001.010 '), undefined);
  assert.equal(canonicalIp('192.168.1.10'), '192.168.1.10');
  assert.equal(canonicalIp('::FFFF:1.2.3.4'), '::ffff:1.2.3.4');
  assert.equal(canonicalIp('fe80:0:0:0:0:0:0:1'), 'fe80::1');
  assert.equal(canonicalIp('fe80::1%eth0'), undefined, 'a zone is not part of an address');
  assert.equal(canonicalIp('phone.local'), undefined);
});
