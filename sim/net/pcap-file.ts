/**
 * Classic pcap files, read and written whole (the on-phone capture's temp file and its PCAPdroid copy).
 * Pure: bytes in, records out and back.
 */

/** One record of a classic pcap file. */
export interface PcapRecord {
  /** Seconds part of the timestamp. */
  tsSec: number;
  /** Microseconds part of the timestamp. */
  tsUsec: number;
  /** Captured bytes. */
  data: Buffer;
  /** Length on the wire. */
  origLen: number;
}

/** A classic pcap file's content. */
export interface PcapContent {
  /** LINKTYPE_* of every record. */
  linkType: number;
  /** Snapshot length from the file header. */
  snaplen: number;
  /** The records in file order. */
  records: PcapRecord[];
}

/** Link type numbers used here. */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;

/** Parses a microsecond classic pcap file in either byte order; a truncated last record is dropped. */
export function readPcap(buf: Buffer): PcapContent {
  if (buf.length < 24) throw new RangeError('pcap file shorter than its header');
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else throw new RangeError(`not a microsecond pcap file (magic ${magic.toString(16)})`);
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const snaplen = u32(16);
  const linkType = u32(20) & 0x0fffffff;
  const records: PcapRecord[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const incl = u32(off + 8);
    if (off + 16 + incl > buf.length) break;
    records.push({
      tsSec: u32(off),
      tsUsec: u32(off + 4),
      origLen: u32(off + 12),
      data: buf.subarray(off + 16, off + 16 + incl),
    });
    off += 16 + incl;
  }
  return { linkType, snaplen, records };
}

/** Writes a little-endian microsecond classic pcap file. */
export function writePcap(content: PcapContent): Buffer {
  const parts: Buffer[] = [];
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(content.snaplen, 16);
  head.writeUInt32LE(content.linkType, 20);
  parts.push(head);
  for (const r of content.records) {
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(r.tsSec, 0);
    rh.writeUInt32LE(r.tsUsec, 4);
    rh.writeUInt32LE(r.data.length, 8);
    rh.writeUInt32LE(r.origLen, 12);
    parts.push(rh, r.data);
  }
  return Buffer.concat(parts);
}
