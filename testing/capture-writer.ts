/**
 * Builds capture files in memory for tests, classic pcap and pcapng, in either byte order: whole
 * classic files from harness/packets/pcap-writer.ts, and pcapng block by block. Pure: bytes out.
 */
import {
  type FrameToWrite,
  type PcapOptions,
  pcapHeader,
  pcapRecord,
} from '../harness/packets/pcap-writer.js';

export type { FrameToWrite, PcapOptions };

/** A classic pcap file holding the frames. */
export function pcapFile(opts: PcapOptions, frames: FrameToWrite[]): Uint8Array {
  return concat([pcapHeader(opts), ...frames.map((f) => pcapRecord(opts, f))]);
}

/** Options of a pcapng Interface Description Block. */
export interface PcapngInterface {
  /** LINKTYPE_* number. */
  linkType: number;
  /** Snapshot length (0: none). */
  snaplen?: number;
  /** Raw if_tsresol byte: 6 = microseconds (default, option omitted), 9 = ns, 0x80|n = 2^-n s. */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: number;
}

/** Builds a pcapng stream block by block; sections may differ in byte order. */
export class PcapngWriter {
  private readonly parts: Uint8Array[] = [];
  private le = true;
  private resolutions: number[] = [];

  /** Starts a section (Section Header Block) in the given byte order. */
  section(littleEndian = true): this {
    this.le = littleEndian;
    this.resolutions = [];
    const body = this.writer();
    body.u32(0x1a2b3c4d);
    body.u16(1);
    body.u16(0);
    body.u32(0xffffffff);
    body.u32(0xffffffff);
    return this.block(0x0a0d0d0a, body.done());
  }

  /** Adds an Interface Description Block; interfaces are numbered from 0 in each section. */
  iface(i: PcapngInterface): this {
    const body = this.writer();
    body.u16(i.linkType);
    body.u16(0);
    body.u32(i.snaplen ?? 0);
    if (i.tsresol !== undefined) body.option(9, Uint8Array.of(i.tsresol));
    if (i.tsoffset !== undefined) {
      const v = this.writer();
      v.u64(i.tsoffset);
      body.option(14, v.done());
    }
    if (i.tsresol !== undefined || i.tsoffset !== undefined) body.u32(0);
    this.resolutions.push(resolution(i.tsresol ?? 6));
    return this.block(1, body.done());
  }

  /** Adds an Enhanced Packet Block. */
  epb(interfaceId: number, f: FrameToWrite): this {
    const body = this.writer();
    body.u32(interfaceId);
    this.timestamp(body, interfaceId, f.ts);
    body.u32(f.data.length);
    body.u32(f.origLen ?? f.data.length);
    body.padded(f.data);
    return this.block(6, body.done());
  }

  /** Adds an obsolete Packet Block (interface id and drops count are 16 bits). */
  opb(interfaceId: number, f: FrameToWrite): this {
    const body = this.writer();
    body.u16(interfaceId);
    body.u16(0);
    this.timestamp(body, interfaceId, f.ts);
    body.u32(f.data.length);
    body.u32(f.origLen ?? f.data.length);
    body.padded(f.data);
    return this.block(2, body.done());
  }

  /** Adds a Simple Packet Block (interface 0, no timestamp). */
  spb(data: Uint8Array, origLen = data.length): this {
    const body = this.writer();
    body.u32(origLen);
    body.padded(data);
    return this.block(3, body.done());
  }

  /** Adds a Custom Block (type 0x00000BAD) of the given Private Enterprise Number. */
  custom(pen: number, data: Uint8Array, type = 0x00000bad): this {
    const body = this.writer();
    body.u32(pen);
    body.padded(data);
    return this.block(type, body.done());
  }

  /** Adds a block of any type with the given body (padded to 4 bytes). */
  block(type: number, body: Uint8Array): this {
    const pad = (4 - (body.length % 4)) % 4;
    const total = 12 + body.length + pad;
    const w = this.writer();
    w.u32(type);
    w.u32(total);
    w.bytes(body);
    w.bytes(new Uint8Array(pad));
    w.u32(total);
    this.parts.push(w.done());
    return this;
  }

  /** The stream so far. */
  bytes(): Uint8Array {
    return concat(this.parts);
  }

  private writer(): ByteWriter {
    return new ByteWriter(this.le);
  }

  private timestamp(w: ByteWriter, interfaceId: number, ts: number): void {
    const perSec = this.resolutions[interfaceId] ?? 1e6;
    const sec = Math.floor(ts);
    const units = BigInt(sec) * BigInt(perSec) + BigInt(Math.round((ts - sec) * perSec));
    w.u32(Number(units >> 32n));
    w.u32(Number(units & 0xffffffffn));
  }
}

function resolution(r: number): number {
  return r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
}

/** The chunks joined into one array. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  constructor(private readonly le: boolean) {}

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    grown.set(this.buf.subarray(0, this.len));
    this.buf = grown;
  }

  u16(v: number): void {
    this.room(2);
    const b = this.buf;
    if (this.le) {
      b[this.len] = v & 255;
      b[this.len + 1] = (v >>> 8) & 255;
    } else {
      b[this.len] = (v >>> 8) & 255;
      b[this.len + 1] = v & 255;
    }
    this.len += 2;
  }

  u32(v: number): void {
    this.room(4);
    const b = this.buf;
    for (let i = 0; i < 4; i++) b[this.len + (this.le ? i : 3 - i)] = (v >>> (8 * i)) & 255;
    this.len += 4;
  }

  u64(v: number): void {
    const hi = Math.floor(v / 4294967296);
    const lo = v - hi * 4294967296;
    if (this.le) {
      this.u32(lo);
      this.u32(hi);
    } else {
      this.u32(hi);
      this.u32(lo);
    }
  }

  bytes(d: Uint8Array): void {
    this.room(d.length);
    this.buf.set(d, this.len);
    this.len += d.length;
  }

  padded(d: Uint8Array): void {
    this.bytes(d);
    this.bytes(new Uint8Array((4 - (d.length % 4)) % 4));
  }

  option(code: number, value: Uint8Array): void {
    this.u16(code);
    this.u16(value.length);
    this.padded(value);
  }

  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
