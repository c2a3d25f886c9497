/**
 * Zeek's conn_state for a TCP connection. Each side of the connection has an endpoint state that
 * moves as its segments are seen (the transitions of Zeek's TCP analyzer, reduced to the flags and
 * the payload length); conn_state is then a pure function of the two endpoint states plus two facts
 * of the connection's history. The names and the decision table follow Zeek's documented conn.log.
 */

import type { ConnState } from './flow.js';

/** What one side of a TCP connection has been seen doing (Zeek's TCP_ENDPOINT_* states). */
export const Endpoint = {
  /** Nothing sent yet. */
  Inactive: 0,
  /** Sent a SYN (no ACK). */
  SynSent: 1,
  /** Sent a SYN-ACK without having been asked (an originator's SYN-ACK). */
  SynAckSent: 2,
  /** Sent segments without a SYN seen from it: picked up mid-stream. */
  Partial: 3,
  /** Handshake completed. */
  Established: 4,
  /** Sent a FIN. */
  Closed: 5,
  /** Sent a RST. */
  Reset: 6,
} as const;
export type EndpointState = (typeof Endpoint)[keyof typeof Endpoint];

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

// Bits of a packed TcpHistory: originator state 0-2, its previous 3-5, responder 6-8, its previous 9-11.
const ORIG_MASK = 7;
const RESP_MASK = 7 << 6;
const ORIG_DATA = 1 << 12;
const RESP_DATA = 1 << 13;
const SYN_THEN_QUIET = 1 << 14;
const ORIG_RST = 1 << 15;

/**
 * The per-connection TCP facts conn_state is computed from, packed into one small integer so that
 * a flow carries it at no allocation (see the field list; read it with unpackTcpHistory).
 */
export type TcpHistory = number;

/** The facts a TcpHistory packs. */
export interface TcpFacts {
  /** The originator's endpoint state. */
  orig: EndpointState;
  /** The originator's state before its last change (Zeek's prev_state). */
  origPrev: EndpointState;
  /** The responder's endpoint state. */
  resp: EndpointState;
  /** The responder's state before its last change. */
  respPrev: EndpointState;
  /** True when the originator has sent payload (RST payloads aside). */
  origData: boolean;
  /** True when the responder has sent payload (RST payloads aside). */
  respData: boolean;
  /**
   * True while the history still reads like Zeek's RSTOS0 pattern (`^?S[^HAFGIQ]*R`): the first
   * segment was the originator's plain SYN, and the originator has not sent an ACK-only segment,
   * FIN, SYN-ACK or multi-flag segment before its first RST.
   */
  synThenQuiet: boolean;
  /** True once the originator has sent a RST (freezes synThenQuiet). */
  origRst: boolean;
}

export function unpackTcpHistory(h: TcpHistory): TcpFacts {
  return {
    orig: (h & 7) as EndpointState,
    origPrev: ((h >> 3) & 7) as EndpointState,
    resp: ((h >> 6) & 7) as EndpointState,
    respPrev: ((h >> 9) & 7) as EndpointState,
    origData: (h & (1 << 12)) !== 0,
    respData: (h & (1 << 13)) !== 0,
    synThenQuiet: (h & (1 << 14)) !== 0,
    origRst: (h & (1 << 15)) !== 0,
  };
}

export function packTcpHistory(t: TcpFacts): TcpHistory {
  return (
    t.orig |
    (t.origPrev << 3) |
    (t.resp << 6) |
    (t.respPrev << 9) |
    (t.origData ? 1 << 12 : 0) |
    (t.respData ? 1 << 13 : 0) |
    (t.synThenQuiet ? 1 << 14 : 0) |
    (t.origRst ? 1 << 15 : 0)
  );
}

/** The history of a connection before any segment. */
export function newTcpHistory(): TcpHistory {
  return 0;
}

/**
 * The history after one more segment of the connection: who sent it, its TCP flags and its
 * payload length.
 */
export function tcpSegment(h: TcpHistory, fromOrig: boolean, flags: number, payloadLen: number): TcpHistory {
  const syn = (flags & SYN) !== 0;
  const fin = (flags & FIN) !== 0;
  const rst = (flags & RST) !== 0;
  const ack = (flags & ACK) !== 0;
  const first = (h & (ORIG_MASK | RESP_MASK | ORIG_DATA | RESP_DATA)) === 0;

  if (fromOrig && (h & ORIG_RST) === 0) {
    const multi = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0) > 1;
    if (first) h = syn && !ack && !multi ? h | SYN_THEN_QUIET : h & ~SYN_THEN_QUIET;
    else if (multi || fin || (syn && ack) || (ack && !syn && !rst && payloadLen === 0)) h &= ~SYN_THEN_QUIET;
    if (rst) h |= ORIG_RST;
  }
  if (payloadLen > 0 && !rst) h |= fromOrig ? ORIG_DATA : RESP_DATA;

  const self = fromOrig ? h & 7 : (h >> 6) & 7;
  const peer = fromOrig ? (h >> 6) & 7 : h & 7;
  switch (self) {
    case Endpoint.Inactive: {
      if (syn) {
        if (fromOrig) h = setState(h, true, ack ? Endpoint.SynAckSent : Endpoint.SynSent);
        else {
          // The responder's SYN(-ACK) completes the handshake from the analyzer's point of view.
          if (peer === Endpoint.SynSent) h = setState(h, true, Endpoint.Established);
          h = setState(h, false, Endpoint.Established);
        }
      }
      if (fin) h = setState(h, fromOrig, Endpoint.Closed);
      if (rst) h = setState(h, fromOrig, Endpoint.Reset);
      if ((fromOrig ? h & 7 : (h >> 6) & 7) === Endpoint.Inactive) {
        if (!fromOrig && payloadLen === 0 && (h & 7) === Endpoint.SynSent) {
          // Some stacks ACK a SYN before answering it: not yet a partial connection.
        } else if (ack && peer === Endpoint.Established) {
          // A SYN-ACK was seen but its SYN was missed: the handshake still completed.
          h = setState(h, fromOrig, Endpoint.Established);
        } else h = setState(h, fromOrig, Endpoint.Partial);
      }
      break;
    }
    case Endpoint.SynSent:
    case Endpoint.SynAckSent:
      if (fin) h = setState(h, fromOrig, Endpoint.Closed);
      if (rst) h = setState(h, fromOrig, Endpoint.Reset);
      break;
    case Endpoint.Established:
    case Endpoint.Partial:
      if (syn && !ack && self === Endpoint.Partial && peer === Endpoint.Inactive) {
        h = setState(h, fromOrig, Endpoint.SynSent);
      }
      if (fin && !rst) {
        h = setState(h, fromOrig, Endpoint.Closed);
        // A FIN answering the peer's FIN-then-RST: that was a normal close after all.
        const peerPrev = fromOrig ? (h >> 9) & 7 : (h >> 3) & 7;
        if (peer === Endpoint.Reset && peerPrev === Endpoint.Closed)
          h = setState(h, !fromOrig, Endpoint.Closed);
      }
      if (rst) h = setState(h, fromOrig, Endpoint.Reset);
      break;
    case Endpoint.Closed:
      // After a FIN exchange a RST changes nothing.
      if (rst && peer !== Endpoint.Closed) h = setState(h, fromOrig, Endpoint.Reset);
      break;
    default:
      break;
  }
  return h;
}

/** One side's new state, its current one becoming its previous. */
function setState(h: TcpHistory, orig: boolean, s: EndpointState): TcpHistory {
  if (orig) return (h & ~0x3f) | s | ((h & 7) << 3);
  return (h & ~(0x3f << 6)) | (s << 6) | (((h >> 6) & 7) << 9);
}

/** True when the connection has ended (a FIN each way, or a RST): a new SYN then starts a new one. */
export function tcpFinished(h: TcpHistory): boolean {
  const orig = h & 7;
  const resp = (h >> 6) & 7;
  return (
    orig === Endpoint.Reset ||
    resp === Endpoint.Reset ||
    (orig === Endpoint.Closed && resp === Endpoint.Closed)
  );
}

/** Zeek's conn_state of a TCP connection with this history. Pure. */
export function connState(h: TcpHistory): ConnState {
  const os = h & 7;
  const rs = (h >> 6) & 7;
  const origData = (h & (1 << 12)) !== 0;
  const respData = (h & (1 << 13)) !== 0;
  const oInactive = os === Endpoint.Inactive || os === Endpoint.Partial;
  const rInactive = rs === Endpoint.Inactive || rs === Endpoint.Partial;
  if (rs === Endpoint.Reset) {
    if (
      os === Endpoint.SynSent ||
      os === Endpoint.SynAckSent ||
      (os === Endpoint.Reset && !origData && !respData)
    ) {
      return 'REJ';
    }
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === Endpoint.Reset) {
    if (rInactive) return (h & (1 << 14)) !== 0 ? 'RSTOS0' : 'OTH';
    return 'RSTO';
  }
  if (os === Endpoint.Closed && rs === Endpoint.Closed) return 'SF';
  if (os === Endpoint.Closed) return rInactive ? 'SH' : 'S2';
  if (rs === Endpoint.Closed) return oInactive ? 'SHR' : 'S3';
  if (os === Endpoint.SynSent && rs === Endpoint.Inactive) return 'S0';
  if (os === Endpoint.Established && rs === Endpoint.Established) return 'S1';
  return 'OTH';
}

/** The same history seen from the other side (when a flow is turned round so the phone is the originator). */
export function flipTcpHistory(h: TcpHistory): TcpHistory {
  const t = unpackTcpHistory(h);
  return packTcpHistory({
    orig: t.resp,
    origPrev: t.respPrev,
    resp: t.orig,
    respPrev: t.origPrev,
    origData: t.respData,
    respData: t.origData,
    synThenQuiet: false,
    origRst: t.resp === Endpoint.Reset,
  });
}
