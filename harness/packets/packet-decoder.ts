/**
 * Frames to IP packets: strips the link layer (Ethernet with VLAN tags, Linux cooked SLL/SLL2, raw
 * IP, BSD loopback), reads PCAPdroid's app trailer, reassembles IP fragments, walks IPv6 extension
 * headers and reads the TCP/UDP/ICMP header. Malformed input never throws: the frame is skipped
 * and counted under a short reason.
 *
 * Written for speed: one Packet (plus its payload view) per frame and no other allocation on the
 * common path; address strings come from caches.
 */

import {
  DEFAULT_REASSEMBLY_LIMITS,
  FragmentReassembler,
  type IncompleteDatagram,
  type ReassemblyLimits,
} from './fragment-reassembler.js';
import { Ipv4Text, Ipv6Text } from './ip-text.js';
import type { AppTag, Frame, Packet, Skipped } from './packet.js';
import { hasBogusEthernet, PcapdroidTrailerReader, trailerOffset } from './pcapdroid-trailer.js';

/** Counters of a PacketDecoder. */
export interface DecoderStats {
  /** Packets returned. */
  decoded: number;
  /** Datagrams rebuilt from IP fragments (each returned as one packet). */
  fragmentsReassembled: number;
  /** Datagrams whose fragments never all arrived: given up, or still held when stats() was called. */
  fragmentsIncomplete: number;
  /** Packets returned with truncated set (fewer bytes captured than the IP header declares). */
  truncated: number;
  /** PCAPdroid trailers ignored because their CRC did not match (the packet itself was decoded). */
  pcapdroidBadCrc: number;
}

/** The payload of every packet without one (bare ACKs are common): one shared empty view. */
const EMPTY = new Uint8Array(0);

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_PPPOE = 0x8864;

/** Decodes the frames of one capture, in order; keeps the fragment and skip state between them. */
export class PacketDecoder {
  private readonly v4 = new Ipv4Text();
  private readonly v6 = new Ipv6Text();
  private readonly trailers = new PcapdroidTrailerReader();
  private readonly fragments: FragmentReassembler;
  private readonly skips = new Map<string, Skipped>();
  private readonly reasonNames = new Map<number, string>();
  private decoded = 0;
  private reassembled = 0;
  private incomplete = 0;
  private truncatedCount = 0;

  /** `limits` bound the memory held for IP fragment reassembly (see DEFAULT_REASSEMBLY_LIMITS). */
  constructor(limits?: Partial<ReassemblyLimits>) {
    this.fragments = new FragmentReassembler((d) => this.countIncomplete(d), {
      ...DEFAULT_REASSEMBLY_LIMITS,
      ...limits,
    });
  }

  /**
   * The IP packet in this frame, or undefined when the frame was skipped (see skipped()) or is an IP
   * fragment held until its datagram is complete. The packet's payload is a view into the frame's
   * bytes (or into a reassembled copy): copy what you keep.
   */
  decode(frame: Frame): Packet | undefined {
    const d = frame.data;
    const n = d.length;
    let off: number;
    let trailer = false;
    switch (frame.linkType) {
      case 1: // Ethernet
        off = this.etherPayload(d, 12, 14, frame.index);
        trailer = off === 14 && hasBogusEthernet(d);
        break;
      case 113: // Linux cooked v1
        off = this.etherPayload(d, 14, 16, frame.index);
        break;
      case 276: // Linux cooked v2
        off = this.etherPayload(d, 0, 20, frame.index);
        break;
      case 101: // raw IP
      case 12:
      case 14:
      case 228: // IPv4
      case 229: // IPv6
        off = 0;
        break;
      case 0: // BSD loopback, family in host byte order
      case 108: // OpenBSD loopback, family in network byte order (but accept both)
        off = this.loopbackPayload(d, frame.index);
        break;
      default:
        return this.skip(this.reasonName(1 << 20, frame.linkType, 'unknown-linktype-'), frame.index);
    }
    if (off < 0) return undefined;
    if (off >= n) return this.skip('ip-short-header', frame.index);
    const version = d[off]! >> 4;
    if (version === 4) return this.ipv4(frame, d, off, trailer);
    if (version === 6) return this.ipv6(frame, d, off, trailer);
    return this.skip(this.reasonName(2 << 20, version, 'ip-version-'), frame.index);
  }

  /** What was skipped so far, by reason (datagrams still awaiting fragments count as incomplete). */
  skipped(): Skipped[] {
    const out = new Map<string, Skipped>();
    for (const [k, s] of this.skips) out.set(k, { ...s });
    for (const d of this.fragments.peekIncomplete())
      addSkip(out, incompleteReason(d), d.frames, d.firstFrame);
    return [...out.values()];
  }

  /** Counters so far. */
  stats(): DecoderStats {
    return {
      decoded: this.decoded,
      fragmentsReassembled: this.reassembled,
      fragmentsIncomplete: this.incomplete + this.fragments.pending,
      truncated: this.truncatedCount,
      pcapdroidBadCrc: this.trailers.badCrc,
    };
  }

  /** Gives up all datagrams still awaiting fragments (frees their memory; counts stay the same). */
  flush(): void {
    this.fragments.flush();
  }

  private countIncomplete(d: IncompleteDatagram): void {
    this.incomplete++;
    addSkip(this.skips, incompleteReason(d), d.frames, d.firstFrame);
  }

  private skip(reason: string, index: number): undefined {
    const s = this.skips.get(reason);
    if (s) s.count++;
    else this.skips.set(reason, { reason, count: 1, firstFrame: index });
    return undefined;
  }

  /** Reason strings with a number in them, made once per distinct number. */
  private reasonName(kind: number, value: number, prefix: string): string {
    const key = kind + value;
    let name = this.reasonNames.get(key);
    if (name === undefined) {
      name = prefix + (prefix.endsWith('0x') ? value.toString(16).padStart(4, '0') : String(value));
      this.reasonNames.set(key, name);
    }
    return name;
  }

  /**
   * Offset of the IP header after an ethertype at d[typeAt] whose payload starts at `start`, stepping
   * over 802.1Q / 802.1ad tags and PPPoE session headers; -1 (skipped) when it is not IP.
   */
  private etherPayload(d: Uint8Array, typeAt: number, start: number, index: number): number {
    for (;;) {
      if (d.length < start || d.length < typeAt + 2) {
        this.skip('link-short-header', index);
        return -1;
      }
      const t = (d[typeAt]! << 8) | d[typeAt + 1]!;
      if (t === ETH_IPV4 || t === ETH_IPV6) return start;
      if (t === ETH_VLAN || t === ETH_QINQ || t === ETH_QINQ_OLD) {
        typeAt = start + 2;
        start += 4;
        continue;
      }
      if (t === ETH_PPPOE && d.length >= start + 8) {
        const ppp = (d[start + 6]! << 8) | d[start + 7]!;
        if (ppp === 0x0021 || ppp === 0x0057) return start + 8;
      }
      this.skip(this.reasonName(3 << 20, t, 'non-ip-ethertype-0x'), index);
      return -1;
    }
  }

  private loopbackPayload(d: Uint8Array, index: number): number {
    if (d.length < 4) {
      this.skip('link-short-header', index);
      return -1;
    }
    // The family is a small number in either byte order: whichever end holds it tells the order.
    const family = d[0] === 0 && d[1] === 0 ? (d[2]! << 8) | d[3]! : d[0]! | (d[1]! << 8);
    if (family === 2 || family === 24 || family === 28 || family === 30 || family === 10) return 4;
    this.skip(this.reasonName(4 << 20, family, 'loopback-family-'), index);
    return -1;
  }

  private ipv4(frame: Frame, d: Uint8Array, off: number, trailer: boolean): Packet | undefined {
    const avail = d.length - off;
    if (avail < 20) return this.skip('ipv4-short-header', frame.index);
    const ihl = (d[off]! & 15) << 2;
    if (ihl < 20) return this.skip('ipv4-bad-header-length', frame.index);
    if (avail < ihl) return this.skip('ipv4-short-header', frame.index);
    let total = (d[off + 2]! << 8) | d[off + 3]!;
    // TSO captures show 0: the NIC fills the length in later, so the frame's length stands for it.
    if (total === 0) total = frame.origLen - off;
    if (total < ihl) return this.skip('ipv4-bad-total-length', frame.index);
    const truncated = total > avail;
    const end = truncated ? d.length : off + total;
    const proto = d[off + 9]!;
    const app = trailer && !truncated ? this.trailers.read(d, trailerOffset(off + total)) : undefined;
    const frag = (d[off + 6]! << 8) | d[off + 7]!;
    if ((frag & 0x3fff) !== 0) {
      const fragOff = (frag & 0x1fff) << 3;
      if (truncated) {
        // A cut fragment cannot be rebuilt; the first still names the transport, so decode it alone.
        if (fragOff !== 0) return this.skip('ip-fragment-truncated', frame.index);
      } else {
        const key = `4:${word(d, off + 12)}:${word(d, off + 16)}:${(d[off + 4]! << 8) | d[off + 5]!}:${proto}`;
        const r = this.fragments.add(
          key,
          frame.ts,
          frame.index,
          fragOff,
          (frag & 0x2000) !== 0,
          d.subarray(off + ihl, end),
          proto,
        );
        if (r === null) return this.skip('ip-fragment-too-large', frame.index);
        if (r === undefined) return undefined;
        this.reassembled++;
        const p = r.payload;
        return this.transport(
          frame,
          4,
          this.v4.read(d, off + 12),
          this.v4.read(d, off + 16),
          proto,
          p,
          0,
          p.length,
          p.length,
          false,
          app,
        );
      }
    }
    return this.transport(
      frame,
      4,
      this.v4.read(d, off + 12),
      this.v4.read(d, off + 16),
      proto,
      d,
      off + ihl,
      end,
      total - ihl,
      truncated,
      app,
    );
  }

  private ipv6(frame: Frame, d: Uint8Array, off: number, trailer: boolean): Packet | undefined {
    if (d.length - off < 40) return this.skip('ipv6-short-header', frame.index);
    let plen = (d[off + 4]! << 8) | d[off + 5]!;
    if (plen === 0) plen = Math.max(0, frame.origLen - off - 40); // jumbogram or GSO
    let declEnd = off + 40 + plen;
    const truncated = declEnd > d.length;
    let capEnd = truncated ? d.length : declEnd;
    const app = trailer && !truncated ? this.trailers.read(d, trailerOffset(declEnd)) : undefined;
    const src = this.v6.read(d, off + 8);
    const dst = this.v6.read(d, off + 24);
    let buf = d;
    let nh = d[off + 6]!;
    let pos = off + 40;
    for (;;) {
      if (nh === 0 || nh === 43 || nh === 60 || nh === 51) {
        // Hop-by-hop, routing, destination options: 8-byte units; AH: 4-byte units.
        if (pos + 2 > capEnd) return this.skip('ipv6-short-ext-header', frame.index);
        const hlen = nh === 51 ? (buf[pos + 1]! + 2) << 2 : (buf[pos + 1]! + 1) << 3;
        if (pos + hlen > declEnd) return this.skip('ipv6-bad-ext-header', frame.index);
        nh = buf[pos]!;
        pos += hlen;
        continue;
      }
      if (nh === 44) {
        if (pos + 8 > declEnd) return this.skip('ipv6-bad-ext-header', frame.index);
        if (pos + 8 > capEnd) return this.skip('ipv6-short-ext-header', frame.index);
        const next = buf[pos]!;
        const fo = (buf[pos + 2]! << 8) | buf[pos + 3]!;
        const fragOff = fo & 0xfff8;
        const more = (fo & 1) !== 0;
        pos += 8;
        if ((fragOff === 0 && !more) || (truncated && fragOff === 0)) {
          nh = next; // atomic fragment, or a cut first fragment decoded alone
          continue;
        }
        if (truncated) return this.skip('ip-fragment-truncated', frame.index);
        const key = `6:${src}:${dst}:${word(buf, pos - 4) >>> 0}`;
        const r = this.fragments.add(
          key,
          frame.ts,
          frame.index,
          fragOff,
          more,
          buf.subarray(pos, declEnd),
          next,
        );
        if (r === null) return this.skip('ip-fragment-too-large', frame.index);
        if (r === undefined) return undefined;
        this.reassembled++;
        buf = r.payload;
        pos = 0;
        declEnd = capEnd = buf.length;
        nh = r.proto;
        continue;
      }
      break;
    }
    return this.transport(frame, 6, src, dst, nh, buf, pos, capEnd, declEnd - pos, truncated, app);
  }

  /** Reads the transport header at b[start..capEnd] (declaredLen bytes on the wire) into a Packet. */
  private transport(
    frame: Frame,
    ipVersion: 4 | 6,
    src: string,
    dst: string,
    proto: number,
    b: Uint8Array,
    start: number,
    capEnd: number,
    declaredLen: number,
    truncated: boolean,
    app: AppTag | undefined,
  ): Packet | undefined {
    const cap = capEnd - start;
    let srcPort = 0;
    let dstPort = 0;
    let tcp: Packet['tcp'];
    let hlen = 0;
    let payloadLen: number;
    if (proto === 6) {
      if (cap < 20 || declaredLen < 20) return this.skip('tcp-short-header', frame.index);
      hlen = (b[start + 12]! >> 4) << 2;
      if (hlen < 20 || hlen > declaredLen) return this.skip('tcp-bad-offset', frame.index);
      srcPort = (b[start]! << 8) | b[start + 1]!;
      dstPort = (b[start + 2]! << 8) | b[start + 3]!;
      tcp = { seq: word(b, start + 4) >>> 0, ack: word(b, start + 8) >>> 0, flags: b[start + 13]! };
      payloadLen = declaredLen - hlen;
    } else if (proto === 17) {
      if (cap < 8 || declaredLen < 8) return this.skip('udp-short-header', frame.index);
      srcPort = (b[start]! << 8) | b[start + 1]!;
      dstPort = (b[start + 2]! << 8) | b[start + 3]!;
      const ulen = (b[start + 4]! << 8) | b[start + 5]!;
      hlen = 8;
      payloadLen = ulen >= 8 && ulen <= declaredLen ? ulen - 8 : declaredLen - 8;
    } else if (proto === 1 || proto === 58) {
      if (cap < 4 || declaredLen < 4) {
        return this.skip(proto === 1 ? 'icmp-short-header' : 'icmpv6-short-header', frame.index);
      }
      srcPort = b[start]!;
      dstPort = b[start + 1]!;
      hlen = 4;
      payloadLen = declaredLen - 4;
    } else {
      payloadLen = declaredLen;
    }
    const pStart = Math.min(start + hlen, capEnd);
    const pEnd = Math.min(start + hlen + payloadLen, capEnd);
    this.decoded++;
    if (truncated) this.truncatedCount++;
    return {
      ts: frame.ts,
      frame: frame.index,
      ipVersion,
      src,
      dst,
      proto,
      ipPayloadLen: declaredLen,
      srcPort,
      dstPort,
      tcp,
      payload: pEnd > pStart ? b.subarray(pStart, pEnd) : EMPTY,
      payloadLen,
      truncated,
      app,
    };
  }
}

function word(b: Uint8Array, o: number): number {
  return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
}

function incompleteReason(d: IncompleteDatagram): string {
  return d.hadFirst ? 'ip-fragment-incomplete' : 'ip-fragment-first-missing';
}

function addSkip(into: Map<string, Skipped>, reason: string, count: number, firstFrame: number): void {
  const s = into.get(reason);
  if (!s) into.set(reason, { reason, count, firstFrame });
  else {
    s.count += count;
    if (firstFrame < s.firstFrame) s.firstFrame = firstFrame;
  }
}
