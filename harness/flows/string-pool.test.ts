import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flat, StringPool } from './string-pool.js';

/** A string built a character at a time, as parsers of wire bytes do. */
function pieces(s: string): string {
  let out = '';
  for (const c of s) out += c;
  return out;
}

test('equal strings come back as one shared copy with the same text', () => {
  const pool = new StringPool();
  const a = pool.get(pieces('api.example.com'));
  const b = pool.get(pieces('api.example.com'));
  assert.equal(a, 'api.example.com');
  assert.equal(b, a);
  assert.equal(pool.size, 1);
});

test('stops remembering past its bound but still returns the text', () => {
  const pool = new StringPool(2);
  for (const s of ['a1', 'b2', 'c3', 'd4']) assert.equal(pool.get(pieces(s)), s);
  assert.equal(pool.size, 2);
});

test('flat keeps every character, including ones beyond latin1', () => {
  for (const s of [
    '',
    'x',
    pieces('host.example'),
    pieces('ünïcode.example'),
    pieces('名前.example'),
    '\u00ff\u0100',
  ]) {
    assert.equal(flat(s), s);
  }
});
