/**
 * Names flows from their content as the flow table hands each packet on: the first client message of
 * every TCP stream (TLS and QUIC server_name, HTTP Host, the ClientHello inside an HTTP CONNECT
 * tunnel), every DNS message (over UDP, over TCP, and UDP on other ports once an answer proves it),
 * and, when the flows are handed out, the DNS join and encrypted-DNS flags. Per-flow state stays
 * small: a stream's buffer is dropped as soon as its first message is read (or cannot be).
 */
import type { Flow } from '../flows/flow.js';
import type { ContentReader, ReadFlow } from '../flows/flow-table.js';
import { StreamStart } from '../flows/stream-start.js';
import { StringPool } from '../flows/string-pool.js';
import type { Packet } from '../packets/packet.js';
import { DnsJoin, type DnsRecord } from './dns-join.js';
import { parseDnsMessage, splitDnsTcpStream } from './dns-message.js';
import { encryptedDnsKind } from './encrypted-dns.js';
import { FirstMessages } from './first-message.js';
import type { DnsMessageInfo } from './name.js';
import { looksLikeQuicInitial, looksLikeQuicShortHeader, QuicInitialReader } from './quic-initial.js';

const TCP = 6;
const UDP = 17;
const SYN = 0x02;
const RST = 0x04;
/** Which directions of a TCP flow are still read for a first message. */
const READ_ORIG = 1;
const READ_RESP = 2;

/** Ports where UDP and TCP payloads are read as DNS messages without further proof. */
function isDnsPort(port: number): boolean {
  return port === 53 || port === 5353 || port === 5355;
}

/** A DNS message, its direction taken from the header's QR bit. */
function readDns(bytes: Uint8Array): DnsMessageInfo | undefined {
  const info = parseDnsMessage(bytes);
  if (info !== undefined) info.isResponse = (bytes[2]! & 0x80) !== 0;
  return info;
}

/** A UDP flow on a DNS port: every message is read. */
const DNS_FLOW = 'dns';

/** The state of reading a flow's content: large, short-lived, dropped once the names are read. */
export class Reader {
  /** TCP: the directions still read (READ_ORIG, READ_RESP): the responder's only for flows picked up without their SYN, and DNS over TCP. */
  read = 0;
  /** TCP: each side's SYN sequence number, -1 until seen. */
  oIsn = -1;
  rIsn = -1;
  /** Originator→responder stream start (TCP), made at its first payload. */
  so: StreamStart | undefined;
  /** Responder→originator stream start. */
  sr: StreamStart | undefined;
  /** DNS over TCP: bytes of each stream already split into messages. */
  soDone = 0;
  srDone = 0;
  /** UDP: the QUIC Initial reader, and how many more client datagrams it may see. */
  quic: QuicInitialReader | undefined;
  quicLeft = 0;
  /** UDP on another port: the first client datagram, a DNS query waiting for its answer to prove the flow is DNS. */
  candidate: DnsMessageInfo | undefined;
  /**
   * TCP through an HTTP proxy: where the CONNECT tunnel's stream begins in the client's stream
   * (after the CONNECT request), once the request has been read; -1 before.
   */
  tunnel = -1;

  swap(): void {
    [this.so, this.sr] = [this.sr, this.so];
    [this.oIsn, this.rIsn] = [this.rIsn, this.oIsn];
    this.read = ((this.read & READ_ORIG) << 1) | ((this.read & READ_RESP) >> 1);
    [this.soDone, this.srDone] = [this.srDone, this.soDone];
  }
}

/** What a flow's content reading holds: a reader, or the mark of a DNS flow. */
export type Reading = Reader | typeof DNS_FLOW;

/** Options of a FlowNamer. */
export interface FlowNamerOptions {
  /** Client datagrams of a UDP flow offered to the QUIC Initial reader before giving up. */
  quicDatagrams?: number;
}

export class FlowNamer implements ContentReader<Reading> {
  /** One copy of each name and answer kept. */
  private readonly strings = new StringPool();
  private readonly first = new FirstMessages(this.strings);
  private readonly join = new DnsJoin(this.strings);
  private readonly quicDatagrams: number;

  constructor(opts: FlowNamerOptions = {}) {
    this.quicDatagrams = opts.quicDatagrams ?? 10;
  }

  /** Every DNS response seen, in capture order. */
  dns(): DnsRecord[] {
    return this.join.responses();
  }

  open(f: ReadFlow<Reading>, p: Packet): Reading | undefined {
    const { orig, resp } = f.flow;
    if (p.proto === TCP) {
      const r = new Reader();
      if (isDnsPort(resp.port) || isDnsPort(orig.port)) r.read = READ_ORIG | READ_RESP;
      // Picked up mid-stream: either side may turn out to be the client.
      else r.read = ((p.tcp?.flags ?? 0) & SYN) === 0 ? READ_ORIG | READ_RESP : READ_ORIG;
      return r;
    }
    if (p.proto === UDP) return isDnsPort(resp.port) || isDnsPort(orig.port) ? DNS_FLOW : new Reader();
    return undefined;
  }

  // ---- TCP ---------------------------------------------------------------------------------------

  tcp(f: ReadFlow<Reading>, p: Packet, fromOrig: boolean, seq: number, flags: number): void {
    const r = f.reading as Reader;
    if ((flags & SYN) !== 0) {
      if (fromOrig) r.oIsn = seq;
      else r.rIsn = seq;
      seq = (seq + 1) >>> 0; // data on a SYN (TCP Fast Open) starts after it
    }
    const bit = fromOrig ? READ_ORIG : READ_RESP;
    if ((r.read & bit) === 0 || (flags & RST) !== 0 || p.payload.length === 0) return;
    let s = fromOrig ? r.so : r.sr;
    if (s === undefined) {
      s = new StreamStart();
      const isn = fromOrig ? r.oIsn : r.rIsn;
      if (isn >= 0) s.syn(isn);
      if (fromOrig) r.so = s;
      else r.sr = s;
    }
    if (!s.add(seq, p.payload)) {
      if (s.stuck()) this.giveUp(f, r, bit, fromOrig);
      return;
    }
    if (isDnsPort(f.flow.resp.port) || isDnsPort(f.flow.orig.port)) {
      this.dnsOverTcp(f, p, fromOrig, s, r);
      return;
    }
    const done = this.firstMessage(f.flow, s.bytes(), r);
    if (done === 'found' || done === 'tunnel') {
      if (!fromOrig) {
        // The responder sent the client's first message: it is the client.
        f.swap();
        r.swap();
      }
      if (done === 'found') f.reading = undefined;
      else {
        // A CONNECT request: what matters now is the client's first message inside the tunnel,
        // which may have come in the same segment.
        r.read = READ_ORIG;
        r.sr = undefined;
        const inside = this.first.tunnelHello(f.flow, r.so!.bytes().subarray(r.tunnel));
        if (inside !== 'more') f.reading = undefined;
      }
    } else if (done === 'none' || s.full() || p.payload.length < p.payloadLen) {
      // A packet cut short by the snap length leaves a gap nothing will fill.
      this.giveUp(f, r, bit, fromOrig);
    }
  }

  /** The first message of a client stream, or inside its CONNECT tunnel once the request was read. */
  private firstMessage(flow: Flow, b: Uint8Array, r: Reader): 'found' | 'tunnel' | 'more' | 'none' {
    if (r.tunnel >= 0) return this.first.tunnelHello(flow, b.subarray(r.tunnel));
    const m = this.first.read(flow, b);
    if (m.found === 'tunnel') r.tunnel = m.headerLength!;
    return m.found;
  }

  /** Stops reading one direction of a TCP flow (and the flow, when it was the last). */
  private giveUp(f: ReadFlow<Reading>, r: Reader, bit: number, fromOrig: boolean): void {
    r.read &= ~bit;
    if (fromOrig) r.so = undefined;
    else r.sr = undefined;
    if (r.read === 0) f.reading = undefined;
  }

  private dnsOverTcp(f: ReadFlow<Reading>, p: Packet, fromOrig: boolean, s: StreamStart, r: Reader): void {
    const done = fromOrig ? r.soDone : r.srDone;
    const { messages, rest } = splitDnsTcpStream(s.bytes().subarray(done));
    const used = s.length - rest.length;
    if (fromOrig) r.soDone = used;
    else r.srDone = used;
    for (const m of messages) {
      const info = readDns(m);
      if (info) this.join.message(f.flow, p, info);
    }
    if (s.full()) f.reading = undefined;
  }

  // ---- UDP ---------------------------------------------------------------------------------------

  udp(f: ReadFlow<Reading>, p: Packet, fromOrig: boolean): void {
    const payload = p.payload;
    const r = f.reading!;
    if (r === DNS_FLOW) {
      const info = readDns(payload);
      if (info) this.join.message(f.flow, p, info);
      return;
    }
    const flow = f.flow;
    if (r.candidate !== undefined) {
      if (fromOrig) return;
      const info = readDns(payload);
      const q = r.candidate;
      if (info?.isResponse && info.id === q.id) {
        f.reading = DNS_FLOW;
        this.join.message(flow, p, q);
        this.join.message(flow, p, info);
      } else f.reading = undefined;
      return;
    }
    if (!fromOrig) return;
    if (r.quic === undefined) {
      if (flow.origPkts === 1 && looksLikeQuicInitial(payload)) {
        flow.service = 'quic';
        r.quic = new QuicInitialReader();
        r.quicLeft = this.quicDatagrams;
      } else {
        if (
          flow.origPkts === 1 &&
          (flow.resp.port === 443 || flow.orig.port === 443) &&
          looksLikeQuicShortHeader(payload)
        ) {
          f.midstream = true;
          f.reading = undefined;
          return;
        }
        const info = flow.origPkts === 1 ? readDns(payload) : undefined;
        if (info && !info.isResponse && info.questions.length > 0) r.candidate = info;
        else f.reading = undefined;
        return;
      }
    }
    const quic = r.quic;
    quic.push(payload);
    const hello = quic.result();
    if (hello) {
      this.first.quicHello(flow, hello);
      f.reading = undefined;
    } else if (--r.quicLeft <= 0) f.reading = undefined;
  }

  // ---- Handing out -------------------------------------------------------------------------------

  finish(flow: Flow, key: Flow): void {
    this.join.nameFlow(flow, key);
    const proto = flow.proto;
    const sni = flow.tls?.sni;
    const kind = encryptedDnsKind(
      sni === undefined
        ? { proto, respAddr: flow.resp.addr, respPort: flow.resp.port }
        : { proto, respAddr: flow.resp.addr, respPort: flow.resp.port, sni },
    );
    if (kind !== undefined) flow.encryptedDns = kind;
  }
}
