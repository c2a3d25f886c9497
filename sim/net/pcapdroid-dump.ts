/**
 * Turns a capture taken on the phone's interface (Ethernet frames) into the file PCAPdroid would have
 * written (../shared/reference/PCAPDROID.md): RAW (101) IP packets, or with dump extensions a bogus
 * Ethernet header, padding to 4 bytes and the 32-byte trailer carrying the app's UID and name.
 * Pure: pcap content in, file bytes out.
 */
import { crc32 } from 'node:zlib';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  type PcapContent,
  type PcapRecord,
  writePcap,
} from './pcap-file.js';

/** PCAPdroid's trailer magic. */
export const PCAPDROID_TRAILER_MAGIC = 0x01072021;

/** The app a packet belongs to. */
export interface DumpApp {
  /** Android UID, -1 when unknown. */
  uid: number;
  /** App name written into the trailer (truncated to 19 bytes). */
  name: string;
}

/** The phone-side transport endpoint of a packet. */
export interface LocalEndpoint {
  /** Transport of the packet. */
  proto: 'tcp' | 'udp' | 'icmp' | 'other';
  /** The phone-side port (0 for ICMP and others). */
  port: number;
}

/** Reads the phone-side endpoint of an IPv4 packet, or undefined when it is not IPv4. */
export function localEndpoint(ip: Uint8Array, phoneIp: string): LocalEndpoint | undefined {
  if (ip.length < 20 || ip[0]! >> 4 !== 4) return undefined;
  const ihl = (ip[0]! & 0x0f) * 4;
  const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const fromPhone = src === phoneIp;
  const proto = ip[9] === 6 ? 'tcp' : ip[9] === 17 ? 'udp' : ip[9] === 1 ? 'icmp' : 'other';
  if ((proto === 'tcp' || proto === 'udp') && ip.length >= ihl + 4) {
    const view = new DataView(ip.buffer, ip.byteOffset + ihl, 4);
    return { proto, port: fromPhone ? view.getUint16(0) : view.getUint16(2) };
  }
  return { proto, port: 0 };
}

/** An IPv4 packet to a multicast group or the broadcast address, or an IPv6 one to a multicast group. */
function isMulticastOrBroadcast(ip: Uint8Array): boolean {
  if (ip.length >= 20 && ip[0]! >> 4 === 4) {
    const first = ip[16]!;
    return (
      (first >= 224 && first <= 239) || (first === 255 && ip[17] === 255 && ip[18] === 255 && ip[19] === 255)
    );
  }
  return ip.length >= 40 && ip[0]! >> 4 === 6 && ip[24] === 0xff;
}

function trailer(frame: Buffer, app: DumpApp): Buffer {
  const padding = (4 - (frame.length % 4)) % 4;
  const out = Buffer.alloc(frame.length + padding + 32);
  frame.copy(out, 0);
  let o = frame.length + padding;
  out.writeUInt32BE(PCAPDROID_TRAILER_MAGIC, o);
  out.writeInt32BE(app.uid, o + 4);
  Buffer.from(app.name, 'utf8')
    .subarray(0, 19)
    .copy(out, o + 8);
  o += 28;
  // PCAPdroid stores the CRC in the phone's (little-endian) byte order.
  out.writeUInt32LE(crc32(out.subarray(0, o)), o);
  return out;
}

/**
 * Converts an Ethernet capture of the phone's interface into PCAPdroid's dump format. Non-IP frames
 * (ARP) are dropped, as PCAPdroid never sees them, and so are multicast and broadcast packets (mDNS,
 * IGMP): in VPN mode PCAPdroid sees what apps send through its tun interface, and Android sends
 * link-local traffic straight out of the Wi-Fi interface.
 */
export function toPcapdroidDump(
  input: PcapContent,
  opts: { phoneIp: string; extensions: boolean; appFor(local: LocalEndpoint): DumpApp },
): { file: Buffer; packets: number } {
  if (input.linkType !== LINKTYPE_ETHERNET)
    throw new RangeError(`expected an Ethernet capture, got link type ${input.linkType}`);
  const records: PcapRecord[] = [];
  for (const r of input.records) {
    if (r.data.length < 14) continue;
    const ethertype = r.data.readUInt16BE(12);
    if (ethertype !== 0x0800 && ethertype !== 0x86dd) continue;
    const ip = r.data.subarray(14);
    if (isMulticastOrBroadcast(ip)) continue;
    if (!opts.extensions) {
      records.push({ tsSec: r.tsSec, tsUsec: r.tsUsec, data: Buffer.from(ip), origLen: r.origLen - 14 });
      continue;
    }
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(ethertype, 12);
    const local = localEndpoint(ip, opts.phoneIp) ?? { proto: 'other', port: 0 };
    const data = trailer(Buffer.concat([eth, ip]), opts.appFor(local));
    records.push({ tsSec: r.tsSec, tsUsec: r.tsUsec, data, origLen: data.length });
  }
  return {
    file: writePcap({
      linkType: opts.extensions ? LINKTYPE_ETHERNET : LINKTYPE_RAW,
      snaplen: 65535,
      records,
    }),
    packets: records.length,
  };
}
