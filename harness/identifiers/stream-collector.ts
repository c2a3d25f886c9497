/**
 * The bytes of every flow as each side sent them, for the identifier search: TCP put back in sequence
 * order (retransmissions dropped, segments that come early held until the gap fills), UDP datagram by
 * datagram; at most `capBytes` per side (1 MiB unless told), the rest counted, never silently dropped.
 * Each side is handed to the search as soon as it is complete (its FIN or a RST, with no gap left;
 * each UDP datagram as it comes; what is still open when the capture ends, then) and let go, so that
 * memory follows the connections open at once, not the capture's size. Encrypted flows (a TLS record
 * or a QUIC long header first) are not kept: their bytes are counted so that "no leak found" is never
 * read as "nothing sent". A ContentReader of the flow table.
 */

import type { Endpoint, Flow } from '../flows/flow.js';
import type { ContentReader, ReadFlow } from '../flows/flow-table.js';
import { type Packet, TCP_FIN, TCP_RST, TCP_SYN } from '../packets/packet.js';

/** One side of a TCP flow, whole (or as far as it was kept), for the search. */
export interface SideBytes {
  /** The sender. */
  from: Endpoint;
  /** The bytes in order. */
  bytes: Buffer;
  /** Where each packet's bytes begin in `bytes`, and its capture time (seconds), index by index. */
  markOffsets: number[];
  markTimes: number[];
}

/** Who searches what the collector hands on. */
export interface SideSearch {
  /** A TCP side, complete. `client`: it is the side that opened the connection. */
  stream(uid: string, side: SideBytes, client: boolean): void;
  /** One UDP datagram; `offset` counts the side's bytes before it. */
  datagram(uid: string, d: Buffer, o: { client: boolean; dns: boolean; offset: number; ts: number }): void;
}

/** What one side of a flow sent: how much was searched, and what could not be. */
export interface SideSummary {
  from: Endpoint;
  /** Bytes kept and searched. */
  kept: number;
  /** Bytes past the cap, not kept. */
  overCap: number;
  /** Bytes missing: never captured (a gap in the sequence, a truncated packet). */
  missing: number;
}

/** One flow's figures, both sides, or why nothing was searched. */
export interface FlowBytes {
  uid: string;
  sides: SideSummary[];
  /** Set for encrypted flows: the protocol seen, and no bytes kept. */
  encrypted?: 'tls' | 'quic';
}

interface Side {
  from: Endpoint;
  /** Handed to the search and let go: later bytes are not kept. */
  done?: boolean;
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
}

interface State {
  proto: number;
  uid: string;
  /** The side that opened the flow, as the table first saw it (before any turning round). */
  orig: Endpoint;
  dns: boolean;
  /** The two sides, in the order they first sent (no map: a flow has two). */
  a?: Side;
  b?: Side;
  encrypted?: 'tls' | 'quic';
  /** A payload byte was seen: the protocol is decided by the first one. */
  sawData?: boolean;
}

export class StreamCollector implements ContentReader<State> {
  readonly #cap: number;
  readonly #search: SideSearch;
  /** Each flow's state by the flow object the table showed (the `key` of finish). */
  readonly #states = new Map<Flow, State>();
  /** Each finished flow's figures, by uid. */
  readonly flows = new Map<string, FlowBytes>();

  constructor(search: SideSearch, opts: { capBytes?: number } = {}) {
    this.#search = search;
    this.#cap = opts.capBytes ?? 1 << 20;
  }

  open(f: ReadFlow<State>, p: Packet): State | undefined {
    if (p.proto !== 6 && p.proto !== 17) return undefined;
    const { orig, resp, uid } = f.flow;
    const s: State = {
      proto: p.proto,
      uid,
      orig: { addr: orig.addr, port: orig.port },
      dns: p.proto === 17 && (resp.port === 53 || resp.port === 5353),
    };
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
    if (p.payloadLen > 0 && !this.#encrypted(f, s, p)) this.#data(s, p, seq);
    if (s.encrypted) return;
    // A side is complete at its FIN (once no gap is left) and both are at a RST.
    if (flags & TCP_RST) {
      if (s.a) this.#flush(s, s.a, false);
      if (s.b) this.#flush(s, s.b, false);
    } else if (flags & TCP_FIN) {
      // Only once every byte before the FIN is here: a segment still missing may yet come.
      const side = this.#side(s, p);
      if (side.next === undefined || ((seq + p.payloadLen - side.next) | 0) <= 0) this.#flush(s, side, false);
    }
  }

  #data(s: State, p: Packet, seq: number): void {
    const side = this.#side(s, p);
    if (side.done) return;
    if (side.kept >= this.#cap && side.next !== undefined) {
      // Past the cap: counted, not copied (a download of many MB costs no memory).
      side.overCap += p.payloadLen;
      return;
    }
    const data = p.payload;
    side.missing += p.payloadLen - data.length;
    if (side.next === undefined) side.next = seq;
    const ahead = (seq - side.next) | 0;
    if (ahead > 0) {
      // Early: held (a copy: the packet's bytes belong to the reader) until the bytes before it
      // come, at most a cap's worth.
      side.early ??= new Map();
      if (side.earlyBytes + data.length <= this.#cap && !side.early.has(seq)) {
        side.early.set(seq, { data: Buffer.from(data), ts: p.ts });
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

  /**
   * Hands a side to the search and lets its bytes go. Unless `last`, a side with a gap still open
   * waits (what fills it may yet come): the end of the capture hands it on as it is.
   */
  #flush(s: State, side: Side, last: boolean): void {
    if (side.done || (!last && side.early?.size)) return;
    side.done = true;
    if (side.buf && side.kept > 0) {
      const client = side.from.addr === s.orig.addr && side.from.port === s.orig.port;
      this.#search.stream(
        s.uid,
        {
          from: side.from,
          bytes: side.buf.subarray(0, side.kept),
          markOffsets: side.markOffsets,
          markTimes: side.markTimes,
        },
        client,
      );
    }
    side.buf = undefined;
    side.markOffsets = [];
    side.markTimes = [];
    side.missing += side.earlyBytes;
    side.earlyBytes = 0;
    side.early = undefined;
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
    // Searched as it comes, not kept: only the count of what was searched is.
    const room = this.#cap - side.kept;
    const len = Math.min(room, p.payload.length);
    if (len < p.payload.length) side.overCap += p.payload.length - Math.max(0, len);
    if (len <= 0) return;
    const client = side.from.addr === s.orig.addr && side.from.port === s.orig.port;
    this.#search.datagram(s.uid, Buffer.from(p.payload.buffer, p.payload.byteOffset, len), {
      client,
      dns: s.dns,
      offset: side.kept,
      ts: p.ts,
    });
    side.kept += len;
  }

  finish(flow: Flow, keyFlow: Flow): void {
    const s = this.#states.get(keyFlow);
    if (!s) return;
    this.#states.delete(keyFlow);
    if (s.encrypted) {
      this.flows.set(flow.uid, { uid: flow.uid, sides: [], encrypted: s.encrypted });
      return;
    }
    const sides: SideSummary[] = [];
    // The client's side first.
    const isClient = (x: Side) => x.from.addr === flow.orig.addr && x.from.port === flow.orig.port;
    const order = [s.a, s.b]
      .filter((x): x is Side => x !== undefined)
      .sort((x, y) => (isClient(x) ? -1 : isClient(y) ? 1 : 0));
    for (const side of order) {
      this.#flush(s, side, true);
      // What never came in order is missing.
      sides.push({ from: side.from, kept: side.kept, overCap: side.overCap, missing: side.missing });
    }
    this.flows.set(flow.uid, { uid: flow.uid, sides });
  }
}
