/**
 * A streaming reader of capture files, classic pcap and pcapng, in constant memory: records may be
 * split across chunks in any way and only a partial record is ever buffered. Frames point into the
 * chunks the caller pushed (no copy) unless they straddled two chunks.
 *
 * For speed, onFrame receives the same Frame object every time, refilled: use it during the call and
 * copy what you keep (`{ ...frame, data: frame.data.slice() }`).
 */

import type { CaptureParserOptions, CaptureSummary } from './capture-summary.js';
import { CaptureFormatError, type Frame } from './packet.js';
import { pcapMagic } from './pcap-magic.js';

/** The largest record accepted (Wireshark's limit for pcapng blocks); a bigger claim means nonsense. */
const MAX_RECORD = 16 * 1024 * 1024;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 1;
const PCAPNG_OPB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const PCAPNG_CB_COPY = 0x00000bad;
const PCAPNG_CB_NOCOPY = 0x40000bad;

interface Interface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (if_tsresol). */
  unitsPerSec: number;
  /** Seconds added to every timestamp (if_tsoffset). */
  tsOffset: number;
}

type State = 'start' | 'pcap-header' | 'pcap' | 'pcapng' | 'stopped';

export class CaptureParser {
  private state: State = 'start';
  private format: 'pcap' | 'pcapng' | undefined;
  /** Byte order of the current file or pcapng section. */
  private le = true;
  /** Classic pcap: timestamp fraction units per second, record header size. */
  private fracPerSec = 1e6;
  private recHeader = 16;
  private pcapLinkType = 0;
  private interfaces: Interface[] = [];
  private readonly linkTypes: number[] = [];
  private lastTs = 0;
  private frames = 0;
  /** Stream offset of the first byte not yet consumed (the start of the carry when there is one). */
  private consumed = 0;
  private carry = new Uint8Array(0);
  private carryLen = 0;
  private readonly frame: Frame = {
    ts: 0,
    linkType: 0,
    interfaceId: 0,
    data: new Uint8Array(0),
    origLen: 0,
    index: 0,
    offset: 0,
  };
  /** Stream offset of the current chunk's first byte, while it is walked. */
  private chunkBase = 0;
  /** Bytes pushed in all. */
  private seen = 0;
  /** The file header (pcap) or first section header (pcapng) was read: errors after it stop the reading. */
  private headerDone = false;
  /** Why the reading stopped before the end, when it did. */
  private stopped: { offset: number; message: string } | undefined;
  /** Blocks skipped for their content. */
  private damaged: CaptureSummary['damaged'];

  constructor(
    private readonly onFrame: (frame: Frame) => void,
    private readonly options: CaptureParserOptions = {},
  ) {}

  /**
   * Feeds the next bytes of the stream. Throws CaptureFormatError when they cannot be a capture (its
   * first header is not one); corrupt framing after that stops the reading there, keeping what came
   * before (see CaptureSummary.truncated).
   */
  push(chunk: Uint8Array): void {
    this.seen += chunk.length;
    if (this.state === 'stopped') return;
    try {
      this.walk(chunk);
    } catch (e) {
      if (!(e instanceof CaptureFormatError) || !this.headerDone) throw e;
      this.stopped = { offset: e.offset, message: e.message };
      this.state = 'stopped';
      this.carryLen = 0;
      this.carry = new Uint8Array(0);
    }
  }

  private walk(chunk: Uint8Array): void {
    const buf =
      chunk.constructor === Uint8Array ? chunk : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length);
    let pos = 0;
    const end = buf.length;
    if (this.carryLen > 0) {
      for (;;) {
        const need = this.needed(this.carry, 0, this.carryLen);
        if (need <= this.carryLen) {
          this.handle(this.carry, 0, need, this.consumed);
          this.consumed += need;
          this.carryLen = 0;
          break;
        }
        const take = Math.min(need - this.carryLen, end - pos);
        if (take === 0) return;
        this.appendCarry(buf.subarray(pos, pos + take));
        pos += take;
      }
    }
    const base = this.consumed - pos;
    this.chunkBase = base;
    while (pos < end) {
      const need = this.needed(buf, pos, end - pos);
      if (end - pos < need) break;
      this.handle(buf, pos, need, base + pos);
      pos += need;
    }
    this.consumed = base + pos;
    if (pos < end) this.appendCarry(buf.subarray(pos, end));
  }

  /** Ends the stream. A partial last record is reported in `truncated`, not thrown. */
  end(): CaptureSummary {
    if (this.format === undefined) {
      throw new CaptureFormatError(
        this.carryLen === 0
          ? 'empty stream: not a pcap or pcapng file'
          : `only ${this.carryLen} bytes: too short for a pcap or pcapng file`,
        0,
      );
    }
    const summary: CaptureSummary = {
      format: this.format,
      frames: this.frames,
      bytes: this.seen,
      linkTypes: [...this.linkTypes],
    };
    if (this.damaged) summary.damaged = this.damaged;
    if (this.stopped) summary.truncated = { ...this.stopped, corrupt: true };
    else if (this.carryLen > 0) {
      const need = this.needed(this.carry, 0, this.carryLen);
      const what = this.state === 'pcap-header' ? 'file header' : this.format === 'pcap' ? 'record' : 'block';
      summary.truncated = {
        offset: this.consumed,
        message: `stream ends inside a ${what}: ${this.carryLen} of ${need} bytes`,
      };
    }
    return summary;
  }

  private appendCarry(bytes: Uint8Array): void {
    const want = this.carryLen + bytes.length;
    if (want > this.carry.length) {
      const grown = new Uint8Array(Math.max(want, Math.min(this.carry.length * 2, MAX_RECORD + 64), 4096));
      grown.set(this.carry.subarray(0, this.carryLen));
      this.carry = grown;
    }
    this.carry.set(bytes, this.carryLen);
    this.carryLen = want;
  }

  private u32(b: Uint8Array, o: number): number {
    return this.le
      ? (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
      : ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private u16(b: Uint8Array, o: number): number {
    return this.le ? b[o]! | (b[o + 1]! << 8) : (b[o]! << 8) | b[o + 1]!;
  }

  /**
   * How many bytes the record starting at b[pos] needs, given `avail` bytes of it: the header size
   * while the header is incomplete, then the whole record's size. Throws on impossible sizes.
   */
  private needed(b: Uint8Array, pos: number, avail: number): number {
    switch (this.state) {
      case 'pcap': {
        if (avail < this.recHeader) return this.recHeader;
        const incl = this.u32(b, pos + 8);
        if (incl > MAX_RECORD) {
          throw new CaptureFormatError(
            `pcap record claims ${incl} captured bytes (more than ${MAX_RECORD}): the file is corrupt`,
            this.offsetOf(b, pos),
          );
        }
        return this.recHeader + incl;
      }
      case 'pcapng': {
        if (avail < 12) return 12;
        if (b[pos] === 0x0a && b[pos + 1] === 0x0d && b[pos + 2] === 0x0d && b[pos + 3] === 0x0a) {
          const bom = (b[pos + 8]! << 24) | (b[pos + 9]! << 16) | (b[pos + 10]! << 8) | b[pos + 11]!;
          if (bom === 0x1a2b3c4d) this.le = false;
          else if (bom === 0x4d3c2b1a) this.le = true;
          else {
            throw new CaptureFormatError(
              'pcapng section header has no valid byte-order magic',
              this.offsetOf(b, pos) + 8,
            );
          }
        }
        const len = this.u32(b, pos + 4);
        if (len < 12 || len % 4 !== 0 || len > MAX_RECORD) {
          throw new CaptureFormatError(
            `pcapng block of type 0x${this.u32(b, pos).toString(16)} has impossible length ${len}`,
            this.offsetOf(b, pos),
          );
        }
        return len;
      }
      case 'pcap-header':
        return 24;
      case 'stopped':
        return Number.POSITIVE_INFINITY;
      case 'start': {
        if (avail < 4) return 4;
        const m = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
        if (m === PCAPNG_SHB) {
          this.state = 'pcapng';
          this.format = 'pcapng';
          return this.needed(b, pos, avail);
        }
        if (pcapMagic(m) !== undefined) {
          this.state = 'pcap-header';
          this.format = 'pcap';
          return 24;
        }
        const shown = Array.from(b.subarray(pos, pos + 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
        throw new CaptureFormatError(`not a pcap or pcapng file (starts with ${shown})`, 0);
      }
    }
  }

  /** Stream offset of b[pos], for error messages (b is either the carry or the current chunk). */
  private offsetOf(b: Uint8Array, pos: number): number {
    return (b === this.carry ? this.consumed : this.chunkBase) + pos;
  }

  private handle(b: Uint8Array, pos: number, len: number, offset: number): void {
    switch (this.state) {
      case 'pcap':
        this.pcapRecord(b, pos, len, offset);
        return;
      case 'pcapng':
        this.pcapngBlock(b, pos, len, offset);
        return;
      case 'pcap-header':
        this.pcapHeader(b, pos);
        return;
      case 'start':
      case 'stopped':
        return;
    }
  }

  private pcapHeader(b: Uint8Array, pos: number): void {
    const m = ((b[pos]! << 24) | (b[pos + 1]! << 16) | (b[pos + 2]! << 8) | b[pos + 3]!) >>> 0;
    const kind = pcapMagic(m)!;
    this.le = kind.le;
    this.fracPerSec = kind.nano ? 1e9 : 1e6;
    this.recHeader = kind.modified ? 24 : 16;
    this.pcapLinkType = this.u32(b, pos + 20) & 0x03ffffff;
    this.linkTypes.push(this.pcapLinkType);
    this.state = 'pcap';
    this.headerDone = true;
  }

  /** A block whose framing holds but whose content does not: counted, the first one kept, skipped. */
  private skip(message: string, offset: number): void {
    if (this.damaged) this.damaged.count++;
    else this.damaged = { count: 1, offset, message };
  }

  private pcapRecord(b: Uint8Array, pos: number, len: number, offset: number): void {
    const sec = this.u32(b, pos);
    const frac = this.u32(b, pos + 4);
    const incl = len - this.recHeader;
    const orig = this.u32(b, pos + 12);
    const start = pos + this.recHeader;
    this.emit(
      sec + frac / this.fracPerSec,
      this.pcapLinkType,
      0,
      b.subarray(start, start + incl),
      orig,
      offset,
    );
  }

  private pcapngBlock(b: Uint8Array, pos: number, len: number, offset: number): void {
    const type = this.u32(b, pos);
    if (this.u32(b, pos + len - 4) !== len) {
      throw new CaptureFormatError(
        `pcapng block of type 0x${type.toString(16)} ends with a length different from its start`,
        offset + len - 4,
      );
    }
    switch (type) {
      case PCAPNG_EPB:
      case PCAPNG_OPB: {
        if (len < 32) {
          this.skip('pcapng packet block too short', offset);
          return;
        }
        const ifid = type === PCAPNG_EPB ? this.u32(b, pos + 8) : this.u16(b, pos + 8);
        const iface = this.interfaces[ifid];
        if (!iface) {
          this.skip(this.noInterface(ifid), offset);
          return;
        }
        const caplen = this.u32(b, pos + 20);
        const orig = this.u32(b, pos + 24);
        if (28 + caplen > len - 4) {
          this.skip(`pcapng packet block claims ${caplen} captured bytes but holds ${len - 32}`, offset);
          return;
        }
        const units = this.u32(b, pos + 12) * 4294967296 + this.u32(b, pos + 16);
        const ts = units / iface.unitsPerSec + iface.tsOffset;
        this.lastTs = ts;
        this.emit(ts, iface.linkType, ifid, b.subarray(pos + 28, pos + 28 + caplen), orig, offset);
        return;
      }
      case PCAPNG_SPB: {
        if (len < 16) {
          this.skip('pcapng simple packet block too short', offset);
          return;
        }
        const iface = this.interfaces[0];
        if (!iface) {
          this.skip(this.noInterface(0), offset);
          return;
        }
        const orig = this.u32(b, pos + 8);
        let caplen = Math.min(orig, len - 16);
        if (iface.snaplen > 0 && caplen > iface.snaplen) caplen = iface.snaplen;
        this.emit(this.lastTs, iface.linkType, 0, b.subarray(pos + 12, pos + 12 + caplen), orig, offset);
        return;
      }
      case PCAPNG_IDB: {
        if (len < 20) {
          this.skip('pcapng interface description block too short', offset);
          return;
        }
        const iface: Interface = {
          linkType: this.u16(b, pos + 8),
          snaplen: this.u32(b, pos + 12),
          unitsPerSec: 1e6,
          tsOffset: 0,
        };
        this.readIdbOptions(b, pos + 16, pos + len - 4, iface);
        this.interfaces.push(iface);
        if (!this.linkTypes.includes(iface.linkType)) this.linkTypes.push(iface.linkType);
        return;
      }
      case PCAPNG_SHB: {
        if (len < 28) throw new CaptureFormatError('pcapng section header block too short', offset);
        const major = this.u16(b, pos + 12);
        if (major !== 1) {
          throw new CaptureFormatError(`pcapng section of unsupported version ${major}`, offset + 12);
        }
        this.interfaces = [];
        this.headerDone = true;
        return;
      }
      case PCAPNG_CB_COPY:
      case PCAPNG_CB_NOCOPY: {
        const hook = this.options.onCustomBlock;
        if (hook && len >= 16) {
          hook({ type, pen: this.u32(b, pos + 8), data: b.subarray(pos + 12, pos + len - 4), offset });
        }
        return;
      }
      default:
        return;
    }
  }

  /** Hands the frame over in the one reused Frame object (no allocation per frame but its data view). */
  private emit(
    ts: number,
    linkType: number,
    interfaceId: number,
    data: Uint8Array,
    origLen: number,
    offset: number,
  ): void {
    const f = this.frame;
    f.ts = ts;
    f.linkType = linkType;
    f.interfaceId = interfaceId;
    f.data = data;
    f.origLen = Math.max(origLen, data.length);
    f.index = this.frames++;
    f.offset = offset;
    this.onFrame(f);
  }

  private noInterface(id: number): string {
    return `pcapng packet block names interface ${id} but the section has ${this.interfaces.length}`;
  }

  /** Reads if_tsresol (9) and if_tsoffset (14); other options are skipped. */
  private readIdbOptions(b: Uint8Array, pos: number, end: number, iface: Interface): void {
    while (pos + 4 <= end) {
      const code = this.u16(b, pos);
      const olen = this.u16(b, pos + 2);
      const val = pos + 4;
      if (code === 0 || val + olen > end) return;
      if (code === 9 && olen >= 1) {
        const r = b[val]!;
        iface.unitsPerSec = r & 0x80 ? 2 ** (r & 0x7f) : 10 ** r;
      } else if (code === 14 && olen >= 8) {
        const hi = this.u32(b, val + (this.le ? 4 : 0)) | 0;
        const lo = this.u32(b, val + (this.le ? 0 : 4));
        iface.tsOffset = hi * 4294967296 + lo;
      }
      pos = val + ((olen + 3) & ~3);
    }
  }
}

/** Reads a whole capture stream (e.g. fs.createReadStream(path)), calling onFrame for each frame. */
export async function readCapture(
  source: AsyncIterable<Uint8Array>,
  onFrame: (f: Frame) => void,
  options?: CaptureParserOptions,
): Promise<CaptureSummary> {
  const parser = new CaptureParser(onFrame, options);
  for await (const chunk of source) parser.push(chunk);
  return parser.end();
}
