/**
 * A real QUIC v1 client Initial packet (RFC 9000 §17.2.2, RFC 9001 §5): a TLS ClientHello with the
 * server name in a CRYPTO frame, padded so the datagram is 1200 bytes, AEAD-protected and
 * header-protected with keys derived from a random Destination Connection ID.
 */
import { createCipheriv, createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { buildClientHello } from './client-hello.js';

/** The RFC 9001 §5.2 salt for QUIC version 1. */
const V1_SALT = Buffer.from('38762cf7f55934b34d179ae6a4c80cadccbb7f0a', 'hex');

/** Client Initial keys. */
export interface InitialKeys {
  /** AEAD_AES_128_GCM key. */
  key: Buffer;
  /** AEAD IV. */
  iv: Buffer;
  /** Header protection key (AES-128-ECB). */
  hp: Buffer;
  /** The client initial secret they came from. */
  secret: Buffer;
}

function hkdfExpandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'ascii');
  const info = Buffer.concat([
    Buffer.from([length >> 8, length & 0xff, full.length]),
    full,
    Buffer.from([0]),
  ]);
  // One HKDF-Expand block is enough: every output here is at most 32 bytes (SHA-256's size).
  return createHmac('sha256', secret)
    .update(Buffer.concat([info, Buffer.from([1])]))
    .digest()
    .subarray(0, length);
}

/** Derives the client's Initial keys from the DCID of its first Initial (RFC 9001 §5.2). */
export function clientInitialKeys(dcid: Uint8Array): InitialKeys {
  const initialSecret = createHmac('sha256', V1_SALT).update(dcid).digest();
  const secret = hkdfExpandLabel(initialSecret, 'client in', 32);
  return {
    secret,
    key: hkdfExpandLabel(secret, 'quic key', 16),
    iv: hkdfExpandLabel(secret, 'quic iv', 12),
    hp: hkdfExpandLabel(secret, 'quic hp', 16),
  };
}

function varint(n: number): Buffer {
  if (n < 0x40) return Buffer.from([n]);
  if (n < 0x4000) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  b[0]! |= 0x80;
  return b;
}

function transportParameters(scid: Buffer): Buffer {
  const param = (id: number, value: Buffer) => Buffer.concat([varint(id), varint(value.length), value]);
  return Buffer.concat([
    param(0x01, varint(30_000)), // max_idle_timeout
    param(0x04, varint(1_048_576)), // initial_max_data
    param(0x05, varint(524_288)), // initial_max_stream_data_bidi_local
    param(0x08, varint(100)), // initial_max_streams_bidi
    param(0x0f, scid), // initial_source_connection_id
  ]);
}

/** What buildQuicInitial made, with the facts a test or a log wants. */
export interface QuicInitial {
  /** The UDP payload: one protected Initial packet, 1200 bytes. */
  datagram: Buffer;
  /** The Destination Connection ID the keys derive from. */
  dcid: Buffer;
  /** The unprotected ClientHello it carries. */
  clientHello: Buffer;
}

/** Target UDP payload size of a client's Initial datagram (RFC 9000 §14.1). */
export const INITIAL_DATAGRAM_SIZE = 1200;

/** Builds a protected QUIC v1 client Initial carrying a ClientHello for `serverName`. */
export function buildQuicInitial(
  serverName: string,
  opts: { dcid?: Uint8Array; alpn?: string[]; packetNumber?: number } = {},
): QuicInitial {
  const dcid = Buffer.from(opts.dcid ?? randomBytes(8));
  const scid = randomBytes(8);
  const pn = opts.packetNumber ?? 0;
  const keyShare = generateKeyPairSync('x25519')
    .publicKey.export({ type: 'spki', format: 'der' })
    .subarray(-32);
  const clientHello = buildClientHello({
    serverName,
    alpn: opts.alpn ?? ['h3'],
    random: randomBytes(32),
    keyShare,
    quicTransportParameters: transportParameters(scid),
  });
  const pnLength = 4;
  const pnBytes = Buffer.alloc(4);
  pnBytes.writeUInt32BE(pn >>> 0);
  const headerWithoutLength = Buffer.concat([
    Buffer.from([0xc0 | (pnLength - 1)]), // long header, fixed bit, type Initial (0b00)
    Buffer.from([0, 0, 0, 1]), // version 1
    Buffer.from([dcid.length]),
    dcid,
    Buffer.from([scid.length]),
    scid,
    varint(0), // token length
  ]);
  const tagLength = 16;
  const lengthFieldSize = 2;
  const payloadLength =
    INITIAL_DATAGRAM_SIZE - headerWithoutLength.length - lengthFieldSize - pnLength - tagLength;
  const crypto = Buffer.concat([Buffer.from([0x06]), varint(0), varint(clientHello.length), clientHello]);
  if (crypto.length > payloadLength)
    throw new RangeError(`ClientHello for ${serverName} does not fit one Initial`);
  const plaintext = Buffer.concat([crypto, Buffer.alloc(payloadLength - crypto.length)]); // PADDING frames
  const lengthField = Buffer.from([
    0x40 | ((pnLength + payloadLength + tagLength) >> 8),
    (pnLength + payloadLength + tagLength) & 0xff,
  ]);
  const header = Buffer.concat([headerWithoutLength, lengthField, pnBytes]);

  const keys = clientInitialKeys(dcid);
  const nonce = Buffer.from(keys.iv);
  for (let i = 0; i < 4; i++) nonce[nonce.length - 1 - i]! ^= pnBytes[pnBytes.length - 1 - i]!;
  const gcm = createCipheriv('aes-128-gcm', keys.key, nonce);
  gcm.setAAD(header);
  const ciphertext = Buffer.concat([gcm.update(plaintext), gcm.final(), gcm.getAuthTag()]);
  const packet = Buffer.concat([header, ciphertext]);

  const pnOffset = header.length - pnLength;
  const sample = packet.subarray(pnOffset + 4, pnOffset + 20);
  const ecb = createCipheriv('aes-128-ecb', keys.hp, null);
  ecb.setAutoPadding(false);
  const mask = ecb.update(sample);
  packet[0]! ^= mask[0]! & 0x0f;
  for (let i = 0; i < pnLength; i++) packet[pnOffset + i]! ^= mask[1 + i]!;
  return { datagram: packet, dcid, clientHello };
}
