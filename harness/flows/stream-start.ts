/**
 * The first bytes of one direction of a TCP stream, put back in order: only as many as it takes to
 * read the first message (a ClientHello, an HTTP request), and never more than a fixed limit.
 * Segments may arrive out of order, twice, or overlapping; the bytes first seen for a position win.
 * Offsets count from the byte after the SYN's sequence number, or, when the SYN was not captured,
 * from the lowest sequence number seen so far.
 */

/** How many bytes of a stream's start are kept by default. */
export const STREAM_START_LIMIT = 64 * 1024;
/**
 * Bytes held beyond a gap before the stream is given up as stuck. A lost segment's retransmission
 * comes within a few segments; a gap the capture never fills (a dropped or truncated packet) must
 * not hold 64 KiB per flow to the end of a capture.
 */
export const STREAM_GAP_LIMIT = 16 * 1024;

interface Piece {
  /** Offset from the stream start. */
  off: number;
  /** The bytes (a copy). */
  data: Uint8Array;
}

export class StreamStart {
  /** Sequence number of stream byte 0, once known. */
  private base: number | undefined;
  /** True when base came from a SYN (and so cannot move back). */
  private anchored = false;
  private buf: Uint8Array | undefined;
  /** Bytes contiguous from offset 0. */
  private len = 0;
  /** Segments beyond a gap, waiting for it to fill. */
  private pending: Piece[] | undefined;
  private pendingBytes = 0;
  /** True once a gap held back more than the gap limit: the start will never be complete. */
  private gaveUp = false;

  constructor(
    readonly limit: number = STREAM_START_LIMIT,
    readonly gapLimit: number = Math.min(limit, STREAM_GAP_LIMIT),
  ) {}

  /** Tells the SYN's sequence number: the stream starts right after it. */
  syn(isn: number): void {
    const start = (isn + 1) >>> 0;
    if (this.anchored && this.base === start) return;
    const hadData = this.base !== undefined && this.base !== start;
    this.anchored = true;
    if (hadData) this.rebase(start);
    else this.base = start;
  }

  /**
   * Adds a segment's payload (as captured) at its sequence number. Returns true when the bytes
   * contiguous from the stream start grew. The payload is copied where it is kept.
   */
  add(seq: number, data: Uint8Array): boolean {
    if (data.length === 0) return false;
    if (this.base === undefined) this.base = seq >>> 0;
    let off = (seq - this.base) | 0;
    if (off < 0 && !this.anchored && off > -this.limit) {
      this.rebase(seq >>> 0);
      off = 0;
    }
    return this.insert(off, data, true);
  }

  /** The bytes contiguous from the stream start. A view: valid until the next add. */
  bytes(): Uint8Array {
    return this.buf ? this.buf.subarray(0, this.len) : new Uint8Array(0);
  }

  /** Bytes contiguous from the start. */
  get length(): number {
    return this.len;
  }

  /** True once the limit is reached: asking for more cannot help. */
  full(): boolean {
    return this.len >= this.limit;
  }

  /** True once a gap held back too much to wait for (the held bytes are then dropped). */
  stuck(): boolean {
    return this.gaveUp;
  }

  private insert(off: number, data: Uint8Array, copy: boolean): boolean {
    let d = data;
    if (off < 0) {
      if (off + d.length <= 0) return false;
      d = d.subarray(-off);
      off = 0;
    }
    if (off >= this.limit) return false;
    if (off + d.length > this.limit) d = d.subarray(0, this.limit - off);
    if (off > this.len) {
      if (this.gaveUp) return false;
      if (this.pendingBytes + d.length > this.gapLimit) {
        this.gaveUp = true;
        this.pending = undefined;
        this.pendingBytes = 0;
        return false;
      }
      this.pending ??= [];
      this.pending.push({ off, data: copy ? d.slice() : d });
      this.pendingBytes += d.length;
      return false;
    }
    const end = off + d.length;
    if (end <= this.len) return false;
    this.write(d.subarray(this.len - off), end);
    this.drain();
    return true;
  }

  /** Appends bytes at the contiguous end, growing the buffer as needed. */
  private write(d: Uint8Array, end: number): void {
    let buf = this.buf;
    if (!buf || buf.length < end) {
      const size = Math.min(this.limit, Math.max(end, 2048, buf ? buf.length * 2 : 0));
      const next = new Uint8Array(size);
      if (buf) next.set(buf.subarray(0, this.len));
      buf = next;
      this.buf = buf;
    }
    buf.set(d, this.len);
    this.len = end;
  }

  /** Moves waiting segments that the contiguous bytes now reach. */
  private drain(): void {
    const pending = this.pending;
    if (!pending) return;
    let moved = true;
    while (moved && pending.length > 0) {
      moved = false;
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!;
        if (p.off > this.len) continue;
        pending.splice(i, 1);
        this.pendingBytes -= p.data.length;
        const end = p.off + p.data.length;
        if (end > this.len) this.write(p.data.subarray(this.len - p.off), end);
        moved = true;
        break;
      }
    }
  }

  /** Re-counts every byte held from a new stream start. */
  private rebase(start: number): void {
    const old = this.base ?? start;
    const delta = (old - start) | 0;
    const pieces: Piece[] = [];
    if (this.buf && this.len > 0) pieces.push({ off: delta, data: this.buf.slice(0, this.len) });
    for (const p of this.pending ?? []) pieces.push({ off: p.off + delta, data: p.data });
    this.base = start;
    this.buf = undefined;
    this.len = 0;
    this.pending = undefined;
    this.pendingBytes = 0;
    pieces.sort((a, b) => a.off - b.off);
    for (const p of pieces) this.insert(p.off, p.data, false);
  }
}
