/**
 * Packets to flows: a bidirectional table keyed by 5-tuple that counts bytes and packets each way,
 * follows TCP's handshake and teardown (Zeek's conn_state) and tells connections the capture holds
 * no start of. What a flow's content says (its names) is read by a ContentReader the table hands
 * each packet of a flow still being read: harness/names/flow-namer.ts, the stage after this one.
 *
 * Packets must be added in capture order.
 */

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
import { flat } from './string-pool.js';

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
  /** A second reader of every flow's content, with state of its own (the identifier search). */
  tap?: FlowTap<unknown>;
}

/** A flow as a tap sees it: the flow, kept up to date, and the tap's own state. */
export interface TapFlow<T> {
  readonly flow: Flow;
  /** The tap's state; undefined once it reads no more of this flow. */
  tapping: T | undefined;
}

/**
 * A second content reader beside the namer, on a state field of its own, so that the namer's calls
 * stay as they are without it. Told of a flow's end before the flow is turned round for handing out.
 */
export interface FlowTap<T> {
  open(f: TapFlow<T>, p: Packet): T | undefined;
  tcp(f: TapFlow<T>, p: Packet, fromOrig: boolean, seq: number, flags: number): void;
  udp(f: TapFlow<T>, p: Packet, fromOrig: boolean): void;
  /** The flow ends: as read, before any turning round. */
  finish(f: TapFlow<T>): void;
}

const TCP = 6;
const UDP = 17;
const ICMP = 1;
const ICMP6 = 58;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
/** The table is swept for flows no packet can join any more every this many packets (+1). */
const SWEEP_EVERY_MASK = 0xffff;
/**
 * Slots of the recent-flow cache, as a power of two. Building and hashing a string key costs far
 * more than a packet's other work; interleaved flows mostly differ in their ports, so a slot picked
 * by ports and checked against the flow's addresses finds nearly every packet's flow without one.
 */
const RECENT_BITS = 12;
const RECENT_SHIFT = 32 - RECENT_BITS;
/** Seconds a finished TCP connection stays in the table for its late packets. */
const FINISHED_TCP_LINGER_SEC = 120;

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

/**
 * Mutable state of one flow while the capture is read. The counters live in the Flow it will be
 * handed out as, so that the flows are not held twice when the table lets go of them.
 */
class FlowState<R> implements ReadFlow<R> {
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
  /** The content reader's state for this flow; undefined once nothing more is read. */
  reading: R | undefined;
  /** The tap's state, likewise. */
  tapping: unknown = undefined;

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
    if (this.proto === TCP) this.tcp = flipTcpHistory(this.tcp);
  }
}

/** Swaps a flow's sides and their counters in place. */
function turnRound(f: Flow): void {
  [f.orig, f.resp] = [f.resp, f.orig];
  [f.origBytes, f.respBytes] = [f.respBytes, f.origBytes];
  [f.origPkts, f.respPkts] = [f.respPkts, f.origPkts];
}

/** A flow as its content reader sees it while the capture is read. */
export interface ReadFlow<R> {
  /** The flow as it will be handed out: endpoints, times and counters kept up to date. */
  readonly flow: Flow;
  /** The reader's state for this flow; undefined once nothing more is read (the table then stops asking). */
  reading: R | undefined;
  /** The capture holds no start of the connection (handed out as Flow.midstream). */
  midstream: boolean;
  /** Turns the flow round: the responder was the client after all. */
  swap(): void;
}

/**
 * What reads flows' content for their names (harness/names/flow-namer.ts implements it). The table
 * asks it only about flows whose `reading` it left defined.
 */
export interface ContentReader<R> {
  /** A flow opened with packet p: its reading state, or undefined when nothing in it is read. */
  open(f: ReadFlow<R>, p: Packet): R | undefined;
  /** A TCP segment (SYN's sequence number and flags given) of a flow still read. */
  tcp(f: ReadFlow<R>, p: Packet, fromOrig: boolean, seq: number, flags: number): void;
  /** A UDP datagram of a flow still read. */
  udp(f: ReadFlow<R>, p: Packet, fromOrig: boolean): void;
  /**
   * A flow is handed out: add what the content told that needs every packet (names from the DNS).
   * `flow` is turned so that its originator is the client; `key` is the object the reader was shown.
   */
  finish(flow: Flow, key: Flow): void;
}

export class FlowTable<R = unknown> {
  private readonly table = new Map<string, FlowState<R>>();
  private readonly all: FlowState<R>[] = [];
  private readonly udpIdle: number;
  private readonly tap: FlowTap<unknown> | undefined;
  private counter = 0;
  private released = false;
  private packets = 0;
  /** Recently seen flows by a hash of their ports and protocol (both directions hash alike). */
  private readonly recent: (FlowState<R> | undefined)[] = new Array(1 << RECENT_BITS).fill(undefined);

  constructor(
    private readonly content: ContentReader<R>,
    opts: FlowTableOptions = {},
  ) {
    this.udpIdle = opts.udpIdleSec ?? 60;
    this.tap = opts.tap;
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
      if (f.reading !== undefined) this.content.tcp(f, p, fromOrig, t.seq, t.flags);
      if (f.tapping !== undefined) this.tap!.tcp(f, p, fromOrig, t.seq, t.flags);
    } else if (proto === UDP) {
      if (f.reading !== undefined) this.content.udp(f, p, fromOrig);
      if (f.tapping !== undefined) this.tap!.udp(f, p, fromOrig);
    }
  }

  /** True when this packet on an existing 5-tuple begins a new connection. */
  private startsNew(f: FlowState<R>, p: Packet): boolean {
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

  private open(p: Packet, keyPort: number): FlowState<R> {
    const uid = flat(`C${(++this.counter).toString(36)}`);
    let f: FlowState<R>;
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
    }
    f.reading = this.content.open(f, p);
    if (this.tap) f.tapping = this.tap.open(f, p);
    this.all.push(f);
    return f;
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
    const sorted: (FlowState<R> | undefined)[] = this.all
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
  private finish(f: FlowState<R>, flow: Flow, flip: boolean): void {
    // A tap is told only when the flows are handed out for good: a copy handed out mid-capture
    // (live figures) does not end the flow for it.
    if (this.released) this.tap?.finish(f as TapFlow<unknown>);
    if (flip) turnRound(flow);
    if (f.proto === TCP) flow.connState = connState(flip ? flipTcpHistory(f.tcp) : f.tcp);
    if (f.midstream) flow.midstream = true;
    this.content.finish(flow, f.flow);
  }
}
