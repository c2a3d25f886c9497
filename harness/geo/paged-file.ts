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
  private readonly pages = new Map<number, Buffer>();

  /** Opens `path` for reading; throws the open's own error (ENOENT, EACCES …). */
  constructor(
    readonly path: string,
    /** Pages kept (4 KiB each). */
    private readonly maxPages = 128,
  ) {
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
    const first = offset >>> PAGE_BITS;
    const last = (offset + n - 1) >>> PAGE_BITS;
    if (n === 0) return new Uint8Array(0);
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

  /** One byte at `offset`. */
  byte(offset: number): number {
    if (offset < 0 || offset >= this.size)
      throw new ShortFileError(`${this.path}: byte ${offset} is past its end (${this.size} bytes)`);
    const p = offset >>> PAGE_BITS;
    return this.page(p)[offset - p * PAGE]!;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.pages.clear();
  }

  private page(p: number): Buffer {
    const hit = this.pages.get(p);
    if (hit) {
      // Most recently used last: the map's order is the eviction order.
      this.pages.delete(p);
      this.pages.set(p, hit);
      return hit;
    }
    if (this.fd === undefined) throw new Error(`${this.path}: read after close`);
    const start = p * PAGE;
    const len = Math.min(PAGE, this.size - start);
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    while (got < len) {
      const n = readSync(this.fd, buf, got, len - got, start + got);
      if (n === 0)
        throw new ShortFileError(`${this.path}: ended at ${start + got}, before ${this.size} bytes`);
      got += n;
    }
    if (this.pages.size >= this.maxPages) {
      const oldest = this.pages.keys().next().value as number;
      this.pages.delete(oldest);
    }
    this.pages.set(p, buf);
    return buf;
  }
}
