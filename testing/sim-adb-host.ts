/**
 * A bare ADB host for this folder's unit tests: speaks raw transport messages to an adbd, so that
 * tests can check what the real adb server cannot show (chunk sizes, one WRTE in flight, AUTH tokens).
 */
import { connect, type Socket } from 'node:net';
import { MessageFramer } from '../sim/adb/framer.js';
import { A_CNXN, A_OKAY, A_OPEN, A_WRTE, type AdbMessage, encodeMessage } from '../sim/adb/message.js';

export class TestHost {
  private readonly framer = new MessageFramer();
  private readonly inbox: AdbMessage[] = [];
  private waiter: (() => void) | undefined;
  /** True once the adbd closed the connection. */
  ended = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      const { messages, fault } = this.framer.push(chunk);
      this.inbox.push(...messages);
      if (fault) socket.destroy();
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<TestHost> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new TestHost(socket)));
      socket.once('error', reject);
    });
  }

  send(command: number, arg0: number, arg1: number, data: Buffer | string = Buffer.alloc(0)): void {
    this.socket.write(encodeMessage({ command, arg0, arg1, data: Buffer.from(data) }));
  }

  /** Sends the host's CNXN announcing maxPayload. */
  hello(maxPayload = 1024 * 1024): void {
    this.send(A_CNXN, 0x01000001, maxPayload, 'host::features=shell_v2,cmd,stat_v2,ls_v2,fixed_push_mkdir\0');
  }

  /** The next message, or undefined when none arrives within ms (or the connection ended). */
  async next(ms = 2000): Promise<AdbMessage | undefined> {
    const deadline = Date.now() + ms;
    while (this.inbox.length === 0 && !this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.inbox.shift();
  }

  /** Opens a service; resolves with the adbd's reply (OKAY or CLSE). */
  async open(hostId: number, service: string): Promise<AdbMessage | undefined> {
    this.send(A_OPEN, hostId, 0, `${service}\0`);
    return this.next();
  }

  /**
   * Reads a whole stream: acknowledges each WRTE for hostId and collects its bytes until CLSE.
   * Also returns the largest WRTE seen.
   */
  async drain(hostId: number, ms = 10_000): Promise<{ data: Buffer; largest: number; closed: boolean }> {
    const parts: Buffer[] = [];
    let largest = 0;
    for (;;) {
      const msg = await this.next(ms);
      if (!msg) return { data: Buffer.concat(parts), largest, closed: false };
      if (msg.arg1 !== hostId) continue;
      if (msg.command === A_WRTE) {
        parts.push(msg.data);
        largest = Math.max(largest, msg.data.length);
        this.send(A_OKAY, hostId, msg.arg0);
      } else if (msg.command !== A_OKAY) {
        return { data: Buffer.concat(parts), largest, closed: true };
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
