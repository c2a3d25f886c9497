/**
 * The TLS ClientHello inside a QUIC client's Initial packets (RFC 9000, RFC 9001 §5, RFC 9369 for
 * v2). Initial packets are encrypted with keys derived from the packet's own Destination
 * Connection ID, so a passive reader can decrypt them: remove header protection (AES-128-ECB
 * mask), decrypt the payload (AES-128-GCM), collect the CRYPTO frames by offset (Chromium sends
 * them shuffled, across several packets) and read the ClientHello at the start of that stream.
 * See /work/shared/reference/QUIC.md for the steps.
 */

import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import type { ClientHelloInfo } from '../flows/flow.js';
import { parseClientHelloBody, TLS_CLIENT_HELLO_CAP } from './tls-client-hello.js';

/** QUIC version 1 (RFC 9000). */
export const QUIC_V1 = 0x00000001;
/** QUIC version 2 (RFC 9369). */
export const QUIC_V2 = 0x6b3343cf;

/** Per-version constants: the Initial salt, the label prefix for key/iv/hp, and the long-header type bits of Initial. */
const VERSIONS = new Map<number, { salt: Buffer; labels: string; initialType: number }>([
  [
    QUIC_V1,
    { salt: Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex'), labels: 'quic', initialType: 0 },
  ],
  [
    QUIC_V2,
    {
      salt: Buffer.from('0dede3def700a6db819381be6e269dcbf9bd2ed9', 'hex'),
      labels: 'quicv2',
      initialType: 1,
    },
  ],
]);

/** The client's Initial packet protection keys. */
export interface QuicInitialKeys {
  /** AEAD key (AES-128-GCM). */
  key: Uint8Array;
  /** AEAD IV, XORed with the packet number to make the nonce. */
  iv: Uint8Array;
  /** Header protection key (AES-128-ECB). */
  hp: Uint8Array;
  /** client_initial_secret the three above are expanded from. */
  secret: Uint8Array;
}

/** HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, for outputs of at most one SHA-256 block. */
function expandLabel(secret: Uint8Array, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.alloc(2 + 1 + full.length + 1 + 1);
  info.writeUInt16BE(length, 0);
  info[2] = full.length;
  full.copy(info, 3);
  info[3 + full.length] = 0; // empty context
  info[4 + full.length] = 1; // HKDF-Expand block counter T(1)
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/**
 * The client Initial keys for a Destination Connection ID (RFC 9001 §5.2, RFC 9369 §3.3.1).
 * Throws RangeError for a version other than QUIC_V1 or QUIC_V2.
 */
export function deriveClientInitialKeys(dcid: Uint8Array, version: number): QuicInitialKeys {
  const v = VERSIONS.get(version);
  if (!v) throw new RangeError(`no Initial keys for QUIC version 0x${version.toString(16)}`);
  const initial = createHmac('sha256', v.salt).update(dcid).digest(); // HKDF-Extract
  const secret = expandLabel(initial, 'client in', 32);
  return {
    key: expandLabel(secret, `${v.labels} key`, 16),
    iv: expandLabel(secret, `${v.labels} iv`, 12),
    hp: expandLabel(secret, `${v.labels} hp`, 16),
    secret,
  };
}

/** A QUIC variable-length integer (RFC 9000 §16) at p: [value, next offset], or undefined past `end`. */
function varint(b: Uint8Array, p: number, end: number): [number, number] | undefined {
  if (p >= end) return undefined;
  const n = 1 << (b[p]! >> 6);
  if (p + n > end) return undefined;
  let v = b[p]! & 0x3f;
  for (let i = 1; i < n; i++) v = v * 256 + b[p + i]!;
  return [v, p + n];
}

/** A long-header packet's outline. */
interface LongHeader {
  /** Version field. */
  version: number;
  /** True for an Initial packet of a version we know. */
  initial: boolean;
  /** Destination Connection ID. */
  dcid: Uint8Array;
  /** Offset of the (protected) packet number. */
  pnOffset: number;
  /** Offset just past this packet in the datagram. */
  end: number;
}

/**
 * Reads the long header at p. Undefined when there is none, the version is unknown (its layout
 * past the connection IDs is then unknown too), or the lengths do not fit the datagram.
 */
function readLongHeader(d: Uint8Array, p: number): LongHeader | undefined {
  if (p + 7 > d.length || (d[p]! & 0x80) === 0) return undefined;
  const version = ((d[p + 1]! << 24) | (d[p + 2]! << 16) | (d[p + 3]! << 8) | d[p + 4]!) >>> 0;
  const v = VERSIONS.get(version);
  if (!v) return undefined;
  const type = (d[p]! >> 4) & 3;
  const retryType = (v.initialType + 3) & 3; // v1: 3, v2: 0
  if (type === retryType) return undefined; // Retry has no Length field; clients never send one
  const dcidLen = d[p + 5]!;
  if (dcidLen > 20) return undefined;
  let q = p + 6 + dcidLen;
  if (q >= d.length) return undefined;
  const dcid = d.subarray(p + 6, q);
  const scidLen = d[q]!;
  if (scidLen > 20) return undefined;
  q += 1 + scidLen;
  const initial = type === v.initialType;
  if (initial) {
    const tok = varint(d, q, d.length);
    if (!tok || tok[1] + tok[0] > d.length) return undefined;
    q = tok[1] + tok[0];
  }
  const len = varint(d, q, d.length);
  if (!len || len[1] + len[0] > d.length) return undefined;
  return { version, initial, dcid, pnOffset: len[1], end: len[1] + len[0] };
}

/**
 * True when the datagram starts with a well-formed QUIC v1/v2 Initial packet header whose
 * length fits the datagram (a cheap check before any decryption).
 */
export function looksLikeQuicInitial(datagram: Uint8Array): boolean {
  if (datagram.length < 1 || (datagram[0]! & 0xc0) !== 0xc0) return false;
  const h = readLongHeader(datagram, 0);
  return h?.initial === true && h.end - h.pnOffset >= 20;
}

/**
 * True when the datagram looks like a QUIC 1-RTT packet (short header: header form 0, fixed bit 1,
 * RFC 9000 §17.3) long enough to carry a header-protection sample. Such a packet belongs to a
 * connection whose handshake is over: seen first, it says the connection began before the capture.
 */
export function looksLikeQuicShortHeader(datagram: Uint8Array): boolean {
  // First byte, a connection ID of some length, at least 4 bytes before the 16-byte sample.
  return datagram.length >= 21 && (datagram[0]! & 0xc0) === 0x40;
}

/** Removes header protection and decrypts one Initial packet; undefined when it does not authenticate. */
function decryptInitial(
  d: Uint8Array,
  start: number,
  h: LongHeader,
  keys: QuicInitialKeys,
): Buffer | undefined {
  const sampleAt = h.pnOffset + 4;
  if (sampleAt + 16 > h.end) return undefined;
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  const mask = ecb.update(d.subarray(sampleAt, sampleAt + 16));
  const first = d[start]! ^ (mask[0]! & 0x0f);
  const pnLen = (first & 3) + 1;
  const payloadAt = h.pnOffset + pnLen;
  if (payloadAt + 16 >= h.end) return undefined;
  const header = Buffer.from(d.subarray(start, payloadAt));
  header[0] = first;
  let pn = 0;
  for (let i = 0; i < pnLen; i++) {
    const byte = header[h.pnOffset - start + i]! ^ mask[1 + i]!;
    header[h.pnOffset - start + i] = byte;
    pn = pn * 256 + byte;
  }
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[11 - i]! ^= (pn >>> (8 * i)) & 0xff;
  try {
    const gcm = createDecipheriv('aes-128-gcm', keys.key, nonce);
    gcm.setAAD(header);
    gcm.setAuthTag(d.subarray(h.end - 16, h.end));
    const out = gcm.update(d.subarray(payloadAt, h.end - 16));
    gcm.final();
    return out;
  } catch {
    return undefined;
  }
}

/** One CRYPTO frame's data at its stream offset. */
interface CryptoPiece {
  offset: number;
  data: Uint8Array;
}

/**
 * The frames of a decrypted Initial payload, keeping the CRYPTO data. Stops at the first frame
 * type an Initial may not carry, keeping what came before.
 */
function cryptoFrames(b: Uint8Array, into: CryptoPiece[]): void {
  let p = 0;
  const end = b.length;
  while (p < end) {
    const type = b[p]!;
    if (type === 0x00 || type === 0x01) {
      p++; // PADDING, PING
      continue;
    }
    let r: [number, number] | undefined;
    if (type === 0x06) {
      const off = varint(b, p + 1, end);
      const len = off && varint(b, off[1], end);
      if (!off || !len || len[1] + len[0] > end) return;
      if (off[0] + len[0] <= TLS_CLIENT_HELLO_CAP) {
        into.push({ offset: off[0], data: Uint8Array.from(b.subarray(len[1], len[1] + len[0])) });
      }
      p = len[1] + len[0];
    } else if (type === 0x02 || type === 0x03) {
      // ACK: largest, delay, range count, first range, ranges (gap, length)…, ECN counts for 0x03
      r = varint(b, p + 1, end);
      r = r && varint(b, r[1], end);
      const count = r && varint(b, r[1], end);
      r = count && varint(b, count[1], end);
      for (let i = 0; r && count && i < count[0] * 2; i++) r = varint(b, r[1], end);
      for (let i = 0; r && type === 0x03 && i < 3; i++) r = varint(b, r[1], end);
      if (!r) return;
      p = r[1];
    } else if (type === 0x1c || type === 0x1d) {
      // CONNECTION_CLOSE: error code, [frame type,] reason length, reason
      r = varint(b, p + 1, end);
      if (r && type === 0x1c) r = varint(b, r[1], end);
      r = r && varint(b, r[1], end);
      if (!r || r[1] + r[0] > end) return;
      p = r[1] + r[0];
    } else {
      return;
    }
  }
}

/**
 * Reads a QUIC client's ClientHello out of the datagrams it sent, in the order they were seen.
 * Push each client→server datagram of a flow; result() has the ClientHello once the CRYPTO
 * stream holds all of it. Datagrams that are not Initials, or do not decrypt, are passed over.
 */
export class QuicInitialReader {
  #pieces: CryptoPiece[] = [];
  /** CRYPTO bytes held in #pieces, duplicates included. */
  #held = 0;
  #result: ClientHelloInfo | undefined;
  /** True once the CRYPTO stream proved unreadable (not a ClientHello, or too big). */
  #failed = false;
  #version: number | undefined;
  #keys = new Map<string, QuicInitialKeys>();

  /** The version of the first Initial packet that decrypted, if any. */
  get version(): number | undefined {
    return this.#version;
  }

  /** Feeds one client→server UDP payload (it may hold several coalesced QUIC packets). */
  push(datagram: Uint8Array): void {
    if (this.#result || this.#failed) return;
    let p = 0;
    let added = false;
    while (p < datagram.length) {
      const h = readLongHeader(datagram, p);
      if (!h) break; // short header, unknown version or garbage: nothing more we can read
      if (h.initial) {
        const keys = this.#keysFor(h.dcid, h.version);
        const plain = decryptInitial(datagram, p, h, keys);
        if (plain) {
          this.#version ??= h.version;
          const before = this.#pieces.length;
          cryptoFrames(plain, this.#pieces);
          for (let i = before; i < this.#pieces.length; i++) this.#held += this.#pieces[i]!.data.length;
          added ||= this.#pieces.length > before;
          if (this.#held > 2 * TLS_CLIENT_HELLO_CAP) {
            // Endless retransmissions that never complete the ClientHello: stop holding them.
            this.#failed = true;
            this.#pieces = [];
            return;
          }
        }
      }
      p = h.end;
    }
    if (added) this.#assemble();
  }

  /** The ClientHello, once complete. */
  result(): ClientHelloInfo | undefined {
    return this.#result;
  }

  #keysFor(dcid: Uint8Array, version: number): QuicInitialKeys {
    const id = `${version}:${Buffer.from(dcid).toString('hex')}`;
    let k = this.#keys.get(id);
    if (!k) {
      k = deriveClientInitialKeys(dcid, version);
      this.#keys.set(id, k);
    }
    return k;
  }

  /** Joins the CRYPTO data contiguous from offset 0 and parses the ClientHello when it is all there. */
  #assemble(): void {
    const pieces = this.#pieces.sort((a, b) => a.offset - b.offset);
    let have = 0;
    for (const piece of pieces) {
      if (piece.offset > have) break;
      have = Math.max(have, piece.offset + piece.data.length);
    }
    if (have < 4) return;
    const stream = new Uint8Array(have);
    // Overlapping pieces are retransmissions of the same bytes, so the copy order does not matter.
    for (const piece of pieces) {
      if (piece.offset < have) stream.set(piece.data.subarray(0, have - piece.offset), piece.offset);
    }
    const want = 4 + ((stream[1]! << 16) | (stream[2]! << 8) | stream[3]!);
    if (stream[0] !== 1 || want > TLS_CLIENT_HELLO_CAP) {
      this.#failed = true;
      return;
    }
    if (have < want) return;
    this.#result = parseClientHelloBody(stream);
    if (!this.#result) this.#failed = true;
    this.#pieces = [];
  }
}
