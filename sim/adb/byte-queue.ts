/**
 * Bytes arriving in WRTEs, read back in exact sizes by a protocol loop (the sync service).
 * push() resolves only when the queue has room again, so the stream's OKAY waits: flow control.
 */

/** Above this many buffered bytes, push() waits for the reader. */
const HIGH_WATER = 2 * 1024 * 1024;

export class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;
  private ended = false;
  private dataWaiter: (() => void) | undefined;
  private roomWaiter: (() => void) | undefined;

  /** Adds bytes; resolves once fewer than the high-water mark are buffered (or the queue ended). */
  push(data: Buffer): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.chunks.push(data);
    this.size += data.length;
    this.wake();
    if (this.size < HIGH_WATER) return Promise.resolve();
    return new Promise((resolve) => {
      this.roomWaiter = resolve;
    });
  }

  /** No more bytes will come: pending and later reads that cannot complete get undefined. */
  end(): void {
    this.ended = true;
    this.wake();
    this.releaseRoom();
  }

  /** Exactly n bytes, or undefined when the queue ended first. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.size < n) {
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => {
        this.dataWaiter = resolve;
      });
    }
    let out: Buffer;
    const first = this.chunks[0];
    if (first && first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.size -= n;
    if (this.size < HIGH_WATER) this.releaseRoom();
    return out;
  }

  private wake(): void {
    const waiter = this.dataWaiter;
    this.dataWaiter = undefined;
    waiter?.();
  }

  private releaseRoom(): void {
    const waiter = this.roomWaiter;
    this.roomWaiter = undefined;
    waiter?.();
  }
}
