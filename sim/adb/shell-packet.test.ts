import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeShellPacket,
  SHELL_EXIT,
  SHELL_STDIN,
  SHELL_STDOUT,
  ShellPacketReader,
} from './shell-packet.js';

test('packets split byte by byte and merged in one chunk read back the same', () => {
  const packets = [
    { id: SHELL_STDIN, data: Buffer.from('hello\n') },
    { id: SHELL_STDOUT, data: Buffer.alloc(0) },
    { id: SHELL_EXIT, data: Buffer.of(3) },
  ];
  const bytes = Buffer.concat(packets.map((p) => encodeShellPacket(p.id, p.data)));
  assert.equal(bytes[0], SHELL_STDIN);
  assert.equal(bytes.readUInt32LE(1), 6);
  const slow = new ShellPacketReader();
  const out = [...bytes].flatMap((b) => slow.push(Buffer.of(b)));
  assert.deepEqual(out, packets);
  assert.deepEqual(new ShellPacketReader().push(bytes), packets);
});
