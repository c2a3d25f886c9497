/** Writes classic pcap bytes (microsecond timestamps, little endian) for backends that get raw frames. */

/** The 24-byte file header. */
export function pcapHeader(linkType: number, snaplen: number): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeInt32LE(0, 8);
  h.writeUInt32LE(0, 12);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linkType, 20);
  return h;
}

/** One record: 16-byte header plus the captured bytes. `tsMicros` is microseconds since the epoch. */
export function pcapRecord(tsMicros: number, data: Uint8Array, origLen: number): Buffer {
  const r = Buffer.allocUnsafe(16 + data.length);
  r.writeUInt32LE(Math.floor(tsMicros / 1e6), 0);
  r.writeUInt32LE(Math.floor(tsMicros % 1e6), 4);
  r.writeUInt32LE(data.length, 8);
  r.writeUInt32LE(origLen, 12);
  r.set(data, 16);
  return r;
}
