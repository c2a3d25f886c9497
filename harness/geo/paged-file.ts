/**
 * Random reads from a large file without holding it in memory: positioned reads (pread) through a
 * small cache of fixed-size pages. A location database is tens of megabytes and a run asks it about a
 * few hundred addresses; reading it whole would cost the analyzer its memory budget, and the few
 * pages near the root of its search tree that every lookup passes through stay in the cache.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;

/** The file ended before the bytes a reader asked for: the file is cut short or corrupt. */
export class ShortFileError extends Error {
  override name = 'ShortFileError';
}

export class PagedFile {
  readonly size: number;
  private fd: number | undefined;
  /** A direct-mapped cache: page p lives in slot p & mask, tagged with its number (-1: empty). */
  private readonly tags: Float64Array;
  private readonly slots: (Buffer | undefined)[];
  private readonly mask: number;

  /** Opens `path` for reading; throws the open's own error (ENOENT, EACCES …). */
  constructor(
    readonly path: string,
    /** Pages kept (4 KiB each), rounded down to a power of two. */
    maxPages = 128,
  ) {
    const n = 2 ** Math.floor(Math.log2(Math.max(1, maxPages)));
    this.tags = new Float64Array(n).fill(-1);
    this.slots = new Array(n);
    this.mask = n - 1;
    this.fd = openSync(path, 'r');
    try {
      this.size = fstatSync(this.fd).size;
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  /** `n` bytes at `offset`. The view is valid until the next call (it may share a cached page). */
  bytes(offset: number, n: number): Uint8Array {
    if (offset < 0 || n < 0 || offset + n > this.size)
      throw new ShortFileError(`${this.path}: ${n} bytes at ${offset} are past its end (${this.size} bytes)`);
    if (n === 0) return new Uint8Array(0);
    const first = Math.floor(offset / PAGE);
    const last = Math.floor((offset + n - 1) / PAGE);
    if (first === last) {
      const start = offset - first * PAGE;
      return this.page(first).subarray(start, start + n);
    }
    const out = Buffer.allocUnsafe(n);
    let done = 0;
    for (let p = first; p <= last; p++) {
      const page = this.page(p);
      const from = p === first ? offset - first * PAGE : 0;
      const take = Math.min(page.length - from, n - done);
      page.copy(out, done, from, from + take);
      done += take;
    }
    return out;
  }

  /** `n` bytes at `offset` in one read, past the cache (for a one-off block such as a file's tail). */
  read(offset: number, n: number): Buffer {
    if (offset < 0 || n < 0 || offset + n > this.size)
      throw new ShortFileError(`${this.path}: ${n} bytes at ${offset} are past its end (${this.size} bytes)`);
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const buf = Buffer.allocUnsafe(n);
    this.fill(buf, n, offset);
    return buf;
  }

  /** One byte at `offset`. */
  byte(offset: number): number {
    if (offset < 0 || offset >= this.size)
      throw new ShortFileError(`${this.path}: byte ${offset} is past its end (${this.size} bytes)`);
    const p = Math.floor(offset / PAGE);
    return this.page(p)[offset - p * PAGE]!;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.tags.fill(-1);
    this.slots.fill(undefined);
  }

  /** Reads `n` bytes at `offset` into the start of `buf`, however many reads it takes. */
  private fill(buf: Buffer, n: number, offset: number): void {
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    let got = 0;
    while (got < n) {
      const r = readSync(this.fd, buf, got, n - got, offset + got);
      if (r === 0)
        throw new ShortFileError(`${this.path}: ended at ${offset + got}, before ${this.size} bytes`);
      got += r;
    }
  }

  private page(p: number): Buffer {
    const i = p & this.mask;
    if (this.tags[i] === p) return this.slots[i]!;
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const start = p * PAGE;
    const len = Math.min(PAGE, this.size - start);
    // The slot's buffer is reused: views handed out before are valid until the next call only.
    let buf = this.slots[i];
    if (!buf || buf.length !== len) buf = Buffer.allocUnsafe(len);
    this.tags[i] = -1;
    this.fill(buf, len, start);
    this.slots[i] = buf;
    this.tags[i] = p;
    return buf;
  }
}
