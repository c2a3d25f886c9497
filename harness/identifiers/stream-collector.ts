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
  markOffsets: number[] | undefined;
  markTimes: number[] | undefined;
  overCap: number;
  missing: number;
  /** TCP: the next sequence number in order; undefined until the first segment (or SYN). */
  next?: number;
  /** TCP: segments that came ahead of `next`, by sequence number (made when one does). */
  early?: Map<number, { data: Buffer; ts: number }>;
  earlyBytes: number;
}

/**
 * A flow's tap state once nothing more of it is read: a number, not an object, so that the tens of
 * thousands of flows a long capture ends with cost no memory of their own until they are counted.
 */
const ENC_TLS = 1;
const ENC_QUIC = 2;
/** Both sides searched and counted; SHORT: some bytes were past the cap or never captured. */
const DONE_WHOLE = 3;
const DONE_SHORT = 4;
type Tap = State | typeof ENC_TLS | typeof ENC_QUIC | typeof DONE_WHOLE | typeof DONE_SHORT;

interface State {
  proto: number;
  uid: string;
  /** The flow as the table keeps it: its originator (the client) as far as the capture has told. */
  flow: Flow;
  /** The two sides, in the order they first sent (no map: a flow has two). */
  a?: Side;
  b?: Side;
  /** A payload byte was seen: the protocol is decided by the first one. */
  sawData?: boolean;
  /** A side was not searched whole (bytes past the cap, or never captured). */
  short?: boolean;
  /**
   * TCP: the sequence number after each side's SYN (originator, responder), until that side's first
   * data makes its side object: a connection that turns out encrypted never makes one.
   */
  synOrig?: number;
  synResp?: number;
  /** UDP: the bytes each side sent so far (originator, responder). */
  udpOrig?: number;
  udpResp?: number;
}

/** True when the side is the flow's originator, as the flow stands now. */
function isClient(s: State, side: Side): boolean {
  const o = s.flow.orig;
  return side.from.addr === o.addr && side.from.port === o.port;
}

export class StreamCollector implements FlowTap<Tap> {
  readonly #cap: number;
  readonly #search: SideSearch;
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

  open(f: TapFlow<Tap>, p: Packet): Tap | undefined {
    if (p.proto !== 6 && p.proto !== 17) return undefined;
    return { proto: p.proto, uid: f.flow.uid, flow: f.flow };
  }

  #side(s: State, p: Packet, fromOrig: boolean): Side {
    const { a, b } = s;
    if (a && a.from.port === p.srcPort && a.from.addr === p.src) return a;
    if (b && b.from.port === p.srcPort && b.from.addr === p.src) return b;
    const side: Side = {
      from: { addr: p.src, port: p.srcPort },
      buf: undefined,
      kept: 0,
      markOffsets: undefined,
      markTimes: undefined,
      overCap: 0,
      missing: 0,
      earlyBytes: 0,
      next: fromOrig ? s.synOrig : s.synResp,
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
    if (side.markOffsets && side.markTimes) {
      side.markOffsets.push(side.kept);
      side.markTimes.push(ts);
    } else {
      side.markOffsets = [side.kept];
      side.markTimes = [ts];
    }
    side.kept = need;
    side.overCap += data.length - part.length;
  }

  /** True (and the flow marked) when its first bytes are a TLS record or a QUIC long header. */
  #encrypted(f: TapFlow<Tap>, s: State, p: Packet): boolean {
    const d = p.payload;
    if (s.sawData || d.length < 3) return false;
    s.sawData = true;
    let kind: typeof ENC_TLS | typeof ENC_QUIC | undefined;
    if (s.proto === 6 && d[0] === 0x16 && d[1] === 0x03) kind = ENC_TLS;
    else if (s.proto === 17 && (d[0]! & 0xc0) === 0xc0 && d.length >= 5 && d[1]! | d[2]! | d[3]! | d[4]!)
      kind = ENC_QUIC;
    // Nothing is kept; finish() counts the flow as encrypted, with its bytes.
    if (kind !== undefined) f.tapping = kind;
    return kind !== undefined;
  }

  /** Once both sides are handed on: the flow is counted, and its state let go. */
  #doneIfBoth(f: TapFlow<Tap>, s: State): void {
    // Both sides must have been seen: a side not seen yet may still send.
    if (!s.a?.done || !s.b?.done) return;
    this.#count(s);
    f.tapping = s.short ? DONE_SHORT : DONE_WHOLE;
  }

  /** Adds a searched flow to the figures (its sides' bytes were added as each was handed on). */
  #count(s: State): void {
    this.figures.searched.flows += 1;
    if (s.short) this.figures.notSearched.flows += 1;
  }

  tcp(f: TapFlow<Tap>, p: Packet, fromOrig: boolean, seq: number, flags: number): void {
    const s = f.tapping;
    if (typeof s !== 'object') return; // done with, or encrypted
    if (flags & TCP_SYN) {
      if (fromOrig) s.synOrig = (seq + 1) >>> 0;
      else s.synResp = (seq + 1) >>> 0;
      return;
    }
    if (p.payloadLen > 0) {
      if (this.#encrypted(f, s, p)) return;
      this.#data(s, p, seq, fromOrig);
    }
    // A side is complete at its FIN (once no gap is left) and both are at a RST.
    if (flags & TCP_RST) {
      // The connection is over: what each side sent is searched as it is, and the flow counted.
      if (s.a) this.#flush(s, s.a, true);
      if (s.b) this.#flush(s, s.b, true);
      this.#count(s);
      f.tapping = s.short ? DONE_SHORT : DONE_WHOLE;
    } else if (flags & TCP_FIN) {
      // Only once every byte before the FIN is here: a segment still missing may yet come.
      const side = this.#side(s, p, fromOrig);
      if (side.next === undefined || ((seq + p.payloadLen - side.next) | 0) <= 0) {
        this.#flush(s, side, false);
        this.#doneIfBoth(f, s);
      }
    }
  }

  #data(s: State, p: Packet, seq: number, fromOrig: boolean): void {
    const side = this.#side(s, p, fromOrig);
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
          markOffsets: side.markOffsets ?? [],
          markTimes: side.markTimes ?? [],
        },
        client,
      );
    }
    side.buf = undefined;
    side.markOffsets = undefined;
    side.markTimes = undefined;
    side.missing += side.earlyBytes;
    side.earlyBytes = 0;
    side.early = undefined;
    // Its figures are final: what comes for a side handed on is not read.
    const fig = this.figures;
    fig.searched.bytes += side.kept;
    fig.notSearched.overCap += side.overCap;
    fig.notSearched.missing += side.missing;
    if (side.overCap || side.missing) s.short = true;
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

  udp(f: TapFlow<Tap>, p: Packet, fromOrig: boolean): void {
    const s = f.tapping;
    if (typeof s !== 'object') return;
    if (p.payloadLen === 0) return;
    if (this.#encrypted(f, s, p)) return;
    // Searched as it comes and counted at once, not kept: a UDP flow holds two counters (each
    // side's bytes so far, for the cap), no side objects.
    const fig = this.figures;
    const missing = p.payloadLen - p.payload.length;
    const kept = fromOrig ? (s.udpOrig ?? 0) : (s.udpResp ?? 0);
    const len = Math.max(0, Math.min(this.#cap - kept, p.payload.length));
    const over = p.payload.length - len;
    fig.notSearched.missing += missing;
    fig.notSearched.overCap += over;
    if (missing || over) s.short = true;
    if (len === 0) return;
    const resp = s.flow.resp.port;
    // The packet's own bytes, searched before this returns: no copy.
    this.#search.datagram(s.uid, len < p.payload.length ? p.payload.subarray(0, len) : p.payload, {
      client: fromOrig,
      dns: resp === 53 || resp === 5353,
      offset: kept,
      ts: p.ts,
    });
    fig.searched.bytes += len;
    if (fromOrig) s.udpOrig = kept + len;
    else s.udpResp = kept + len;
  }

  finish(f: TapFlow<Tap>): void {
    const s = f.tapping;
    if (s === undefined || s === DONE_WHOLE || s === DONE_SHORT) return;
    const fig = this.figures;
    if (s === ENC_TLS || s === ENC_QUIC) {
      fig.encrypted.flows += 1;
      fig.encrypted[s === ENC_TLS ? 'tls' : 'quic'] += 1;
      fig.encrypted.bytes += f.flow.origBytes + f.flow.respBytes;
      return;
    }
    // Still open when the capture ended: what was kept is searched as it is. (UDP figures were
    // added datagram by datagram.)
    if (s.a) this.#flush(s, s.a, true);
    if (s.b) this.#flush(s, s.b, true);
    this.#count(s);
  }
}
