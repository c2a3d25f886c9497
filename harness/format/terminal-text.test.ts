import assert from 'node:assert/strict';
import { test } from 'node:test';
import { terminalSafe, terminalSafeClipped } from './terminal-text.js';

test('ordinary host names pass through unchanged', () => {
  for (const s of [
    'api.ad.intl.xiaomi.com',
    'xn--bcher-kva.example',
    'bücher.example',
    '日本.example',
    '192.168.1.10',
  ]) {
    assert.equal(terminalSafe(s), s);
  }
});

test('ANSI escape sequences cannot reach the terminal', () => {
  const hostile = '\x1b[2J\x1b[1;1Hevil.example\x1b]0;pwned\x07\x9b31m';
  const out = terminalSafe(hostile);
  assert.equal(out, '\\x1b[2J\\x1b[1;1Hevil.example\\x1b]0;pwned\\x07\\x9b31m');
  assert.doesNotMatch(out, /[\x00-\x1f\x7f-\x9f]/);
});

test('newlines and separators cannot fake a line of output', () => {
  assert.equal(terminalSafe('a.example\nVERDICT: allowed\r'), 'a.example\\nVERDICT: allowed\\r');
  assert.equal(terminalSafe('a\u2028b\u2029c\u0085d'), 'a\\u2028b\\u2029c\\x85d');
  assert.equal(terminalSafe('tab\there\x7f'), 'tab\\there\\x7f');
});

test('bidi controls and invisible characters are shown, not obeyed', () => {
  // "moc.elgoog" displayed reversed would read "google.com"
  assert.equal(terminalSafe('\u202emoc.elgoog.evil.example'), '\\u202emoc.elgoog.evil.example');
  assert.equal(
    terminalSafe('a\u2066b\u2067c\u2068d\u2069e\u200ef\u200fg\u061ch'),
    'a\\u2066b\\u2067c\\u2068d\\u2069e\\u200ef\\u200fg\\u061ch',
  );
  assert.equal(terminalSafe('go\u200bogle.com\ufeff'), 'go\\u200bogle.com\\ufeff');
  assert.equal(terminalSafe('x\u{e0041}y'), 'x\\u{e0041}y', 'tag characters are format characters too');
});

test('backslashes are doubled, so an escape in the output is unambiguous', () => {
  assert.equal(terminalSafe('a\\x1b'), 'a\\\\x1b');
  assert.notEqual(terminalSafe('a\\x1b'), terminalSafe('a\x1b'));
});

test('lone surrogates are escaped', () => {
  assert.equal(terminalSafe('a\ud800b'), 'a\\ud800b');
  assert.equal(terminalSafe('😀'), '😀', 'a proper pair is kept');
});

test('clipping counts code points and never cuts an escape in two', () => {
  assert.equal(terminalSafeClipped('abcdef', 4), 'abc…');
  assert.equal(terminalSafeClipped('abc', 4), 'abc');
  assert.equal(terminalSafeClipped('😀😀😀😀😀', 3), '😀😀…');
  const clipped = terminalSafeClipped(`${'a'.repeat(10)}\x1b[31m`, 12);
  assert.doesNotMatch(clipped, /\x1b/);
});
