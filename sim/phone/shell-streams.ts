/** The standard streams of one shell run. */
import type { Readable, Writable } from 'node:stream';

/** Streams and signal of one shell run. */
export interface ShellStreams {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signal: AbortSignal;
}
