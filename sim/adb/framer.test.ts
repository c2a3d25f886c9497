import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageFramer } from './framer.js';
import { A_CNXN, A_OKAY, A_WRTE, type AdbMessage, dataCheck, encodeMessage } from './message.js';

const sample: AdbMessage[] = [
  { command: A_CNXN, arg0: 0x01000001, arg1: 1048576, data: Buffer.from('host::features=shell_v2') },
  { command: A_OKAY, arg0: 7, arg1: 3, data: Buffer.alloc(0) },
  { command: A_WRTE, arg0: 3, arg1: 7, data: Buffer.from(Array.from({ length: 5000 }, (_, i) => i & 0xff)) },
];

test('messages fed one byte at a time come out whole and in order', () => {
  const framer = new MessageFramer();
  const bytes = Buffer.concat(sample.map(encodeMessage));
  const out: AdbMessage[] = [];
  for (const byte of bytes) {
    const r = framer.push(Buffer.of(byte));
    assert.equal(r.fault, undefined);
    out.push(...r.messages);
  }
  assert.deepEqual(out, sample);
});

test('many messages in one chunk, and a message split across chunks at odd places', () => {
  const framer = new MessageFramer();
  const bytes = Buffer.concat([...sample, ...sample, ...sample].map(encodeMessage));
  const first = framer.push(bytes.subarray(0, 60));
  const second = framer.push(bytes.subarray(60, bytes.length - 7));
  const third = framer.push(bytes.subarray(bytes.length - 7));
  assert.equal(first.messages.length, 1);
  assert.deepEqual(
    [...first.messages, ...second.messages, ...third.messages],
    [...sample, ...sample, ...sample],
  );
});

test('the header carries length, byte-sum check and magic', () => {
  const encoded = encodeMessage(sample[0]!);
  assert.equal(encoded.readUInt32LE(12), sample[0]!.data.length);
  assert.equal(encoded.readUInt32LE(16), dataCheck(sample[0]!.data));
  assert.equal(encoded.readUInt32LE(20), (A_CNXN ^ 0xffffffff) >>> 0);
  assert.equal(encoded.subarray(0, 4).toString('latin1'), 'CNXN');
});

test('a bad magic is a fault; messages before it still come out; nothing after', () => {
  const framer = new MessageFramer();
  const bad = encodeMessage(sample[1]!);
  bad.writeUInt32LE(0x12345678, 20);
  const r = framer.push(Buffer.concat([encodeMessage(sample[1]!), bad, encodeMessage(sample[1]!)]));
  assert.equal(r.messages.length, 1);
  assert.match(r.fault ?? '', /bad magic/);
  assert.match(framer.push(encodeMessage(sample[1]!)).fault ?? '', /bad magic/);
});

test('a payload longer than the maximum is a fault before its bytes arrive', () => {
  const framer = new MessageFramer(4096);
  const header = encodeMessage({ command: A_WRTE, arg0: 1, arg1: 1, data: Buffer.alloc(4097) }).subarray(
    0,
    24,
  );
  const r = framer.push(header);
  assert.deepEqual(r.messages, []);
  assert.match(r.fault ?? '', /exceeds the maximum of 4096/);
});
