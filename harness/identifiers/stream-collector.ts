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
import type { FlowTap, TapFlow } from '../flows/flow-table.js';
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
  datagram(
    uid: string,
    d: Uint8Array,
    o: { client: boolean; dns: boolean; offset: number; ts: number },
  ): void;
}

/** What the collector handed on, and what it could not: the search's figures. */
export interface CollectedFigures {
  /** Flows whose clear bytes were searched, and those bytes. */
  searched: { flows: number; bytes: number };
  /** Encrypted flows (not searched), with their bytes both ways. */
  encrypted: { flows: number; bytes: number; tls: number; quic: number };
  /** Flows not searched whole: bytes past the per-side cap, or never captured. */
  notSearched: { flows: number; overCap: number; missing: number };
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
  /** The flow as the table keeps it: its originator (the client) as far as the capture has told. */
  flow: Flow;
  /** The two sides, in the order they first sent (no map: a flow has two). */
  a?: Side;
  b?: Side;
  encrypted?: 'tls' | 'quic';
  /** A payload byte was seen: the protocol is decided by the first one. */
  sawData?: boolean;
}

/** True when the side is the flow's originator, as the flow stands now. */
function isClient(s: State, side: Side): boolean {
  const o = s.flow.orig;
  return side.from.addr === o.addr && side.from.port === o.port;
}

export class StreamCollector implements FlowTap<State> {
  readonly #cap: number;
  readonly #search: SideSearch;
  /** Each flow's state by the flow object the table showed (the `key` of finish). */
  readonly #states = new Map<Flow, State>();
  /** The figures of the flows finished so far. */
  readonly figures: CollectedFigures = {
    searched: { flows: 0, bytes: 0 },
    encrypted: { flows: 0, bytes: 0, tls: 0, quic: 0 },
    notSearched: { flows: 0, overCap: 0, missing: 0 },
  };

  constructor(search: SideSearch, opts: { capBytes?: number } = {}) {
    this.#search = search;
    this.#cap = opts.capBytes ?? 1 << 20;
  }

  open(f: TapFlow<State>, p: Packet): State | undefined {
    if (p.proto !== 6 && p.proto !== 17) return undefined;
    const s: State = { proto: p.proto, uid: f.flow.uid, flow: f.flow };
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
      // Unfilled: only [0, kept) is ever read.
      const grown = Buffer.allocUnsafeSlow(Math.min(this.#cap, Math.max(need, 2 * (side.buf?.length ?? 0))));
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
  #encrypted(f: TapFlow<State>, s: State, p: Packet): boolean {
    const d = p.payload;
    if (!s.sawData && d.length >= 3) {
      s.sawData = true;
      if (s.proto === 6 && d[0] === 0x16 && d[1] === 0x03) s.encrypted = 'tls';
      else if (s.proto === 17 && (d[0]! & 0xc0) === 0xc0 && d.length >= 5 && d[1]! | d[2]! | d[3]! | d[4]!)
        s.encrypted = 'quic';
      // The table stops asking; finish() still hands the flow out as encrypted. Nothing is kept.
      if (s.encrypted) {
        f.tapping = undefined;
        s.a = undefined;
        s.b = undefined;
      }
    }
    return s.encrypted !== undefined;
  }

  tcp(f: TapFlow<State>, p: Packet, _fromOrig: boolean, seq: number, flags: number): void {
    const s = f.tapping!;
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
      const client = isClient(s, side);
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

  udp(f: TapFlow<State>, p: Packet): void {
    const s = f.tapping!;
    if (p.payloadLen === 0) return;
    if (this.#encrypted(f, s, p)) return;
    const side = this.#side(s, p);
    side.missing += p.payloadLen - p.payload.length;
    // Searched as it comes, not kept: only the count of what was searched is.
    const room = this.#cap - side.kept;
    const len = Math.min(room, p.payload.length);
    if (len < p.payload.length) side.overCap += p.payload.length - Math.max(0, len);
    if (len <= 0) return;
    const client = isClient(s, side);
    const resp = s.flow.resp.port;
    // The packet's own bytes, searched before this returns: no copy.
    this.#search.datagram(s.uid, len < p.payload.length ? p.payload.subarray(0, len) : p.payload, {
      client,
      dns: resp === 53 || resp === 5353,
      offset: side.kept,
      ts: p.ts,
    });
    side.kept += len;
  }

  finish(flow: Flow): void {
    const s = this.#states.get(flow);
    if (!s) return;
    this.#states.delete(flow);
    const fig = this.figures;
    if (s.encrypted) {
      fig.encrypted.flows += 1;
      fig.encrypted[s.encrypted] += 1;
      fig.encrypted.bytes += flow.origBytes + flow.respBytes;
      return;
    }
    fig.searched.flows += 1;
    let short = false;
    for (const side of [s.a, s.b]) {
      if (!side) continue;
      this.#flush(s, side, true);
      fig.searched.bytes += side.kept;
      fig.notSearched.overCap += side.overCap;
      fig.notSearched.missing += side.missing;
      if (side.overCap || side.missing) short = true;
    }
    if (short) fig.notSearched.flows += 1;
  }
}
