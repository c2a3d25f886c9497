import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { type MatchAt, MultiMatcher } from './matcher.js';
import { base32, base64Piece, type NeedleHit, needlesFor, outermostHits, variants } from './needles.js';

const IDS = [
  { kind: 'imei' as const, value: '868523061234565' },
  { kind: 'android-id' as const, value: '03f6a1c92b07e45d' },
  { kind: 'wifi-mac' as const, value: 'aa:bb:cc:0d:1e:2f' },
  { kind: 'serial' as const, value: 'a1b2c3d4' },
];
const needles = needlesFor(IDS);
const matcher = new MultiMatcher(needles.map((n) => n.bytes));

/** The identifiers and encodings found in the text. */
function found(text: string | Buffer): string[] {
  const hits: NeedleHit[] = [];
  matcher.search(typeof text === 'string' ? Buffer.from(text) : text, (m) =>
    hits.push({ needle: m.needle, start: m.start, end: m.start + needles[m.needle]!.bytes.length }),
  );
  const out = new Set(
    outermostHits(hits, needles).map(
      (h) => `${IDS[needles[h.needle]!.id]!.kind} ${needles[h.needle]!.encoding}`,
    ),
  );
  return [...out].sort();
}

describe('needles', () => {
  it('names the variants of a MAC, an IMEI and an Android ID', () => {
    const mac = variants('wifi-mac', 'aa:bb:cc:0d:1e:2f').map((v) => v.text);
    for (const m of ['aa:bb:cc:0d:1e:2f', 'AA-BB-CC-0D-1E-2F', 'aabbcc0d1e2f', 'AABBCC0D1E2F'])
      assert.ok(mac.includes(m), m);
    assert.ok(variants('imei', '868523061234565').some((v) => v.text === '86852306123456'));
    assert.ok(variants('android-id', '03f6a1c92b07e45d').some((v) => v.text === '3f6a1c92b07e45d'));
  });

  it('finds a value base64-encoded at any offset inside a longer base64 string, in both alphabets', () => {
    const value = Buffer.from('868523061234565');
    for (let pre = 0; pre < 6; pre++) {
      const stream = Buffer.concat([randomBytes(pre), value, randomBytes(7)]);
      for (const url of [false, true]) {
        const text = stream.toString(url ? 'base64url' : 'base64');
        const piece = base64Piece(value, (pre % 3) as 0 | 1 | 2, url);
        assert.ok(text.includes(piece), `${pre} ${url}: ${piece} in ${text}`);
      }
    }
  });

  it('finds each encoding in text and names its chain', () => {
    const imei = '868523061234565';
    assert.deepEqual(found(`GET /r?imei=${imei}&x=1`), ['imei plain']);
    assert.deepEqual(found(`id=${createHash('sha256').update(imei).digest('hex')}`), ['imei sha256(plain)']);
    assert.deepEqual(found(`id=${createHash('md5').update('aabbcc0d1e2f').digest('hex').toUpperCase()}`), [
      'wifi-mac upper(md5(lower(no separator)))',
    ]);
    assert.deepEqual(found(`c=${Buffer.from('{"aid":"03f6a1c92b07e45d"}').toString('base64')}`), [
      'android-id base64(plain)',
    ]);
    assert.deepEqual(found(Buffer.from(`q.${Buffer.from('a1b2c3d4').toString('hex')}.evil.test`)), [
      'serial hex(plain)',
    ]);
    assert.deepEqual(found('m=AA%3ABB%3ACC%3A0D%3A1E%3A2F'), ['wifi-mac urlencode(upper(plain))']);
    // base32 (RFC 4648; the expected texts are Python's base64.b32encode without its padding).
    assert.equal(base32(Buffer.from('a1b2c3d4')), 'MEYWEMTDGNSDI');
    assert.equal(base32(Buffer.from(imei)), 'HA3DQNJSGMYDMMJSGM2DKNRV');
    assert.deepEqual(found(Buffer.from('q.meywemtdgnsdi.evil.test')), ['serial lower(base32(plain))']);
    assert.deepEqual(found(Buffer.from('q.HA3DQNJSGMYDMMJSGM2DKNRV.evil.test')), ['imei base32(plain)']);
    assert.deepEqual(found(`s=${createHash('sha1').update('86852306123456').digest('base64')}`), [
      'imei base64(sha1(plain without check digit))',
    ]);
  });

  it('never matches a 15-digit number that is not the IMEI, nor the IMEI inside a gzip body (that is undone elsewhere)', () => {
    for (let i = 0; i < 200; i++) {
      let n = '';
      while (n.length < 15) n += Math.floor(Math.random() * 10);
      if (n.startsWith('86852306123456')) continue;
      assert.deepEqual(found(`imei=${n}`), []);
    }
    assert.deepEqual(found(gzipSync(Buffer.from('imei=868523061234565'))), []);
  });
});

describe('the multi-needle automaton', () => {
  /** 50 rounds of random needles and text: the automaton finds what one indexOf per needle finds. */
  function againstIndexOf(
    maxNeedle: number,
    hayLength: number,
    opts: (round: number) => { prefix?: number },
  ) {
    const alphabet = Buffer.from('abcab');
    for (let round = 0; round < 50; round++) {
      const pick = (n: number) =>
        Buffer.from(Array.from({ length: n }, () => alphabet[Math.floor(Math.random() * 5)]!));
      const list = Array.from({ length: 1 + (round % 7) }, () =>
        pick(1 + Math.floor(Math.random() * maxNeedle)),
      );
      const hay = pick(hayLength);
      const m = new MultiMatcher(list, opts(round));
      const got: string[] = [];
      m.search(hay, (x: MatchAt) => got.push(`${x.needle}@${x.start}`));
      const want: string[] = [];
      list.forEach((n, i) => {
        for (let at = hay.indexOf(n); at >= 0; at = hay.indexOf(n, at + 1)) want.push(`${i}@${at}`);
      });
      assert.deepEqual(got.sort(), want.sort(), `needles ${list.map(String)} in ${hay}`);
    }
  }

  it('finds exactly what a search per needle finds, overlaps included, on random data', () => {
    againstIndexOf(4, 200, () => ({}));
  });

  it('finds the same with needles longer than the part the automaton holds (the rest compared)', () => {
    againstIndexOf(6, 300, (round) => ({ prefix: 1 + (round % 3) }));
  });

  it('finds a needle that crosses the boundary of two chunks of one stream', () => {
    const m = new MultiMatcher([Buffer.from('868523061234565')]);
    const seen: MatchAt[] = [];
    const s = m.search(Buffer.from('GET /?imei=8685230'), (x) => seen.push(x));
    m.search(Buffer.from('61234565 HTTP/1.1'), (x) => seen.push(x), s);
    assert.deepEqual(seen, [{ needle: 0, start: -7 }]);
  });
});
