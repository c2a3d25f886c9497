/**
 * One ADB transport (one TCP connection from the adb server): the CNXN handshake, AUTH for an
 * unauthorized phone, and the streams the host opens on it.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { SimPhone } from '../contracts.js';
import { MessageFramer } from './framer.js';
import {
  A_AUTH,
  A_CLSE,
  A_CNXN,
  A_OKAY,
  A_OPEN,
  A_VERSION,
  A_WRTE,
  type AdbMessage,
  AUTH_SIGNATURE,
  AUTH_TOKEN,
  encodeMessage,
  MAX_PAYLOAD,
} from './message.js';
import { openService, type ServiceContext } from './services.js';
import { AdbStream, type StreamLink } from './stream.js';

/** Where the handshake stands. */
type TransportState = 'connecting' | 'unauthorized' | 'online';

/** The CNXN payload: "state::ro.product.name=…;ro.product.model=…;ro.product.device=…;features=…". */
export function bannerString(phone: SimPhone, features: readonly string[]): string {
  const b = phone.banner();
  // The host splits on ':' and ';': those characters cannot appear inside values.
  const clean = (value: string) => value.replace(/[:;]/g, '_');
  return (
    `${b.state}::ro.product.name=${clean(b.productName)};ro.product.model=${clean(b.productModel)};` +
    `ro.product.device=${clean(b.productDevice)};features=${features.join(',')}`
  );
}

export class AdbTransport implements StreamLink {
  private readonly framer = new MessageFramer(MAX_PAYLOAD);
  private readonly streams = new Map<number, AdbStream>();
  private nextId = 1;
  private state: TransportState = 'connecting';
  private negotiatedMaxPayload = 4096;
  private isClosed = false;
  /** Resolves when the connection is gone. */
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ServiceContext,
    private readonly features: readonly string[],
  ) {
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      const { messages, fault } = this.framer.push(chunk);
      for (const msg of messages) this.handle(msg);
      if (fault) this.close(false);
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      this.isClosed = true;
      this.dropStreams();
    });
  }

  get maxPayload(): number {
    return this.negotiatedMaxPayload;
  }

  send(command: number, arg0: number, arg1: number, data: Buffer = Buffer.alloc(0)): void {
    if (this.isClosed) return;
    this.socket.write(encodeMessage({ command, arg0, arg1, data }));
  }

  forget(localId: number): void {
    this.streams.delete(localId);
  }

  /**
   * Ends the connection. graceful: what was queued (e.g. a CLSE before a reboot) goes out first;
   * otherwise the socket is destroyed at once, as when a cable is pulled.
   */
  close(graceful: boolean): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.dropStreams();
    if (graceful) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    } else this.socket.destroy();
  }

  private dropStreams(): void {
    for (const stream of [...this.streams.values()]) stream.handleRemoteClose();
    this.streams.clear();
  }

  private handle(msg: AdbMessage): void {
    if (this.isClosed) return;
    switch (msg.command) {
      case A_CNXN:
        this.handleConnect(msg);
        return;
      case A_AUTH:
        // Signatures are never accepted and a public key is never approved: a new token each time a
        // signature comes, nothing after the key, and the host lists the phone as unauthorized.
        if (this.state === 'unauthorized' && msg.arg0 === AUTH_SIGNATURE) this.sendToken();
        return;
    }
    if (this.state !== 'online') return;
    switch (msg.command) {
      case A_OPEN:
        void this.handleOpen(msg);
        return;
      case A_OKAY: {
        const stream = this.streams.get(msg.arg1);
        if (!stream) return;
        if (stream.remoteId === 0) stream.remoteId = msg.arg0;
        stream.handleOkay();
        return;
      }
      case A_WRTE:
        this.streams.get(msg.arg1)?.handleWrite(msg.data);
        return;
      case A_CLSE:
        this.streams.get(msg.arg1)?.handleRemoteClose();
        return;
    }
  }

  private handleConnect(msg: AdbMessage): void {
    this.negotiatedMaxPayload = Math.min(MAX_PAYLOAD, Math.max(msg.arg1, 256));
    // A new CNXN restarts the session: streams of the old one are gone.
    this.dropStreams();
    if (this.ctx.phone.unauthorized) {
      this.state = 'unauthorized';
      this.sendToken();
      return;
    }
    this.state = 'online';
    const version = Math.min(A_VERSION, msg.arg0);
    this.send(A_CNXN, version, MAX_PAYLOAD, Buffer.from(bannerString(this.ctx.phone, this.features)));
  }

  private sendToken(): void {
    this.send(A_AUTH, AUTH_TOKEN, 0, randomBytes(20));
  }

  private async handleOpen(msg: AdbMessage): Promise<void> {
    const hostId = msg.arg0;
    if (hostId === 0) return;
    const nul = msg.data.indexOf(0);
    const service = msg.data.toString('utf8', 0, nul < 0 ? msg.data.length : nul);
    let accepted: Awaited<ReturnType<typeof openService>>;
    try {
      accepted = await openService(service, this.ctx);
    } catch {
      accepted = undefined;
    }
    if (this.isClosed) {
      accepted?.cancel?.();
      return;
    }
    if (!accepted) {
      this.send(A_CLSE, 0, hostId);
      return;
    }
    const localId = this.allocateId();
    const stream = new AdbStream(this, localId, hostId, service);
    this.streams.set(localId, stream);
    this.send(A_OKAY, localId, hostId);
    accepted.run(stream);
  }

  private allocateId(): number {
    do {
      this.nextId = this.nextId >= 0x7fffffff ? 1 : this.nextId + 1;
    } while (this.streams.has(this.nextId));
    return this.nextId;
  }
}
