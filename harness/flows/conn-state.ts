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

/** The per-connection TCP facts conn_state is computed from. Small on purpose: one per flow. */
export interface TcpHistory {
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

/** The history of a connection before any segment. */
export function newTcpHistory(): TcpHistory {
  return {
    orig: Endpoint.Inactive,
    origPrev: Endpoint.Inactive,
    resp: Endpoint.Inactive,
    respPrev: Endpoint.Inactive,
    origData: false,
    respData: false,
    synThenQuiet: false,
    origRst: false,
  };
}

function set(h: TcpHistory, fromOrig: boolean, s: EndpointState): void {
  if (fromOrig) {
    h.origPrev = h.orig;
    h.orig = s;
  } else {
    h.respPrev = h.resp;
    h.resp = s;
  }
}

/**
 * Records one segment of the connection: who sent it, its TCP flags and its payload length.
 * Updates h in place (it lives inside a flow record; no allocation per segment).
 */
export function tcpSegment(h: TcpHistory, fromOrig: boolean, flags: number, payloadLen: number): void {
  const syn = (flags & SYN) !== 0;
  const fin = (flags & FIN) !== 0;
  const rst = (flags & RST) !== 0;
  const ack = (flags & ACK) !== 0;
  const first = h.orig === Endpoint.Inactive && h.resp === Endpoint.Inactive && !h.origData && !h.respData;

  if (fromOrig && !h.origRst) {
    const multi = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0) > 1;
    if (first) h.synThenQuiet = syn && !ack && !multi;
    else if (multi || fin || (syn && ack) || (ack && !syn && !rst && payloadLen === 0)) {
      h.synThenQuiet = false;
    }
    if (rst) h.origRst = true;
  }
  if (payloadLen > 0 && !rst) {
    if (fromOrig) h.origData = true;
    else h.respData = true;
  }

  const self = fromOrig ? h.orig : h.resp;
  const peer = fromOrig ? h.resp : h.orig;
  switch (self) {
    case Endpoint.Inactive: {
      if (syn) {
        if (fromOrig) set(h, true, ack ? Endpoint.SynAckSent : Endpoint.SynSent);
        else {
          // The responder's SYN(-ACK) completes the handshake from the analyzer's point of view.
          if (peer === Endpoint.SynSent) set(h, true, Endpoint.Established);
          set(h, false, Endpoint.Established);
        }
      }
      if (fin) set(h, fromOrig, Endpoint.Closed);
      if (rst) set(h, fromOrig, Endpoint.Reset);
      if ((fromOrig ? h.orig : h.resp) === Endpoint.Inactive) {
        if (!fromOrig && payloadLen === 0 && h.orig === Endpoint.SynSent) {
          // Some stacks ACK a SYN before answering it: not yet a partial connection.
        } else if (ack && peer === Endpoint.Established) {
          // A SYN-ACK was seen but its SYN was missed: the handshake still completed.
          set(h, fromOrig, Endpoint.Established);
        } else set(h, fromOrig, Endpoint.Partial);
      }
      break;
    }
    case Endpoint.SynSent:
    case Endpoint.SynAckSent:
      if (fin) set(h, fromOrig, Endpoint.Closed);
      if (rst) set(h, fromOrig, Endpoint.Reset);
      break;
    case Endpoint.Established:
    case Endpoint.Partial:
      if (syn && !ack && self === Endpoint.Partial && peer === Endpoint.Inactive) {
        set(h, fromOrig, Endpoint.SynSent);
      }
      if (fin && !rst) {
        set(h, fromOrig, Endpoint.Closed);
        // A FIN answering the peer's FIN-then-RST: that was a normal close after all.
        if (peer === Endpoint.Reset && (fromOrig ? h.respPrev : h.origPrev) === Endpoint.Closed) {
          set(h, !fromOrig, Endpoint.Closed);
        }
      }
      if (rst) set(h, fromOrig, Endpoint.Reset);
      break;
    case Endpoint.Closed:
      // After a FIN exchange a RST changes nothing.
      if (rst && peer !== Endpoint.Closed) set(h, fromOrig, Endpoint.Reset);
      break;
    default:
      break;
  }
}

/** True when the connection has ended (a FIN each way, or a RST): a new SYN then starts a new one. */
export function tcpFinished(h: TcpHistory): boolean {
  return (
    h.orig === Endpoint.Reset ||
    h.resp === Endpoint.Reset ||
    (h.orig === Endpoint.Closed && h.resp === Endpoint.Closed)
  );
}

/** Zeek's conn_state of a TCP connection with this history. Pure. */
export function connState(h: TcpHistory): ConnState {
  const os = h.orig;
  const rs = h.resp;
  const oInactive = os === Endpoint.Inactive || os === Endpoint.Partial;
  const rInactive = rs === Endpoint.Inactive || rs === Endpoint.Partial;
  if (rs === Endpoint.Reset) {
    if (
      os === Endpoint.SynSent ||
      os === Endpoint.SynAckSent ||
      (os === Endpoint.Reset && !h.origData && !h.respData)
    ) {
      return 'REJ';
    }
    return oInactive ? 'RSTRH' : 'RSTR';
  }
  if (os === Endpoint.Reset) {
    if (rInactive) return h.synThenQuiet ? 'RSTOS0' : 'OTH';
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
  return {
    orig: h.resp,
    origPrev: h.respPrev,
    resp: h.orig,
    respPrev: h.origPrev,
    origData: h.respData,
    respData: h.origData,
    synThenQuiet: false,
    origRst: h.resp === Endpoint.Reset,
  };
}
