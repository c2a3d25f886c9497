/**
 * Reads a capture file from disk into a CaptureParser: the packet layer's one piece of I/O. Two
 * fixed buffers take turns, so the next read runs while the current chunk is parsed and memory stays
 * constant whatever the file size.
 */

import { open } from 'node:fs/promises';
import { CaptureParser, type CaptureParserOptions, type CaptureSummary } from './capture-parser.js';
import type { Frame } from './packet.js';

const CHUNK = 1 << 20;

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
  const file = await open(path, 'r');
  const buffers = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let turn = 0;
  let position = 0;
  let pending = file.read(buffers[0]!, 0, CHUNK, position);
  try {
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      options?.signal?.throwIfAborted();
      position += bytesRead;
      const current = buffers[turn]!;
      turn ^= 1;
      pending = file.read(buffers[turn]!, 0, CHUNK, position);
      parser.push(current.subarray(0, bytesRead));
    }
  } finally {
    // A read may still be in flight when parsing threw: let it land before closing.
    await pending.catch(() => undefined);
    await file.close();
  }
  return parser.end();
}
