/**
 * Packets to flows: a bidirectional table keyed by 5-tuple that counts bytes and packets each way,
 * follows TCP's handshake and teardown (Zeek's conn_state), reads the first client message of each
 * flow for the names it carries (TLS and QUIC server_name, HTTP Host), and keeps the DNS answers it
 * sees so that flows can be named by what their client resolved.
 *
 * Packets must be added in capture order. Per-flow state stays small: the stream buffer that reads
 * the first message is dropped as soon as that message is read (or cannot be).
 */

import { parseDnsMessage, splitDnsTcpStream } from '../names/dns-message.js';
import { encryptedDnsKind } from '../names/encrypted-dns.js';
import { isHttp2Preface, readHttpRequest } from '../names/http-request.js';
import type { ClientHelloInfo, DnsMessageInfo, HttpRequestInfo, NameSource } from '../names/name.js';
import { looksLikeQuicInitial, looksLikeQuicShortHeader, QuicInitialReader } from '../names/quic-initial.js';
import { readTlsClientHello } from '../names/tls-client-hello.js';
import type { Packet } from '../packets/packet.js';
import {
  connState,
  flipTcpHistory,
  newTcpHistory,
  type TcpHistory,
  tcpFinished,
  tcpSegment,
} from './conn-state.js';
import type { Flow } from './flow.js';
import { StreamStart } from './stream-start.js';
import { flat, StringPool } from './string-pool.js';

/** One DNS response seen on the wire, as the flow table logs it. */
export interface DnsRecord {
  /** Timestamp of the response, seconds since the epoch. */
  ts: number;
  /** The address that asked (the response's destination). */
  client: string;
  /** The resolver that answered (the response's source). */
  server: string;
  /** uid of the flow that carried it. */
  uid: string;
  /** The first question's name (lower case, no trailing dot), "" when the response had none. */
  query: string;
  /** The first question's type ("A", "AAAA", "HTTPS", …), "" when none. */
  type: string;
  /** Response code (0 NOERROR, 3 NXDOMAIN, …). */
  rcode: number;
  /** Answer records as "TYPE data": "A 1.2.3.4", "AAAA 2001:db8::1", "CNAME x.example", "HTTPS 1 . 1.2.3.4 …". */
  answers: string[];
}

/** How many flows an address took part in, on each side. */
export interface PartyCount {
  /** Flows it originated. */
  originated: number;
  /** Flows it was the responder of. */
  answered: number;
}

/** Options of a FlowTable. */
export interface FlowTableOptions {
  /** Seconds of silence after which a UDP (or other connectionless) flow's next packet starts a new flow. */
  udpIdleSec?: number;
  /** Client datagrams of a UDP flow offered to the QUIC Initial reader before giving up. */
  quicDatagrams?: number;
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMP6 = 58;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
/** Which directions of a TCP flow are still read for a first message. */
const READ_ORIG = 1;
const READ_RESP = 2;
/** The table is swept for flows no packet can join any more every this many packets (+1). */
const SWEEP_EVERY_MASK = 0xffff;
/**
 * Slots of the recent-flow cache, as a power of two. Building and hashing a string key costs far
 * more than a packet's other work; interleaved flows mostly differ in their ports, so a slot picked
 * by ports and checked against the flow's addresses finds nearly every packet's flow without one.
 */
const RECENT_BITS = 12;
const RECENT_SHIFT = 32 - RECENT_BITS;
/** Distinct ClientHello facts shared between flows at most. */
const MAX_SHARED_HELLOS = 10_000;
/** Seconds a finished TCP connection stays in the table for its late packets. */
const FINISHED_TCP_LINGER_SEC = 120;

/** Ports where UDP and TCP payloads are read as DNS messages without further proof. */
function isDnsPort(port: number): boolean {
  return port === 53 || port === 5353 || port === 5355;
}

/** ICMP types grouped so that a request and its reply share one flow (echo, timestamp, …). */
function icmpClass(proto: number, type: number): number {
  if (proto === ICMP) {
    if (type === 0) return 8; // echo reply → echo request
    if (type === 14) return 13; // timestamp
    if (type === 16) return 15; // information
    if (type === 18) return 17; // address mask
    return type;
  }
  if (type === 129) return 128; // echo reply → echo request
  if (type === 134) return 133; // router advertisement → solicitation
  if (type === 136) return 135; // neighbour advertisement → solicitation
  return type;
}

function protoName(proto: number): string {
  switch (proto) {
    case TCP:
      return 'tcp';
    case UDP:
      return 'udp';
    case ICMP:
      return 'icmp';
    case ICMP6:
      return 'icmp6';
    default:
      return `ip-${proto}`;
  }
}

/** A name the client resolved for an address, and when. */
interface Resolution {
  ts: number;
  name: string;
}

/** Content reading of a flow: what is still being looked for. */
const Content = {
  /** Reading the first client message of a TCP stream, or the first datagrams of a UDP flow. */
  Looking: 0,
  /** A DNS flow: every message is read. */
  Dns: 1,
  /** A UDP flow whose first client datagram parsed as a DNS query: proved by the first answer. */
  DnsCandidate: 2,
  /** Nothing more to read. */
  Done: 3,
} as const;
type ContentState = (typeof Content)[keyof typeof Content];

/** The state of reading a flow's content: large, short-lived, dropped once the names are read. */
class Reader {
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
  /** UDP on another port: the first client datagram, a DNS query waiting for its answer. */
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

/**
 * Mutable state of one flow while the capture is read. The counters live in the Flow it will be
 * handed out as, so that the flows are not held twice when the table lets go of them.
 */
class FlowState {
  /** The flow as it will be handed out: endpoints, times and counters kept up to date. */
  readonly flow: Flow;
  /** Ports that identify the flow in the table (ICMP: the type class each side). */
  oKey: number;
  rKey: number;
  /** TCP: the packed history conn_state is computed from (0 for other protocols). */
  tcp: TcpHistory = 0;
  /**
   * The capture holds no start of the connection: TCP until a SYN or SYN-ACK is seen; QUIC whose
   * client's first datagram was a 1-RTT packet, not an Initial. Handed out as Flow.midstream.
   */
  midstream = false;
  content: ContentState = Content.Looking;
  /** What reading the content needs while it goes on; dropped when it is done. */
  reader: Reader | undefined;
  /** DNS flows: the names asked, in order. */
  queries: string | string[] | undefined;

  constructor(
    uid: string,
    readonly proto: number,
    public oAddr: string,
    oPort: number,
    public rAddr: string,
    rPort: number,
    ts: number,
  ) {
    this.oKey = oPort;
    this.rKey = rPort;
    this.flow = {
      uid,
      proto: protoName(proto),
      orig: { addr: oAddr, port: oPort },
      resp: { addr: rAddr, port: rPort },
      tsStart: ts,
      tsEnd: ts,
      origBytes: 0,
      respBytes: 0,
      origPkts: 0,
      respPkts: 0,
      names: [],
    };
  }

  /** Turns the flow round: the responder was the client after all. */
  swap(): void {
    [this.oAddr, this.rAddr] = [this.rAddr, this.oAddr];
    [this.oKey, this.rKey] = [this.rKey, this.oKey];
    turnRound(this.flow);
    this.reader?.swap();
    if (this.proto === TCP) this.tcp = flipTcpHistory(this.tcp);
  }
}

/** Swaps a flow's sides and their counters in place. */
function turnRound(f: Flow): void {
  [f.orig, f.resp] = [f.resp, f.orig];
  [f.origBytes, f.respBytes] = [f.respBytes, f.origBytes];
  [f.origPkts, f.respPkts] = [f.respPkts, f.origPkts];
}

/** A DNS message, its direction taken from the header's QR bit. */
function readDns(bytes: Uint8Array): DnsMessageInfo | undefined {
  const info = parseDnsMessage(bytes);
  if (info !== undefined) info.isResponse = (bytes[2]! & 0x80) !== 0;
  return info;
}

export class FlowTable {
  private readonly table = new Map<string, FlowState>();
  private readonly all: FlowState[] = [];
  private readonly records: DnsRecord[] = [];
  /** client → address → names it resolved to, in capture order (a new entry only when the name changes). */
  private readonly resolved = new Map<string, Map<string, Resolution | Resolution[]>>();
  private readonly udpIdle: number;
  private readonly quicDatagrams: number;
  private counter = 0;
  private released = false;
  private packets = 0;
  /** Shared ClientHello facts, by content. */
  private readonly hellos = new Map<string, ClientHelloInfo>();
  /** One copy of each name and answer kept. */
  private readonly strings = new StringPool();
  /** Recently seen flows by a hash of their ports and protocol (both directions hash alike). */
  private readonly recent: (FlowState | undefined)[] = new Array(1 << RECENT_BITS).fill(undefined);

  constructor(opts: FlowTableOptions = {}) {
    this.udpIdle = opts.udpIdleSec ?? 60;
    this.quicDatagrams = opts.quicDatagrams ?? 10;
  }

  /** Adds one decoded packet (in capture order). */
  add(p: Packet): void {
    if (this.released) throw new Error('FlowTable.add after flows({ release: true })');
    if ((++this.packets & SWEEP_EVERY_MASK) === 0) this.sweep(p.ts);
    const proto = p.proto;
    let sp = p.srcPort;
    let dp = p.dstPort;
    if (proto === ICMP || proto === ICMP6) sp = dp = icmpClass(proto, p.srcPort);
    else if (proto !== TCP && proto !== UDP) sp = dp = 0;

    // Flows seen lately are found by their ports without building a key (see RECENT_SLOTS).
    const slot = Math.imul((sp ^ dp) | (proto << 16), 0x9e3779b1) >>> RECENT_SHIFT;
    let f = this.recent[slot];
    let fromOrig = false;
    let hit = false;
    if (f !== undefined && f.proto === proto) {
      if (p.src === f.oAddr && p.dst === f.rAddr && sp === f.oKey && dp === f.rKey) hit = fromOrig = true;
      else if (p.src === f.rAddr && p.dst === f.oAddr && sp === f.rKey && dp === f.oKey) hit = true;
      if (hit && this.startsNew(f, p)) hit = false;
    }
    if (!hit) {
      const src = p.src;
      const dst = p.dst;
      const key =
        src < dst || (src === dst && sp <= dp)
          ? `${proto} ${src} ${sp} ${dst} ${dp}`
          : `${proto} ${dst} ${dp} ${src} ${sp}`;
      f = this.table.get(key);
      if (f === undefined || this.startsNew(f, p)) {
        f = this.open(p, sp);
        this.table.set(flat(key), f); // a template literal is a chain of pieces: keep one flat copy
      }
      fromOrig = src === f.oAddr && sp === f.oKey && dst === f.rAddr && dp === f.rKey;
      this.recent[slot] = f;
    }
    f = f!;

    const fl = f.flow;
    const ts = p.ts;
    if (ts > fl.tsEnd) fl.tsEnd = ts;
    else if (ts < fl.tsStart) fl.tsStart = ts;
    if (fromOrig) {
      fl.origBytes += p.ipPayloadLen;
      fl.origPkts++;
    } else {
      fl.respBytes += p.ipPayloadLen;
      fl.respPkts++;
    }
    if (p.app !== undefined && fl.app === undefined) fl.app = p.app;

    if (proto === TCP) {
      const t = p.tcp;
      if (t === undefined) return;
      f.tcp = tcpSegment(f.tcp, fromOrig, t.flags, p.payloadLen);
      if ((t.flags & SYN) !== 0) f.midstream = false;
      if (f.content !== Content.Done) this.tcpContent(f, p, fromOrig, t.seq, t.flags);
    } else if (proto === UDP && f.content !== Content.Done) {
      this.udpContent(f, p, fromOrig);
    }
  }

  /** True when this packet on an existing 5-tuple begins a new connection. */
  private startsNew(f: FlowState, p: Packet): boolean {
    if (f.proto === TCP) {
      const flags = p.tcp?.flags ?? 0;
      return (flags & (SYN | ACK | RST)) === SYN && tcpFinished(f.tcp);
    }
    return p.ts - f.flow.tsEnd > this.udpIdle;
  }

  /**
   * Forgets table entries that no later packet can join: connectionless flows idle past the
   * timeout (their next packet starts a new flow anyway) and finished TCP connections idle for
   * FINISHED_TCP_LINGER_SEC. Keeps the table's size to the flows alive, not all flows ever seen.
   */
  private sweep(now: number): void {
    for (const [key, f] of this.table) {
      const idle = now - f.flow.tsEnd;
      if (f.proto === TCP ? idle > FINISHED_TCP_LINGER_SEC && tcpFinished(f.tcp) : idle > this.udpIdle) {
        this.table.delete(key);
        const slot = Math.imul((f.oKey ^ f.rKey) | (f.proto << 16), 0x9e3779b1) >>> RECENT_SHIFT;
        if (this.recent[slot] === f) this.recent[slot] = undefined;
      }
    }
  }

  private open(p: Packet, keyPort: number): FlowState {
    const uid = flat(`C${(++this.counter).toString(36)}`);
    let f: FlowState;
    const flags = p.tcp?.flags ?? 0;
    const synAck = p.proto === TCP && (flags & (SYN | ACK)) === (SYN | ACK);
    // Without a SYN to go by, a first packet from a well-known port to an ephemeral one is the
    // server answering: its destination is the originator.
    const answer =
      (p.proto === UDP || (p.proto === TCP && (flags & SYN) === 0)) &&
      p.srcPort > 0 &&
      p.srcPort < 1024 &&
      p.dstPort >= 1024;
    if (synAck || answer) f = new FlowState(uid, p.proto, p.dst, p.dstPort, p.src, p.srcPort, p.ts);
    else f = new FlowState(uid, p.proto, p.src, p.srcPort, p.dst, p.dstPort, p.ts);
    if (p.proto === ICMP || p.proto === ICMP6) {
      // Zeek's convention: the originator's "port" is the ICMP type, the responder's the code.
      f.oKey = f.rKey = keyPort;
    } else if (p.proto !== TCP && p.proto !== UDP) {
      f.oKey = f.rKey = f.flow.orig.port = f.flow.resp.port = 0;
    }
    if (p.proto === TCP) {
      f.tcp = newTcpHistory();
      f.midstream = true; // until add() sees a SYN
      const r = new Reader();
      if (isDnsPort(f.flow.resp.port) || isDnsPort(f.flow.orig.port)) r.read = READ_ORIG | READ_RESP;
      // Picked up mid-stream: either side may turn out to be the client.
      else r.read = (flags & SYN) === 0 ? READ_ORIG | READ_RESP : READ_ORIG;
      f.reader = r;
    } else if (p.proto === UDP) {
      if (isDnsPort(f.flow.resp.port) || isDnsPort(f.flow.orig.port)) f.content = Content.Dns;
      else f.reader = new Reader();
    } else f.content = Content.Done;
    this.all.push(f);
    return f;
  }

  // ---- TCP content -------------------------------------------------------------------------------

  private tcpContent(f: FlowState, p: Packet, fromOrig: boolean, seq: number, flags: number): void {
    const r = f.reader!;
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
    const done = this.firstMessage(f, s.bytes(), r);
    if (done === 'found' || done === 'tunnel') {
      if (!fromOrig) f.swap(); // the responder sent the client's first message: it is the client
      if (done === 'found') this.stopReading(f);
      else {
        // A CONNECT request: what matters now is the client's first message inside the tunnel,
        // which may have come in the same segment.
        r.read = READ_ORIG;
        r.sr = undefined;
        const inside = this.tunnelHello(f, r.so!.bytes().subarray(r.tunnel));
        if (inside !== 'more') this.stopReading(f);
      }
    } else if (done === 'none' || s.full() || p.payload.length < p.payloadLen) {
      // A packet cut short by the snap length leaves a gap nothing will fill.
      this.giveUp(f, r, bit, fromOrig);
    }
  }

  /** Stops reading one direction of a TCP flow (and the flow, when it was the last). */
  private giveUp(f: FlowState, r: Reader, bit: number, fromOrig: boolean): void {
    r.read &= ~bit;
    if (fromOrig) r.so = undefined;
    else r.sr = undefined;
    if (r.read === 0) this.stopReading(f);
  }

  private stopReading(f: FlowState): void {
    f.content = Content.Done;
    f.reader = undefined;
  }

  /**
   * Reads a TLS ClientHello, HTTP request or HTTP/2 preface at the start of a client stream.
   * 'tunnel' for an HTTP CONNECT request: the proxy's client goes on to speak to the CONNECT target
   * through the same connection, so the stream is read on, from r.tunnel, for the ClientHello that
   * names the host behind the proxy.
   */
  private firstMessage(f: FlowState, b: Uint8Array, r: Reader): 'found' | 'tunnel' | 'more' | 'none' {
    if (r.tunnel >= 0) return this.tunnelHello(f, b.subarray(r.tunnel));
    const tls = readTlsClientHello(b);
    if (tls.status === 'ok') {
      f.flow.service = 'tls';
      f.flow.tls = this.helloInfo(tls.info);
      if (tls.info.sni !== undefined) this.addName(f, tls.info.sni, 'sni');
      return 'found';
    }
    if (tls.status === 'need-more') return 'more';
    const http = readHttpRequest(b);
    if (http.status === 'ok') {
      f.flow.service = 'http';
      f.flow.http = this.requestInfo(http.info);
      if (http.info.host !== undefined) this.addName(f, http.info.host, 'http-host');
      if (http.info.method !== 'CONNECT' || http.headerLength === undefined) return 'found';
      r.tunnel = http.headerLength;
      return 'tunnel';
    }
    if (http.status === 'need-more') return 'more';
    if (isHttp2Preface(b)) {
      f.flow.service = 'http2';
      return 'found';
    }
    if (b.length < 24 && b[0] === 0x50 && b[1] === 0x52 && b[2] === 0x49) return 'more'; // "PRI…"
    return 'none';
  }

  /** The TLS ClientHello that starts a CONNECT tunnel's stream: its facts and server name join the flow's. */
  private tunnelHello(f: FlowState, b: Uint8Array): 'found' | 'more' | 'none' {
    if (b.length === 0) return 'more';
    const tls = readTlsClientHello(b);
    if (tls.status === 'need-more') return 'more';
    if (tls.status !== 'ok') return 'none';
    f.flow.tls = this.helloInfo(tls.info);
    if (tls.info.sni !== undefined) this.addName(f, tls.info.sni, 'sni');
    return 'found';
  }

  private dnsOverTcp(f: FlowState, p: Packet, fromOrig: boolean, s: StreamStart, r: Reader): void {
    const done = fromOrig ? r.soDone : r.srDone;
    const { messages, rest } = splitDnsTcpStream(s.bytes().subarray(done));
    const used = s.length - rest.length;
    if (fromOrig) r.soDone = used;
    else r.srDone = used;
    for (const m of messages) {
      const info = readDns(m);
      if (info) this.dnsMessage(f, p, info);
    }
    if (s.full()) this.stopReading(f);
  }

  // ---- UDP content -------------------------------------------------------------------------------

  private udpContent(f: FlowState, p: Packet, fromOrig: boolean): void {
    const payload = p.payload;
    if (f.content === Content.Dns) {
      const info = readDns(payload);
      if (info) this.dnsMessage(f, p, info);
      return;
    }
    const r = f.reader!;
    if (f.content === Content.DnsCandidate) {
      if (fromOrig) return;
      const info = readDns(payload);
      const q = r.candidate!;
      f.reader = undefined;
      if (info?.isResponse && info.id === q.id) {
        f.content = Content.Dns;
        this.dnsMessage(f, p, q);
        this.dnsMessage(f, p, info);
      } else f.content = Content.Done;
      return;
    }
    if (!fromOrig) return;
    if (r.quic === undefined) {
      if (f.flow.origPkts === 1 && looksLikeQuicInitial(payload)) {
        f.flow.service = 'quic';
        r.quic = new QuicInitialReader();
        r.quicLeft = this.quicDatagrams;
      } else {
        if (
          f.flow.origPkts === 1 &&
          (f.flow.resp.port === 443 || f.flow.orig.port === 443) &&
          looksLikeQuicShortHeader(payload)
        ) {
          f.midstream = true;
          this.stopReading(f);
          return;
        }
        const info = f.flow.origPkts === 1 ? readDns(payload) : undefined;
        if (info && !info.isResponse && info.questions.length > 0) {
          f.content = Content.DnsCandidate;
          r.candidate = info;
        } else this.stopReading(f);
        return;
      }
    }
    const quic = r.quic;
    quic.push(payload);
    const hello = quic.result();
    if (hello) {
      f.flow.tls = this.helloInfo(hello);
      if (hello.sni !== undefined) this.addName(f, hello.sni, 'quic-sni');
      this.stopReading(f);
    } else if (--r.quicLeft <= 0) this.stopReading(f);
  }

  private addName(f: FlowState, name: string, source: NameSource): void {
    // The flow's own evidence comes first among its names; DNS names follow when it is handed out.
    f.flow.names.push({ name: this.strings.get(name), source });
  }

  private addQuery(f: FlowState, name: string): void {
    // Most DNS flows ask for one name: no array for those.
    const q = f.queries;
    if (q === undefined) f.queries = this.strings.get(name);
    else if (typeof q === 'string') {
      if (q !== name) f.queries = [q, this.strings.get(name)];
    } else if (!q.includes(name)) q.push(this.strings.get(name));
  }

  /**
   * The ClientHello facts with their strings pooled; equal facts share one object (flows to one
   * host from one client stack all carry the same), so treat the result as read-only.
   */
  private helloInfo(h: ClientHelloInfo): ClientHelloInfo {
    const key = `${h.sni ?? ''}|${h.alpn.join(',')}|${h.ech ? 1 : 0}|${h.tlsVersion ?? ''}`;
    const hit = this.hellos.get(key);
    if (hit !== undefined) return hit;
    const out: ClientHelloInfo = { alpn: h.alpn.map((a) => this.strings.get(a)), ech: h.ech };
    if (h.sni !== undefined) out.sni = this.strings.get(h.sni);
    if (h.tlsVersion !== undefined) out.tlsVersion = h.tlsVersion;
    if (this.hellos.size < MAX_SHARED_HELLOS) this.hellos.set(flat(key), out);
    return out;
  }

  /** The request facts with their strings pooled (the target is flattened, not pooled: it is rarely repeated). */
  private requestInfo(r: HttpRequestInfo): HttpRequestInfo {
    const out: HttpRequestInfo = {
      method: this.strings.get(r.method),
      target: flat(r.target),
      version: this.strings.get(r.version),
    };
    if (r.host !== undefined) out.host = this.strings.get(r.host);
    return out;
  }

  // ---- DNS -----------------------------------------------------------------------------------------

  private dnsMessage(f: FlowState, p: Packet, m: DnsMessageInfo): void {
    f.flow.service = 'dns';
    // Responses repeat the question: names asked still show when the query itself was not captured.
    for (const q of m.questions) this.addQuery(f, q.name);
    if (!m.isResponse) return;
    const q0 = m.questions[0];
    const client = p.dst;
    this.records.push({
      ts: p.ts,
      client,
      server: p.src,
      uid: f.flow.uid,
      query: this.strings.get(q0?.name ?? ''),
      type: this.strings.get(q0?.type ?? ''),
      rcode: m.rcode,
      answers: m.answers.map((a) => this.strings.get(`${a.type} ${a.data}`)),
    });
    if (m.answers.length === 0) return;
    // CNAME chains lead back to the name the client asked for.
    let aliasOf: Map<string, string> | undefined;
    for (const a of m.answers) {
      if (a.type !== 'CNAME') continue;
      aliasOf ??= new Map();
      aliasOf.set(a.data, a.name);
    }
    const askedFor = (owner: string): string => {
      let n = owner;
      for (let i = 0; i < 16 && aliasOf !== undefined; i++) {
        const up = aliasOf.get(n);
        if (up === undefined || up === n) break;
        n = up;
      }
      return n;
    };
    for (const a of m.answers) {
      if (a.type === 'A' || a.type === 'AAAA') this.remember(client, a.data, askedFor(a.name), p.ts);
      else if ((a.type === 'HTTPS' || a.type === 'SVCB') && a.hints) {
        const name = askedFor(a.name);
        for (const h of a.hints) this.remember(client, h, name, p.ts);
      }
    }
  }

  private remember(client: string, addr: string, name: string, ts: number): void {
    let byAddr = this.resolved.get(client);
    if (byAddr === undefined) {
      byAddr = new Map();
      this.resolved.set(client, byAddr);
    }
    // Most addresses only ever resolve to one name: no array for those.
    const had = byAddr.get(addr);
    if (had === undefined) byAddr.set(this.strings.get(addr), { ts, name: this.strings.get(name) });
    else if (!Array.isArray(had)) {
      if (had.name !== name) byAddr.set(addr, [had, { ts, name: this.strings.get(name) }]);
    } else if (had[had.length - 1]!.name !== name) had.push({ ts, name: this.strings.get(name) });
  }

  /** The name client most recently resolved to addr at or before ts. */
  private resolvedName(client: string, addr: string, ts: number): string | undefined {
    const list = this.resolved.get(client)?.get(addr);
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) return list.ts <= ts ? list.name : undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.ts <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? list[lo - 1]!.name : undefined;
  }

  // ---- Results -----------------------------------------------------------------------------------

  /**
   * For each address, how many flows it originated (sent the first packet, or the SYN) and how
   * many it answered: what the phone's address is inferred from.
   */
  parties(): Map<string, PartyCount> {
    const counts = new Map<string, PartyCount>();
    for (const f of this.all) {
      const o = counts.get(f.oAddr) ?? { originated: 0, answered: 0 };
      o.originated++;
      counts.set(f.oAddr, o);
      const r = counts.get(f.rAddr) ?? { originated: 0, answered: 0 };
      r.answered++;
      counts.set(f.rAddr, r);
    }
    return counts;
  }

  /**
   * The flows so far, sorted by start time, named. When device addresses are given, a flow whose
   * responder is the device (and whose originator is not) is turned round so that the device is
   * the originator; DNS names are then those the originator resolved for the responder.
   *
   * With `release`, the table lets go of each flow's state as it is converted (peak memory is then
   * about one copy of the flows, not two); the table is empty afterwards and takes no more packets.
   */
  flows(device?: ReadonlySet<string>, opts: { release?: boolean } = {}): Flow[] {
    const sorted: (FlowState | undefined)[] = this.all
      .slice()
      .sort((a, b) => a.flow.tsStart - b.flow.tsStart);
    const release = opts.release === true;
    if (release) {
      this.all.length = 0;
      this.table.clear();
      this.recent.fill(undefined);
      this.released = true;
    }
    const out: Flow[] = new Array(sorted.length);
    for (let i = 0; i < sorted.length; i++) {
      const f = sorted[i]!;
      // Released flows are finished in place; otherwise a copy is, and the table can go on.
      const flow: Flow = release
        ? f.flow
        : { ...f.flow, orig: { ...f.flow.orig }, resp: { ...f.flow.resp }, names: [...f.flow.names] };
      this.finish(f, flow, device?.has(f.rAddr) === true && !device.has(f.oAddr));
      out[i] = flow;
      if (release) sorted[i] = undefined;
    }
    return out;
  }

  /** Completes a flow for handing out: its direction, conn_state, names and what its content told. */
  private finish(f: FlowState, flow: Flow, flip: boolean): void {
    if (flip) turnRound(flow);
    if (f.proto === TCP) flow.connState = connState(flip ? flipTcpHistory(f.tcp) : f.tcp);
    if (f.midstream) flow.midstream = true;
    const dnsName = this.resolvedName(flow.orig.addr, flow.resp.addr, flow.tsStart);
    if (dnsName !== undefined) flow.names.push({ name: dnsName, source: 'dns' });
    const q = f.queries;
    if (typeof q === 'string') flow.names.push({ name: q, source: 'dns-query' });
    else if (q) for (const name of q) flow.names.push({ name, source: 'dns-query' });
    const proto = flow.proto;
    const sni = flow.tls?.sni;
    const kind = encryptedDnsKind(
      sni === undefined
        ? { proto, respAddr: flow.resp.addr, respPort: flow.resp.port }
        : { proto, respAddr: flow.resp.addr, respPort: flow.resp.port, sni },
    );
    if (kind !== undefined) flow.encryptedDns = kind;
  }

  /** Every DNS response seen, in capture order. */
  dns(): DnsRecord[] {
    return this.records;
  }
}
