/**
 * Writes classic pcap bytes: the file header and one record at a time, in either byte order, with
 * microsecond or nanosecond timestamps. Pure: bytes out. The cap backend streams its file with it;
 * tests build whole captures with it (testing/capture-writer.ts).
 */

/** One frame to write. */
export interface FrameToWrite {
  /** Timestamp, seconds since the epoch. */
  ts: number;
  /** Captured bytes. */
  data: Uint8Array;
  /** Length on the wire; data.length when absent. */
  origLen?: number;
}

/** How the file is written. */
export interface PcapFormat {
  /** Little-endian header and records (default true, as on x86 and ARM). */
  littleEndian?: boolean;
  /** Nanosecond timestamps (magic a1b23c4d) instead of microseconds. */
  nano?: boolean;
}

/** Options of a classic pcap file. */
export interface PcapOptions extends PcapFormat {
  /** LINKTYPE_* number of every frame. */
  linkType: number;
  /** Snapshot length written in the header (default 262144). */
  snaplen?: number;
}

/** The 24-byte file header. */
export function pcapHeader(opts: PcapOptions): Uint8Array {
  const h = new Uint8Array(24);
  const v = new DataView(h.buffer);
  const le = opts.littleEndian ?? true;
  v.setUint32(0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, opts.snaplen ?? 262144, le);
  v.setUint32(20, opts.linkType, le);
  return h;
}

/** One record: the 16-byte record header, then the captured bytes. */
export function pcapRecord(format: PcapFormat, f: FrameToWrite): Uint8Array {
  const le = format.littleEndian ?? true;
  const perSec = format.nano ? 1e9 : 1e6;
  let sec = Math.floor(f.ts);
  let frac = Math.round((f.ts - sec) * perSec);
  if (frac >= perSec) {
    sec += 1;
    frac -= perSec;
  }
  const r = new Uint8Array(16 + f.data.length);
  const v = new DataView(r.buffer);
  v.setUint32(0, sec, le);
  v.setUint32(4, frac, le);
  v.setUint32(8, f.data.length, le);
  v.setUint32(12, f.origLen ?? f.data.length, le);
  r.set(f.data, 16);
  return r;
}
