/**
 * Reads a capture file from disk into a CaptureParser: the packet layer's one piece of I/O. One
 * fixed buffer is refilled, so memory stays constant whatever the file size.
 *
 * The reads are synchronous: a capture is read from the page cache far faster than it is parsed
 * (196 MB in 12 ms here, against 25 ms through the thread pool, whose hand-offs left the parser
 * waiting), and the event loop still gets a turn every YIELD_EVERY chunks.
 */

import { closeSync, openSync, readSync } from 'node:fs';
import { CaptureParser } from './capture-parser.js';
import type { CaptureParserOptions, CaptureSummary } from './capture-summary.js';
import type { Frame } from './packet.js';

const CHUNK = 1 << 20;
/** Chunks read between turns of the event loop (timers, signals, other I/O). */
const YIELD_EVERY = 16;

/**
 * Reads the capture file at `path`, calling onFrame for every frame (with a reused Frame object and
 * a data view into a reused buffer: copy what you keep). Throws CaptureFormatError for a file that
 * is not a capture, and the fs error for one that cannot be read.
 */
export async function readCaptureFile(
  path: string,
  onFrame: (frame: Frame) => void,
  options?: CaptureParserOptions & { signal?: AbortSignal },
): Promise<CaptureSummary> {
  const parser = new CaptureParser(onFrame, options);
  const fd = openSync(path, 'r');
  const buffer = new Uint8Array(CHUNK);
  try {
    for (let chunks = 1; ; chunks++) {
      const bytesRead = readSync(fd, buffer, 0, CHUNK, null);
      if (bytesRead === 0) break;
      parser.push(buffer.subarray(0, bytesRead));
      if (chunks % YIELD_EVERY === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      options?.signal?.throwIfAborted();
    }
  } finally {
    closeSync(fd);
  }
  return parser.end();
}
