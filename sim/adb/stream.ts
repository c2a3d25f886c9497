/**
 * One ADB stream on the device side: ids, one WRTE in flight (the next waits for the host's OKAY),
 * an OKAY for every WRTE received (sent once the service took the bytes, which is the flow control),
 * chunking to the negotiated max payload, and a signal that aborts when either side closes.
 */
import { A_CLSE, A_OKAY, A_WRTE } from './message.js';

/** What a stream needs from its transport. */
export interface StreamLink {
  /** Queues one message on the transport. */
  send(command: number, arg0: number, arg1: number, data?: Buffer): void;
  /** The negotiated max payload. */
  readonly maxPayload: number;
  /** The stream is gone: the transport forgets its id. */
  forget(localId: number): void;
}

/** Takes the bytes of one WRTE; the OKAY goes out when the returned promise settles. */
export type DataHandler = (data: Buffer) => void | Promise<void>;

export class AdbStream {
  private readonly controller = new AbortController();
  private sendChain: Promise<void> = Promise.resolve();
  private ackWaiter: (() => void) | undefined;
  private recvChain: Promise<void> = Promise.resolve();
  private handler: DataHandler | undefined;
  private early: Buffer[] = [];
  private isClosed = false;

  constructor(
    private readonly link: StreamLink,
    /** This side's id. */
    readonly localId: number,
    /** The host's id (0 until the host accepted a stream this side opened). */
    public remoteId: number,
    /** The service string the stream was opened for. */
    readonly service: string,
  ) {}

  /** Aborted when the host closes the stream, this side closes it, or the transport drops. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The negotiated max payload of the transport: the largest WRTE. */
  get maxPayload(): number {
    return this.link.maxPayload;
  }

  /** True once closed by either side. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Sets who takes incoming bytes; bytes that arrived before are handed over first. */
  onData(handler: DataHandler): void {
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const data of early) this.receive(data);
  }

  /**
   * Sends bytes towards the host in chunks of at most the max payload, each after the previous one
   * was acknowledged. Resolves when the host acknowledged the last chunk, or at once when the stream
   * is closed (the bytes are then dropped, as a closed socket drops them).
   */
  write(data: Uint8Array): Promise<void> {
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.sendChain = this.sendChain.then(async () => {
      for (let at = 0; at < bytes.length && !this.isClosed; at += this.link.maxPayload) {
        const chunk = bytes.subarray(at, at + this.link.maxPayload);
        const acked = new Promise<void>((resolve) => {
          this.ackWaiter = resolve;
        });
        this.link.send(A_WRTE, this.localId, this.remoteId, chunk);
        await acked;
      }
    });
    return this.sendChain;
  }

  /** Closes the stream after everything written so far was acknowledged. */
  end(): Promise<void> {
    this.sendChain = this.sendChain.then(() => this.close());
    return this.sendChain;
  }

  /** Closes the stream now (CLSE to the host); pending bytes are dropped. */
  close(): void {
    if (this.isClosed) return;
    if (this.remoteId !== 0) this.link.send(A_CLSE, this.localId, this.remoteId);
    this.finish();
  }

  /** The host acknowledged our last WRTE (or accepted our OPEN). */
  handleOkay(): void {
    const waiter = this.ackWaiter;
    this.ackWaiter = undefined;
    waiter?.();
  }

  /** The host sent bytes. */
  handleWrite(data: Buffer): void {
    if (this.isClosed) return;
    if (!this.handler) {
      this.early.push(data);
      return;
    }
    this.receive(data);
  }

  /** The host closed the stream, or the transport dropped. */
  handleRemoteClose(): void {
    this.finish();
  }

  private receive(data: Buffer): void {
    const handler = this.handler!;
    this.recvChain = this.recvChain
      .then(() => handler(data))
      .then(
        () => {
          if (!this.isClosed) this.link.send(A_OKAY, this.localId, this.remoteId);
        },
        () => this.close(),
      );
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.link.forget(this.localId);
    this.handleOkay();
    this.controller.abort();
  }
}
