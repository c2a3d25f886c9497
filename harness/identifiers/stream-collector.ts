/**
 * The bytes of every flow as each side sent them, for the identifier search: TCP put back in sequence
 * order (retransmissions dropped, segments that come early held until the gap fills), UDP datagram by
 * datagram; at most `capBytes` per side (1 MiB unless told), the rest counted, never silently dropped.
 * Encrypted flows (a TLS record or a QUIC long header first) are not kept: their bytes are counted so
 * that "no leak found" is never read as "nothing sent". A ContentReader of the flow table.
 */

import type { Endpoint, Flow } from '../flows/flow.js';
import type { ContentReader, ReadFlow } from '../flows/flow-table.js';
import { type Packet, TCP_SYN } from '../packets/packet.js';

/** What one side of a flow sent, as far as it was kept. */
export interface SideBytes {
  /** The sender. */
  from: Endpoint;
  /** The bytes in order (TCP: the stream; UDP: the datagrams one after the other). */
  bytes: Buffer;
  /** Where each packet's bytes begin in `bytes`, and its capture time (seconds), index by index. */
  markOffsets: number[];
  markTimes: number[];
  /** Bytes past the cap, not kept. */
  overCap: number;
  /** Bytes missing: never captured (a gap in the sequence, a truncated packet). */
  missing: number;
  /** UDP: the datagrams' lengths, to search each on its own. */
  datagrams?: number[];
}

/** One flow's bytes, both sides, or why they are not here. */
export interface FlowBytes {
  uid: string;
  sides: SideBytes[];
  /** Set for encrypted flows: the protocol seen, and no bytes kept. */
  encrypted?: 'tls' | 'quic';
}

interface Side {
  from: Endpoint;
  /** The bytes kept so far, in `buf[0, kept)`; the buffer grows by doubling up to the cap. */
  buf: Buffer | undefined;
  kept: number;
  /** Where each packet's bytes begin, and its time (two arrays: no object per packet). */
  markOffsets: number[];
  markTimes: number[];
  overCap: number;
  missing: number;
  /** TCP: the next sequence number in order; undefined until the first segment (or SYN). */
  next?: number;
  /** TCP: segments that came ahead of `next`, by sequence number (made when one does). */
  early?: Map<number, { data: Buffer; ts: number }>;
  earlyBytes: number;
  datagrams?: number[];
}

interface State {
  proto: number;
  /** The two sides, in the order they first sent (no map: a flow has two). */
  a?: Side;
  b?: Side;
  encrypted?: 'tls' | 'quic';
  /** A payload byte was seen: the protocol is decided by the first one. */
  sawData?: boolean;
}

export class StreamCollector implements ContentReader<State> {
  readonly #cap: number;
  /** Each flow's state by the flow object the table showed (the `key` of finish). */
  readonly #states = new Map<Flow, State>();
  /** Each finished flow's bytes, by uid. */
  readonly flows = new Map<string, FlowBytes>();

  constructor(opts: { capBytes?: number } = {}) {
    this.#cap = opts.capBytes ?? 1 << 20;
  }

  open(f: ReadFlow<State>, p: Packet): State | undefined {
    if (p.proto !== 6 && p.proto !== 17) return undefined;
    const s: State = { proto: p.proto };
    this.#states.set(f.flow, s);
    return s;
  }

  #side(s: State, p: Packet): Side {
    const { a, b } = s;
    if (a && a.from.port === p.srcPort && a.from.addr === p.src) return a;
    if (b && b.from.port === p.srcPort && b.from.addr === p.src) return b;
    const side: Side = {
      from: { addr: p.src, port: p.srcPort },
      buf: undefined,
      kept: 0,
      markOffsets: [],
      markTimes: [],
      overCap: 0,
      missing: 0,
      earlyBytes: 0,
    };
    if (!a) s.a = side;
    else s.b = side;
    return side;
  }

  #keep(side: Side, data: Uint8Array, ts: number): void {
    const room = this.#cap - side.kept;
    if (room <= 0) {
      side.overCap += data.length;
      return;
    }
    const part = data.length > room ? data.subarray(0, room) : data;
    const need = side.kept + part.length;
    if (!side.buf || side.buf.length < need) {
      const grown = Buffer.alloc(Math.min(this.#cap, Math.max(need, 2 * (side.buf?.length ?? 0))));
      side.buf?.copy(grown, 0, 0, side.kept);
      side.buf = grown;
    }
    side.buf.set(part, side.kept);
    side.markOffsets.push(side.kept);
    side.markTimes.push(ts);
    side.kept = need;
    side.overCap += data.length - part.length;
  }

  /** True (and the flow marked) when its first bytes are a TLS record or a QUIC long header. */
  #encrypted(f: ReadFlow<State>, s: State, p: Packet): boolean {
    const d = p.payload;
    if (!s.sawData && d.length >= 3) {
      s.sawData = true;
      if (s.proto === 6 && d[0] === 0x16 && d[1] === 0x03) s.encrypted = 'tls';
      else if (s.proto === 17 && (d[0]! & 0xc0) === 0xc0 && d.length >= 5 && d[1]! | d[2]! | d[3]! | d[4]!)
        s.encrypted = 'quic';
      // The table stops asking; finish() still hands the flow out as encrypted. Nothing is kept.
      if (s.encrypted) {
        f.reading = undefined;
        s.a = undefined;
        s.b = undefined;
      }
    }
    return s.encrypted !== undefined;
  }

  tcp(f: ReadFlow<State>, p: Packet, _fromOrig: boolean, seq: number, flags: number): void {
    const s = f.reading!;
    if (flags & TCP_SYN) {
      this.#side(s, p).next = (seq + 1) >>> 0;
      return;
    }
    if (p.payloadLen === 0) return;
    if (this.#encrypted(f, s, p)) return;
    const side = this.#side(s, p);
    if (side.kept >= this.#cap && side.next !== undefined) {
      // Past the cap: counted, not copied (a download of many MB costs no memory).
      side.overCap += p.payloadLen;
      return;
    }
    const data = Buffer.from(p.payload);
    side.missing += p.payloadLen - data.length;
    if (side.next === undefined) side.next = seq;
    const ahead = (seq - side.next) | 0;
    if (ahead > 0) {
      // Early: held until the bytes before it come (at most a cap's worth).
      side.early ??= new Map();
      if (side.earlyBytes + data.length <= this.#cap && !side.early.has(seq)) {
        side.early.set(seq, { data, ts: p.ts });
        side.earlyBytes += data.length;
      }
      return;
    }
    const fresh = ahead < 0 ? data.subarray(Math.min(data.length, -ahead)) : data;
    if (fresh.length === 0) return; // a retransmission
    this.#keep(side, fresh, p.ts);
    side.next = (side.next + fresh.length + (p.payloadLen - data.length)) >>> 0;
    this.#drain(side);
  }

  /** Appends held segments that now follow in order. */
  #drain(side: Side): void {
    if (!side.early?.size) return;
    for (;;) {
      let moved = false;
      for (const [seq, e] of side.early!) {
        const ahead = (seq - side.next!) | 0;
        if (ahead > 0) continue;
        side.early!.delete(seq);
        side.earlyBytes -= e.data.length;
        const fresh = e.data.subarray(Math.min(e.data.length, -ahead));
        if (fresh.length > 0) {
          this.#keep(side, fresh, e.ts);
          side.next = (side.next! + fresh.length) >>> 0;
        }
        moved = true;
      }
      if (!moved) return;
    }
  }

  udp(f: ReadFlow<State>, p: Packet): void {
    const s = f.reading!;
    if (p.payloadLen === 0) return;
    if (this.#encrypted(f, s, p)) return;
    const side = this.#side(s, p);
    side.missing += p.payloadLen - p.payload.length;
    const before = side.kept;
    this.#keep(side, p.payload, p.ts);
    side.datagrams ??= [];
    if (side.kept > before) side.datagrams.push(side.kept - before);
  }

  finish(flow: Flow, keyFlow: Flow): void {
    const s = this.#states.get(keyFlow);
    if (!s) return;
    this.#states.delete(keyFlow);
    if (s.encrypted) {
      this.flows.set(flow.uid, { uid: flow.uid, sides: [], encrypted: s.encrypted });
      return;
    }
    const sides: SideBytes[] = [];
    // The client's side first.
    const isClient = (x: Side) => x.from.addr === flow.orig.addr && x.from.port === flow.orig.port;
    const order = [s.a, s.b]
      .filter((x): x is Side => x !== undefined)
      .sort((x, y) => (isClient(x) ? -1 : isClient(y) ? 1 : 0));
    for (const side of order) {
      sides.push({
        from: side.from,
        bytes: side.buf ? side.buf.subarray(0, side.kept) : Buffer.alloc(0),
        markOffsets: side.markOffsets,
        markTimes: side.markTimes,
        overCap: side.overCap,
        // What never came in order is missing.
        missing: side.missing + side.earlyBytes,
        ...(side.datagrams ? { datagrams: side.datagrams } : {}),
      });
    }
    this.flows.set(flow.uid, { uid: flow.uid, sides });
  }
}
