/**
 * A classic pcap file, read record by record, and a writer that makes a big capture out of a small
 * one by repeating its records with shifted timestamps: what the memory benchmark analyzes.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';

/** The records of a classic pcap file: where each starts, and how its header's numbers read. */
export interface PcapLayout {
  /** True when the file's numbers are little-endian. */
  littleEndian: boolean;
  /** True for nanosecond timestamps (magic a1b23c4d). */
  nano: boolean;
  /** Byte offset of every record header, in file order. */
  offsets: number[];
  /** Timestamp of the first and the last record, seconds. */
  firstTs: number;
  lastTs: number;
}

const HEADER = 24;
const RECORD_HEADER = 16;

/** Reads the record layout of a classic pcap (throws on anything else, or a record cut short). */
export function pcapLayout(bytes: Buffer): PcapLayout {
  if (bytes.length < HEADER) throw new Error('not a pcap file: shorter than its header');
  const magicLe = bytes.readUInt32LE(0);
  const magicBe = bytes.readUInt32BE(0);
  const le = magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d;
  if (!le && magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d)
    throw new Error(`not a classic pcap file (magic ${magicBe.toString(16)})`);
  const nano = (le ? magicLe : magicBe) === 0xa1b23c4d;
  const u32 = (at: number) => (le ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const ts = (at: number) => u32(at) + u32(at + 4) / (nano ? 1e9 : 1e6);
  const offsets: number[] = [];
  let at = HEADER;
  while (at < bytes.length) {
    if (at + RECORD_HEADER > bytes.length) throw new Error(`record header cut short at byte ${at}`);
    const caplen = u32(at + 8);
    if (at + RECORD_HEADER + caplen > bytes.length) throw new Error(`record cut short at byte ${at}`);
    offsets.push(at);
    at += RECORD_HEADER + caplen;
  }
  const first = offsets[0];
  const last = offsets[offsets.length - 1];
  return {
    littleEndian: le,
    nano,
    offsets,
    firstTs: first === undefined ? 0 : ts(first),
    lastTs: last === undefined ? 0 : ts(last),
  };
}

/** What writeRepeated wrote. */
export interface RepeatResult {
  /** Size of the written file. */
  bytes: number;
  /** Records written. */
  packets: number;
  /** How many times the source's records were written. */
  copies: number;
}

/**
 * Writes `dst`: the header of `src`, then all of its records again and again, each copy's
 * timestamps moved on by the capture's duration plus `gapSec` (so that every copy's connections
 * are new ones and idle UDP flows time out between copies), until the file holds at least
 * `minBytes`.
 */
export function writeRepeated(src: string, dst: string, minBytes: number, gapSec = 120): RepeatResult {
  const bytes = readFileSync(src);
  const layout = pcapLayout(bytes);
  if (layout.offsets.length === 0) throw new Error(`${src} holds no packets`);
  const body = bytes.subarray(HEADER);
  const step = Math.ceil(layout.lastTs - layout.firstTs) + gapSec;
  const copy = Buffer.allocUnsafe(body.length);
  const fd = openSync(dst, 'w');
  let written = 0;
  let copies = 0;
  try {
    written += writeSync(fd, bytes.subarray(0, HEADER));
    while (written < minBytes) {
      body.copy(copy);
      const shift = step * copies;
      for (const off of layout.offsets) {
        const at = off - HEADER;
        if (layout.littleEndian) copy.writeUInt32LE(body.readUInt32LE(at) + shift, at);
        else copy.writeUInt32BE(body.readUInt32BE(at) + shift, at);
      }
      let done = 0;
      while (done < copy.length) done += writeSync(fd, copy, done, copy.length - done);
      written += copy.length;
      copies++;
    }
  } finally {
    closeSync(fd);
  }
  return { bytes: written, packets: layout.offsets.length * copies, copies };
}
