import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { test } from 'node:test';
import { encryptedDnsKind, KNOWN_RESOLVERS, knownResolver } from './encrypted-dns.js';

test('DoT is TCP 853, DoQ is UDP 853 (and 784, 8853), whatever the address', () => {
  assert.equal(encryptedDnsKind({ proto: 'tcp', respAddr: '192.0.2.1', respPort: 853 }), 'dot');
  assert.equal(
    encryptedDnsKind({ proto: 'tcp', respAddr: '8.8.8.8', respPort: 853, sni: 'dns.google' }),
    'dot',
  );
  for (const port of [853, 784, 8853]) {
    assert.equal(
      encryptedDnsKind({ proto: 'udp', respAddr: '2001:db8::1', respPort: port }),
      'doq',
      `${port}`,
    );
  }
  assert.equal(encryptedDnsKind({ proto: 'tcp', respAddr: '192.0.2.1', respPort: 784 }), undefined);
});

test('DoH: HTTPS (TCP or QUIC) on 443 to a known resolver name', () => {
  for (const sni of [
    'dns.google',
    'cloudflare-dns.com',
    'one.one.one.one',
    'dns.quad9.net',
    'doh.opendns.com',
  ]) {
    assert.equal(encryptedDnsKind({ proto: 'tcp', respAddr: '203.0.113.5', respPort: 443, sni }), 'doh', sni);
    assert.equal(encryptedDnsKind({ proto: 'udp', respAddr: '203.0.113.5', respPort: 443, sni }), 'doh', sni);
  }
  // Per-profile names under a resolver's domain, in any case.
  assert.equal(
    encryptedDnsKind({ proto: 'tcp', respAddr: '192.0.2.1', respPort: 443, sni: 'ABC123.dns.nextdns.io' }),
    'doh',
  );
  assert.equal(
    encryptedDnsKind({ proto: 'tcp', respAddr: '192.0.2.1', respPort: 443, sni: 'x1y2.d.adguard-dns.com' }),
    'doh',
  );
  // Look-alikes are not resolvers.
  for (const sni of ['notdns.google', 'dns.google.evil.test', 'evildns.nextdns.io.test', 'www.google.com']) {
    assert.equal(
      encryptedDnsKind({ proto: 'tcp', respAddr: '192.0.2.1', respPort: 443, sni }),
      undefined,
      sni,
    );
  }
});

test('DoH by anycast address when there is no SNI (clients configured by IP)', () => {
  for (const addr of [
    '8.8.8.8',
    '8.8.4.4',
    '1.1.1.1',
    '1.0.0.1',
    '9.9.9.9',
    '2001:4860:4860::8888',
    '2606:4700:4700::1111',
  ]) {
    assert.equal(encryptedDnsKind({ proto: 'tcp', respAddr: addr, respPort: 443 }), 'doh', addr);
  }
  // The same addresses on other ports, and other addresses on 443, are not DoH.
  assert.equal(encryptedDnsKind({ proto: 'tcp', respAddr: '8.8.8.8', respPort: 80 }), undefined);
  assert.equal(encryptedDnsKind({ proto: 'udp', respAddr: '8.8.8.8', respPort: 53 }), undefined);
  assert.equal(encryptedDnsKind({ proto: 'tcp', respAddr: '192.0.2.1', respPort: 443 }), undefined);
  // A name that is not a resolver's wins: 1.1.1.1 serves web sites too.
  assert.equal(
    encryptedDnsKind({ proto: 'tcp', respAddr: '1.1.1.1', respPort: 443, sni: 'www.example.test' }),
    undefined,
  );
  assert.equal(encryptedDnsKind({ proto: 'icmp', respAddr: '1.1.1.1', respPort: 443 }), undefined);
});

test('the resolver table is well formed: canonical addresses, lower-case names, no duplicates', () => {
  const seen = new Set<string>();
  for (const r of KNOWN_RESOLVERS) {
    for (const a of r.addrs) {
      assert.ok(isIP(a), `${r.operator}: ${a}`);
      if (isIP(a) === 6) assert.equal(new URL(`http://[${a}]/`).hostname, `[${a}]`, `${a} is canonical`);
      assert.ok(!seen.has(a), `${a} listed twice`);
      seen.add(a);
    }
    for (const n of [...r.names, ...r.suffixes]) assert.equal(n, n.toLowerCase());
    for (const n of r.names) {
      assert.ok(!seen.has(n), `${n} listed twice`);
      seen.add(n);
    }
  }
  assert.equal(knownResolver('DNS.Google')?.operator, 'Google Public DNS');
  assert.equal(knownResolver('2606:4700:4700::1111')?.operator, 'Cloudflare 1.1.1.1');
  assert.equal(knownResolver('example.test'), undefined);
});
