import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flowName, hostNameValid, nameFromLabels, normaliseHostName } from './host-name.js';

test('names are lowered, lose a trailing dot, and keep every byte a host name cannot hold, escaped', () => {
  assert.equal(normaliseHostName('API.Example.COM.'), 'api.example.com');
  assert.equal(normaliseHostName('a\x00b\x1b.evil.test'), 'a\\x00b\\x1b.evil.test');
  assert.equal(normaliseHostName('tab\there'), 'tab\\x09here');
  assert.equal(normaliseHostName('caf\xe9.test'), 'caf\\xe9.test');
  assert.equal(normaliseHostName('back\\slash'), 'back\\\\slash');
  assert.equal(normaliseHostName(''), undefined);
  assert.equal(normaliseHostName('.'), undefined);
  assert.equal(normaliseHostName('x'.repeat(5000))!.length, 1024, 'kept, but bounded');
});

test('DNS labels keep their boundaries: a dot inside a label is escaped', () => {
  assert.equal(nameFromLabels(['a.b', 'Evil', 'test']), 'a\\.b.evil.test');
  assert.equal(nameFromLabels(['a', 'b.evil', 'test']), 'a.b\\.evil.test');
  assert.notEqual(nameFromLabels(['a.b', 'test']), nameFromLabels(['a', 'b', 'test']));
  assert.equal(nameFromLabels([]), undefined);
});

test('validity: host labels and IP literals are valid; escapes, quotes, brackets and long labels are not', () => {
  for (const ok of [
    'example.com',
    '_dns.resolver.arpa',
    'xn--bcher-kva.example',
    '10.0.0.1',
    '2001:db8::1',
    'a-b.c',
  ])
    assert.equal(hostNameValid(ok), true, ok);
  for (const bad of [
    'a\\x00b.evil.test',
    'a\\.b.test',
    'evil"q',
    '<img>.example',
    'a..b',
    '-a.test',
    `${'x'.repeat(64)}.test`,
    'x'.repeat(254),
    '1:2:3',
    '',
  ])
    assert.equal(hostNameValid(bad), false, bad);
  assert.deepEqual(flowName('evil"q', 'http-host'), { name: 'evil"q', source: 'http-host', invalid: true });
  assert.deepEqual(flowName('ok.test', 'sni'), { name: 'ok.test', source: 'sni' });
});
