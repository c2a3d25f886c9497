import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostMatches, parseHostPattern } from './host-pattern.js';

function pattern(s: string) {
  const r = parseHostPattern(s);
  assert.ok(r.ok, `${s}: ${r.ok ? '' : r.problem}`);
  return r.pattern;
}

test('an exact host matches only itself, ignoring case and a trailing dot', () => {
  const p = pattern('api.account.xiaomi.com');
  assert.equal(hostMatches(p, 'api.account.xiaomi.com'), true);
  assert.equal(hostMatches(p, 'API.Account.Xiaomi.COM.'), true);
  assert.equal(hostMatches(p, 'x.api.account.xiaomi.com'), false);
  assert.equal(hostMatches(p, 'account.xiaomi.com'), false);
  assert.equal(hostMatches(p, 'api.account.xiaomi.com.evil.net'), false);
});

test('*.suffix matches subdomains at any depth but not the bare suffix', () => {
  const p = pattern('*.xiaomi.net');
  assert.equal(hostMatches(p, 'resolver.msg.global.xiaomi.net'), true);
  assert.equal(hostMatches(p, 'a.xiaomi.net'), true);
  assert.equal(hostMatches(p, 'xiaomi.net'), false);
  assert.equal(hostMatches(p, 'notxiaomi.net'), false, 'a suffix match must stop at a label boundary');
  assert.equal(hostMatches(p, 'xiaomi.net.evil.com'), false);
  assert.equal(hostMatches(pattern('*.CN.'), 'a.b.cn'), true);
});

test('patterns that cannot mean a host are refused with a reason', () => {
  for (const [s, why] of [
    ['', /empty/],
    ['a*.xiaomi.com', /leading "\*\." label/],
    ['api.*.xiaomi.com', /leading "\*\." label/],
    ['*', /leading/],
    ['exa mple.com', /label "exa mple"/],
    ['-bad.com', /label "-bad"/],
    ['a..b', /label ""/],
    ['http://x.com', /is not a host name/],
    ['bücher.example', /xn-- \(punycode\) form/],
  ] as const) {
    const r = parseHostPattern(s);
    assert.ok(!r.ok, s);
    assert.match(r.problem, why, s);
  }
});
