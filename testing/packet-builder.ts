/**
 * Builds IP packets and link-layer frames as bytes, with correct lengths and checksums: for tests
 * and for tools that synthesise traffic. Pure.
 */

import { crc32 } from 'node:zlib';
import { concat } from './capture-writer.js';

/** TCP header fields. */
export interface TcpFields {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  /** FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10. */
  flags?: number;
  /** Option bytes (padded to 4 with NOPs). */
  options?: Uint8Array;
}

/** A TCP segment (header + payload), checksum left zero unless the pseudo header is given. */
export function tcpSegment(f: TcpFields, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const opts = f.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  const h = new Uint8Array(20 + optLen);
  h.fill(1, 20);
  h.set(opts, 20);
  put16(h, 0, f.srcPort);
  put16(h, 2, f.dstPort);
  put32(h, 4, f.seq ?? 0);
  put32(h, 8, f.ack ?? 0);
  h[12] = ((20 + optLen) / 4) << 4;
  h[13] = f.flags ?? 0x10;
  put16(h, 14, 65535);
  return concat([h, payload]);
}

/** A UDP datagram (header + payload). */
export function udpDatagram(
  srcPort: number,
  dstPort: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const h = new Uint8Array(8);
  put16(h, 0, srcPort);
  put16(h, 2, dstPort);
  put16(h, 4, 8 + payload.length);
  return concat([h, payload]);
}

/** IPv4 header fields. */
export interface Ipv4Fields {
  src: string;
  dst: string;
  proto: number;
  id?: number;
  ttl?: number;
  /** More-fragments flag. */
  more?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  /** Option bytes (padded to 4). */
  options?: Uint8Array;
  /** Total length to write instead of the real one (0 imitates TSO captures). */
  totalLength?: number;
}

/** An IPv4 packet with a correct header checksum (and TCP/UDP checksum for unfragmented ones). */
export function ipv4Packet(f: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const opts = f.options ?? new Uint8Array(0);
  const ihl = 20 + ((opts.length + 3) & ~3);
  const p = new Uint8Array(ihl + payload.length);
  p[0] = 0x40 | (ihl / 4);
  put16(p, 2, f.totalLength ?? p.length);
  put16(p, 4, f.id ?? 0x1234);
  put16(p, 6, (f.more ? 0x2000 : 0) | ((f.fragOffset ?? 0) >> 3));
  p[8] = f.ttl ?? 64;
  p[9] = f.proto;
  p.set(parseIpv4(f.src), 12);
  p.set(parseIpv4(f.dst), 16);
  p.set(opts, 20);
  p.set(payload, ihl);
  if (!f.more && !f.fragOffset) transportChecksum(p, ihl, f.proto, p.subarray(12, 16), p.subarray(16, 20));
  put16(p, 10, checksum(p.subarray(0, ihl), 0));
  return p;
}

/** One IPv6 extension header to put between the fixed header and the transport. */
export interface Ipv6Extension {
  /** 0 hop-by-hop, 43 routing, 60 destination options, 51 AH, 44 fragment. */
  type: number;
  /** For 0/43/60/51: body after the two first bytes (padded to the header's unit). */
  body?: Uint8Array;
  /** For 44: fragment offset in bytes, more flag and identification. */
  fragOffset?: number;
  more?: boolean;
  id?: number;
}

/** IPv6 header fields. */
export interface Ipv6Fields {
  src: string;
  dst: string;
  /** The transport's protocol number (last next-header of the chain). */
  proto: number;
  hopLimit?: number;
  extensions?: Ipv6Extension[];
  /** Payload length to write instead of the real one. */
  payloadLength?: number;
}

/** An IPv6 packet, extension headers chained in order. */
export function ipv6Packet(f: Ipv6Fields, payload: Uint8Array): Uint8Array {
  const exts = f.extensions ?? [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const next = i + 1 < exts.length ? exts[i + 1]!.type : f.proto;
    if (e.type === 44) {
      const h = new Uint8Array(8);
      h[0] = next;
      put16(h, 2, (e.fragOffset ?? 0) | (e.more ? 1 : 0));
      put32(h, 4, e.id ?? 0xabcd);
      parts.push(h);
    } else {
      const unit = e.type === 51 ? 4 : 8;
      const body = e.body ?? new Uint8Array(6);
      const len = Math.ceil((2 + body.length) / unit) * unit;
      const h = new Uint8Array(Math.max(len, 8));
      h[0] = next;
      h[1] = e.type === 51 ? h.length / 4 - 2 : h.length / 8 - 1;
      h.set(body, 2);
      parts.push(h);
    }
  }
  const ext = concat(parts);
  const p = new Uint8Array(40 + ext.length + payload.length);
  p[0] = 0x60;
  put16(p, 4, f.payloadLength ?? ext.length + payload.length);
  p[6] = exts.length ? exts[0]!.type : f.proto;
  p[7] = f.hopLimit ?? 64;
  p.set(parseIpv6(f.src), 8);
  p.set(parseIpv6(f.dst), 24);
  p.set(ext, 40);
  p.set(payload, 40 + ext.length);
  if (!exts.some((e) => e.type === 44)) {
    transportChecksum(p, 40 + ext.length, f.proto, p.subarray(8, 24), p.subarray(24, 40));
  }
  return p;
}

/** An Ethernet II frame; `vlans` are 802.1Q/802.1ad tags, outermost first ([tpid, vid]). */
export function ethernetFrame(
  ip: Uint8Array,
  opts: { vlans?: [number, number][]; ethertype?: number; dst?: Uint8Array; src?: Uint8Array } = {},
): Uint8Array {
  const tags = opts.vlans ?? [];
  const h = new Uint8Array(14 + 4 * tags.length);
  h.set(opts.dst ?? Uint8Array.of(2, 0, 0, 0, 0, 1), 0);
  h.set(opts.src ?? Uint8Array.of(2, 0, 0, 0, 0, 2), 6);
  let o = 12;
  for (const [tpid, vid] of tags) {
    put16(h, o, tpid);
    put16(h, o + 2, vid);
    o += 4;
  }
  put16(h, o, opts.ethertype ?? ipEthertype(ip));
  return concat([h, ip]);
}

/** A Linux cooked (SLL, link type 113) frame. */
export function sllFrame(ip: Uint8Array): Uint8Array {
  const h = new Uint8Array(16);
  put16(h, 0, 0); // packet sent to us
  put16(h, 2, 1); // ARPHRD_ETHER
  put16(h, 4, 6);
  h.set([2, 0, 0, 0, 0, 9], 6);
  put16(h, 14, ipEthertype(ip));
  return concat([h, ip]);
}

/** A Linux cooked v2 (SLL2, link type 276) frame. */
export function sll2Frame(ip: Uint8Array, ifindex = 1): Uint8Array {
  const h = new Uint8Array(20);
  put16(h, 0, ipEthertype(ip));
  put32(h, 4, ifindex);
  put16(h, 8, 1);
  h[10] = 4; // outgoing
  h[11] = 6;
  h.set([2, 0, 0, 0, 0, 9], 12);
  return concat([h, ip]);
}

/** A BSD loopback frame (link type 0 or 108): 4-byte address family in the given byte order. */
export function loopbackFrame(ip: Uint8Array, family: number, littleEndian: boolean): Uint8Array {
  const h = new Uint8Array(4);
  for (let i = 0; i < 4; i++) h[littleEndian ? i : 3 - i] = (family >>> (8 * i)) & 255;
  return concat([h, ip]);
}

/**
 * A frame as PCAPdroid writes it with dump_extensions: bogus Ethernet header (zero MACs), the IP
 * packet, zero padding to 4 bytes, then the 32-byte trailer (magic, uid, app name, CRC-32 in little
 * endian as on Android). `corruptCrc` flips the CRC.
 */
export function pcapdroidFrame(ip: Uint8Array, uid: number, appName: string, corruptCrc = false): Uint8Array {
  const eth = ethernetFrame(ip, { dst: new Uint8Array(6), src: new Uint8Array(6) });
  const padded = (eth.length + 3) & ~3;
  const f = new Uint8Array(padded + 32);
  f.set(eth);
  put32(f, padded, 0x01072021);
  put32(f, padded + 4, uid >>> 0);
  f.set(new TextEncoder().encode(appName).subarray(0, 20), padded + 8);
  let crc = crc32(f.subarray(0, padded + 28));
  if (corruptCrc) crc ^= 1;
  for (let i = 0; i < 4; i++) f[padded + 28 + i] = (crc >>> (8 * i)) & 255;
  return f;
}

/** The bytes of a dotted-quad IPv4 address. */
export function parseIpv4(s: string): Uint8Array {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((x) => !(x >= 0 && x <= 255)))
    throw new Error(`not an IPv4 address: ${s}`);
  return Uint8Array.from(parts);
}

/** The bytes of an IPv6 address in any valid text form (no zone). */
export function parseIpv6(s: string): Uint8Array {
  let text = s;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseIpv4(dotted[1]!);
    const g = (i: number) => ((v4[i]! << 8) | v4[i + 1]!).toString(16);
    text = `${text.slice(0, -dotted[1]!.length)}${g(0)}:${g(2)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) throw new Error(`not an IPv6 address: ${s}`);
  const groups = (h: string | undefined) => (h ? h.split(':').map((x) => Number.parseInt(x, 16)) : []);
  const head = groups(halves[0]);
  const back = groups(halves[1]);
  const fill = 8 - head.length - back.length;
  if (
    fill < 0 ||
    (halves.length === 1 && fill !== 0) ||
    [...head, ...back].some((x) => !(x >= 0 && x <= 0xffff))
  ) {
    throw new Error(`not an IPv6 address: ${s}`);
  }
  const all = [...head, ...new Array<number>(fill).fill(0), ...back];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) put16(out, 2 * i, all[i]!);
  return out;
}

function ipEthertype(ip: Uint8Array): number {
  return ip[0]! >> 4 === 6 ? 0x86dd : 0x0800;
}

function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 255;
  b[o + 1] = v & 255;
}

function put32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 255;
  b[o + 1] = (v >>> 16) & 255;
  b[o + 2] = (v >>> 8) & 255;
  b[o + 3] = v & 255;
}

function checksum(b: Uint8Array, start: number): number {
  let sum = start;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function transportChecksum(p: Uint8Array, at: number, proto: number, src: Uint8Array, dst: Uint8Array): void {
  const at16 = proto === 6 ? 16 : proto === 17 ? 6 : -1;
  if (at16 < 0 || p.length < at + at16 + 2) return;
  const seg = p.subarray(at);
  let pseudo = 0;
  for (const a of [src, dst]) for (let i = 0; i < a.length; i += 2) pseudo += (a[i]! << 8) | a[i + 1]!;
  pseudo += proto + seg.length;
  seg[at16] = 0;
  seg[at16 + 1] = 0;
  let c = checksum(seg, pseudo);
  if (proto === 17 && c === 0) c = 0xffff;
  put16(seg, at16, c);
}
