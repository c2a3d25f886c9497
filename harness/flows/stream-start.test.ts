import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamStart } from './stream-start.js';

/** n bytes counting up from start (mod 256): every position holds a checkable value. */
function bytes(start: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 255;
  return b;
}

test('segments in order after the SYN join up', () => {
  const s = new StreamStart();
  s.syn(1000);
  assert.equal(s.add(1001, bytes(0, 10)), true);
  assert.equal(s.add(1011, bytes(10, 5)), true);
  assert.deepEqual(s.bytes(), bytes(0, 15));
});

test('an out-of-order segment waits for the gap to fill', () => {
  const s = new StreamStart();
  s.syn(7);
  assert.equal(s.add(8 + 100, bytes(100, 50)), false);
  assert.equal(s.length, 0);
  assert.equal(s.add(8, bytes(0, 100)), true);
  assert.deepEqual(s.bytes(), bytes(0, 150));
});

test('many segments in reverse order reassemble', () => {
  const s = new StreamStart();
  s.syn(0);
  for (let i = 9; i >= 0; i--) s.add(1 + i * 10, bytes(i * 10, 10));
  assert.deepEqual(s.bytes(), bytes(0, 100));
});

test('a retransmission adds nothing and does not duplicate bytes', () => {
  const s = new StreamStart();
  s.syn(0);
  s.add(1, bytes(0, 20));
  assert.equal(s.add(1, bytes(0, 20)), false);
  assert.equal(s.add(11, bytes(10, 10)), false);
  assert.deepEqual(s.bytes(), bytes(0, 20));
});

test('overlapping segments: the bytes first seen win, the new tail is added', () => {
  const s = new StreamStart();
  s.syn(0);
  s.add(1, bytes(0, 10));
  const overlap = bytes(5, 15);
  overlap[0] = 0xee; // differs from what is already held at offset 5
  assert.equal(s.add(6, overlap), true);
  assert.equal(s.length, 20);
  assert.equal(s.bytes()[5], 5);
  assert.deepEqual(s.bytes().subarray(10), bytes(10, 10));
});

test('overlapping out-of-order segments fill in once the start arrives', () => {
  const s = new StreamStart();
  s.syn(0);
  s.add(31, bytes(30, 20));
  s.add(21, bytes(20, 15));
  s.add(11, bytes(10, 15));
  assert.equal(s.length, 0);
  s.add(1, bytes(0, 12));
  assert.deepEqual(s.bytes(), bytes(0, 50));
});

test('sequence numbers that wrap past 2^32 still join', () => {
  const s = new StreamStart();
  const isn = 0xfffffff0;
  s.syn(isn);
  s.add(0xfffffff1, bytes(0, 15));
  s.add(0, bytes(15, 10)); // 0xfffffff1 + 15 wraps to 0
  assert.deepEqual(s.bytes(), bytes(0, 25));
});

test('without a SYN the stream starts at the lowest sequence seen, even when it came late', () => {
  const s = new StreamStart();
  assert.equal(s.add(5000, bytes(40, 10)), true);
  assert.deepEqual(s.bytes(), bytes(40, 10));
  assert.equal(s.add(4960, bytes(0, 40)), true);
  assert.deepEqual(s.bytes(), bytes(0, 50));
});

test('a SYN seen after the data re-anchors the stream', () => {
  const s = new StreamStart();
  s.add(120, bytes(19, 10));
  s.syn(100);
  s.add(101, bytes(0, 19));
  assert.deepEqual(s.bytes(), bytes(0, 29));
});

test('bytes before the SYN are cut off', () => {
  const s = new StreamStart();
  s.syn(100);
  assert.equal(s.add(95, bytes(0, 10)), true);
  assert.deepEqual(s.bytes(), bytes(6, 4));
});

test('never holds more than the limit, and says when it is full', () => {
  const s = new StreamStart(1000);
  s.syn(0);
  for (let off = 0; off < 5000; off += 100) s.add(1 + off, bytes(off, 100));
  assert.equal(s.length, 1000);
  assert.ok(s.full());
  assert.deepEqual(s.bytes(), bytes(0, 1000));
  // Far-away segments past a gap are not hoarded either.
  const t = new StreamStart(1000);
  t.syn(0);
  for (let off = 500; off < 50_000; off += 100) t.add(1 + off, bytes(off, 100));
  t.add(1, bytes(0, 500));
  assert.equal(t.length, 1000);
});

test('keeps its own copy of the payload', () => {
  const s = new StreamStart();
  s.syn(0);
  const seg = bytes(0, 10);
  s.add(1, seg);
  const later = bytes(20, 5);
  s.add(21, later);
  seg.fill(0xff);
  later.fill(0xff);
  s.add(11, bytes(10, 10));
  assert.deepEqual(s.bytes(), bytes(0, 25));
});

test('a gap that holds back more than the gap limit gives the stream up', () => {
  const s = new StreamStart(64 * 1024, 1000);
  s.syn(0);
  s.add(1, bytes(0, 10));
  for (let off = 100; off < 1500; off += 100) s.add(1 + off, bytes(off, 100));
  assert.ok(s.stuck());
  assert.equal(s.add(11, bytes(10, 90)), true, 'the contiguous start still grows');
  assert.equal(s.length, 100, 'but the bytes held beyond the gap were dropped');
});
