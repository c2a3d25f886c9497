/**
 * Cuts a TCP byte stream into ADB messages: one message over many reads, many messages in one read.
 * A bad magic or an oversized payload is a fault that ends the transport, as the real host does.
 */
import { type AdbMessage, HEADER_SIZE, MAX_PAYLOAD } from './message.js';

/** What one push of bytes yielded. */
export interface FramerResult {
  /** Complete messages, in order. */
  messages: AdbMessage[];
  /** Set once the stream is broken (bad magic, oversized length); no message follows a fault. */
  fault?: string;
}

export class MessageFramer {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private fault: string | undefined;

  /** @param maxPayload largest data_length accepted before the transport is declared broken. */
  constructor(private readonly maxPayload = MAX_PAYLOAD) {}

  /** Feeds bytes in; returns the messages they completed. */
  push(chunk: Uint8Array): FramerResult {
    if (this.fault) return { messages: [], fault: this.fault };
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.byteLength;
    const messages: AdbMessage[] = [];
    while (this.buffered >= HEADER_SIZE) {
      const header = this.peek(HEADER_SIZE);
      const command = header.readUInt32LE(0);
      const length = header.readUInt32LE(12);
      const magic = header.readUInt32LE(20);
      if (magic !== (command ^ 0xffffffff) >>> 0) {
        this.fault = `bad magic 0x${magic.toString(16)} for command 0x${command.toString(16)}`;
        break;
      }
      if (length > this.maxPayload) {
        this.fault = `payload of ${length} bytes exceeds the maximum of ${this.maxPayload}`;
        break;
      }
      if (this.buffered < HEADER_SIZE + length) break;
      const whole = this.take(HEADER_SIZE + length);
      messages.push({
        command,
        arg0: header.readUInt32LE(4),
        arg1: header.readUInt32LE(8),
        data: Buffer.from(whole.subarray(HEADER_SIZE)),
      });
    }
    if (this.fault) {
      this.chunks = [];
      this.buffered = 0;
      return { messages, fault: this.fault };
    }
    return { messages };
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0]!.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)];
    const first = this.chunks[0]!;
    const out = first.subarray(0, n);
    if (first.length === n) this.chunks.shift();
    else this.chunks[0] = first.subarray(n);
    this.buffered -= n;
    return out;
  }
}
