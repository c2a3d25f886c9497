import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { specialRange } from './special-ranges.js';

/** [address, expected kind or undefined for an ordinary address] */
const CASES: [string, string | undefined][] = [
  ['0.1.2.3', 'this-network'],
  ['10.0.0.1', 'private'],
  ['9.255.255.255', undefined],
  ['11.0.0.0', undefined],
  ['100.64.0.1', 'shared'],
  ['100.127.255.255', 'shared'],
  ['100.128.0.0', undefined],
  ['100.63.255.255', undefined],
  ['127.0.0.1', 'loopback'],
  ['169.254.10.20', 'link-local'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', undefined],
  ['172.15.255.255', undefined],
  ['192.0.0.8', 'protocol'],
  ['192.0.2.1', 'documentation'],
  ['192.0.3.1', undefined],
  ['192.31.196.1', 'anycast'],
  ['192.52.193.1', 'anycast'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['192.169.0.1', undefined],
  ['192.175.48.1', 'anycast'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.20.0.0', undefined],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['8.8.8.8', undefined],
  ['114.114.114.114', undefined],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['::2', 'reserved'],
  ['4000::1', 'reserved'],
  ['1fff:ffff::1', 'reserved'],
  ['::ffff:192.168.0.1', 'private'],
  ['::ffff:8.8.8.8', undefined],
  ['64:ff9b::a00:1', 'private'],
  ['64:ff9b::808:808', undefined],
  ['64:ff9b:1::1', 'translation'],
  ['100::1', 'discard'],
  ['2001::1', 'tunnel'],
  ['2001:1::1', 'protocol'],
  ['2001:200::1', undefined],
  ['2001:db8::1', 'documentation'],
  ['2001:db9::1', undefined],
  ['2002:c000:204::1', 'tunnel'],
  ['3fff::1', 'documentation'],
  ['3fff:1000::1', undefined],
  ['fc00::1', 'unique-local'],
  ['fdff:ffff::1', 'unique-local'],
  ['fe80::1', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'reserved'],
  ['ff02::fb', 'multicast'],
  ['2404:6800:4003:c00::8a', undefined],
];

describe('special-purpose addresses', () => {
  it('names every block of the IANA registries, at its edges, and leaves global unicast alone', () => {
    for (const [addr, kind] of CASES) assert.equal(specialRange(addr)?.kind, kind, addr);
  });

  it('says where each block is defined', () => {
    assert.deepEqual(specialRange('100.64.0.1'), {
      cidr: '100.64.0.0/10',
      kind: 'shared',
      name: 'Shared Address Space (CGNAT)',
      rfc: 'RFC 6598',
    });
  });

  it('refuses text that is no address instead of guessing', () => {
    for (const bad of ['', '8.8.8', 'example.com', '1.2.3.256', 'fe80::1%eth0x'])
      assert.throws(() => specialRange(bad), /not an IP address/, bad);
  });
});
