/**
 * The capture file as a backend writes it: a write that fails (the disk full, the folder gone) does
 * not crash phonehome; it is kept, the backend is told so it can stop capturing, and stop() reports it
 * as the run's reason. What was written before stays in the file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { CaptureError } from '../errors.js';

export class CaptureFile {
  readonly out: WriteStream;
  #err: NodeJS.ErrnoException | undefined;

  /** Opens `file` for writing; `onFailure` is called once, at the first failed write. */
  constructor(
    readonly file: string,
    onFailure: () => void,
  ) {
    this.out = createWriteStream(file);
    this.out.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#err) return;
      this.#err = err;
      onFailure();
    });
  }

  write(chunk: Uint8Array): void {
    if (!this.#err) this.out.write(chunk);
  }

  /** Flushes and closes the file (also after a failure). */
  close(): Promise<void> {
    if (this.out.closed) return Promise.resolve();
    // 'close' comes after the 'error' of a last write that failed (end's callback can come before it).
    return new Promise<void>((resolve) => {
      this.out.once('close', () => resolve());
      if (this.#err) this.out.destroy();
      else this.out.end();
    });
  }

  /** The failure, as the backend's CaptureError, or undefined when every write went through. */
  failure(backend: string): CaptureError | undefined {
    const err = this.#err;
    if (!err) return undefined;
    const what = err.code === 'ENOSPC' ? 'no space left on the device (ENOSPC)' : err.message;
    return new CaptureError(
      backend,
      `cannot write the capture file ${this.file}: ${what}; it holds what was written before`,
    );
  }
}
