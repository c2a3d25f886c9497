/**
 * The shell v2 protocol inside a `shell,v2,…:` stream: packets of [id u8][length u32 LE][data].
 * Pure: bytes in, plain data out.
 */

export const SHELL_STDIN = 0;
export const SHELL_STDOUT = 1;
export const SHELL_STDERR = 2;
export const SHELL_EXIT = 3;
export const SHELL_CLOSE_STDIN = 4;
export const SHELL_WINDOW_SIZE = 5;

/** Size of a shell packet header. */
export const SHELL_HEADER_SIZE = 5;

/** One shell v2 packet. */
export interface ShellPacket {
  /** Packet kind (SHELL_STDIN … SHELL_WINDOW_SIZE). */
  id: number;
  /** Packet payload. */
  data: Buffer;
}

/** Encodes one packet. */
export function encodeShellPacket(id: number, data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SHELL_HEADER_SIZE + data.length);
  out.writeUInt8(id, 0);
  out.writeUInt32LE(data.length, 1);
  out.set(data, SHELL_HEADER_SIZE);
  return out;
}

/** Cuts stream bytes into shell packets; a packet may span several WRTEs and a WRTE hold several. */
export class ShellPacketReader {
  private pending: Buffer = Buffer.alloc(0);

  /** Feeds bytes in; returns the packets they completed. */
  push(chunk: Uint8Array): ShellPacket[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk);
    const packets: ShellPacket[] = [];
    let at = 0;
    while (this.pending.length - at >= SHELL_HEADER_SIZE) {
      const length = this.pending.readUInt32LE(at + 1);
      if (this.pending.length - at - SHELL_HEADER_SIZE < length) break;
      const id = this.pending.readUInt8(at);
      const start = at + SHELL_HEADER_SIZE;
      packets.push({ id, data: Buffer.from(this.pending.subarray(start, start + length)) });
      at = start + length;
    }
    this.pending = this.pending.subarray(at);
    return packets;
  }
}
