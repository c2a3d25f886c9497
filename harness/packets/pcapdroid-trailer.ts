/**
 * PCAPdroid's per-packet trailer (dump_extensions): 32 bytes after the IP packet, which is padded to
 * a 4-byte boundary of the frame: magic 0x01072021, uid (int32), appname (char[20], NUL padded) and a
 * CRC-32 of everything before it. The frame starts with a bogus Ethernet header whose MACs are zero.
 */

import { crc32 } from 'node:zlib';
import type { AppTag } from './packet.js';

export const PCAPDROID_TRAILER_MAGIC = 0x01072021;
export const PCAPDROID_TRAILER_LEN = 32;

/** True when the Ethernet header at frame[0..12] is PCAPdroid's bogus one (both MACs zero). */
export function hasBogusEthernet(frame: Uint8Array): boolean {
  for (let i = 0; i < 12; i++) if (frame[i] !== 0) return false;
  return true;
}

/** Where the trailer should start, given where the IP packet ends in the frame. */
export function trailerOffset(ipEnd: number): number {
  return (ipEnd + 3) & ~3;
}

/** Reads trailers, remembering app tags so that packets of one app share one AppTag object. */
export class PcapdroidTrailerReader {
  private readonly tags = new Map<number, { tag: AppTag; raw: Uint8Array }>();
  /** Trailers whose magic matched but whose CRC did not. */
  badCrc = 0;

  /**
   * The app tag in the trailer at frame[at..at+32], or undefined when there is no valid trailer there
   * (wrong magic, too short, or a CRC that does not match: a bad CRC is counted in `badCrc`).
   */
  read(frame: Uint8Array, at: number): AppTag | undefined {
    if (at + PCAPDROID_TRAILER_LEN > frame.length) return undefined;
    if (readU32be(frame, at) !== PCAPDROID_TRAILER_MAGIC) return undefined;
    const fcsAt = at + 28;
    const crc = crc32(frame.subarray(0, fcsAt));
    // PCAPdroid stores the CRC in the phone's byte order (little endian on Android); accept both.
    const le =
      (frame[fcsAt]! | (frame[fcsAt + 1]! << 8) | (frame[fcsAt + 2]! << 16) | (frame[fcsAt + 3]! << 24)) >>>
      0;
    if (crc !== le && crc !== readU32be(frame, fcsAt)) {
      this.badCrc++;
      return undefined;
    }
    const uid = readU32be(frame, at + 4) | 0;
    const known = this.tags.get(uid);
    if (known && sameBytes(known.raw, frame, at + 8)) return known.tag;
    const raw = frame.slice(at + 8, at + 28);
    let n = raw.indexOf(0);
    if (n < 0) n = raw.length;
    const tag: AppTag = { uid, name: new TextDecoder().decode(raw.subarray(0, n)) };
    if (this.tags.size > 4096) this.tags.clear();
    this.tags.set(uid, { tag, raw });
    return tag;
  }
}

function readU32be(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function sameBytes(raw: Uint8Array, frame: Uint8Array, at: number): boolean {
  for (let i = 0; i < raw.length; i++) if (raw[i] !== frame[at + i]) return false;
  return true;
}
