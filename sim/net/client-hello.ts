/**
 * A TLS 1.3 ClientHello handshake message (no record layer), as a QUIC client puts in its Initial's
 * CRYPTO frames. Pure apart from the randomness it is given.
 */

/** What goes into the ClientHello. */
export interface ClientHelloSpec {
  /** Server name (SNI). */
  serverName: string;
  /** ALPN protocols, e.g. ["h3"]. */
  alpn: string[];
  /** 32 random bytes. */
  random: Uint8Array;
  /** The X25519 key share (32 bytes). */
  keyShare: Uint8Array;
  /** QUIC transport parameters extension body; omitted when undefined (plain TLS). */
  quicTransportParameters?: Uint8Array;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function ext(type: number, body: Buffer): Buffer {
  return Buffer.concat([u16(type), u16(body.length), body]);
}

function vec8(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([body.length]), body]);
}

function vec16(body: Buffer): Buffer {
  return Buffer.concat([u16(body.length), body]);
}

/** Encodes the ClientHello handshake message (type 1, 3-byte length, body). */
export function buildClientHello(spec: ClientHelloSpec): Buffer {
  const name = Buffer.from(spec.serverName, 'ascii');
  const extensions = [
    ext(0, vec16(Buffer.concat([Buffer.from([0]), vec16(name)]))), // server_name: host_name
    ext(10, vec16(Buffer.from([0x00, 0x1d, 0x00, 0x17]))), // supported_groups: x25519, secp256r1
    ext(13, vec16(Buffer.from([0x04, 0x03, 0x08, 0x04, 0x04, 0x01]))), // signature_algorithms
    ext(16, vec16(Buffer.concat(spec.alpn.map((p) => vec8(Buffer.from(p, 'ascii')))))), // ALPN
    ext(43, vec8(Buffer.from([0x03, 0x04]))), // supported_versions: TLS 1.3
    ext(45, vec8(Buffer.from([0x01]))), // psk_key_exchange_modes: psk_dhe_ke
    ext(51, vec16(Buffer.concat([u16(0x001d), vec16(Buffer.from(spec.keyShare))]))), // key_share
  ];
  if (spec.quicTransportParameters) extensions.push(ext(57, Buffer.from(spec.quicTransportParameters)));
  const body = Buffer.concat([
    u16(0x0303), // legacy_version
    Buffer.from(spec.random),
    vec8(Buffer.alloc(0)), // legacy_session_id: empty in QUIC
    vec16(Buffer.from([0x13, 0x01, 0x13, 0x02, 0x13, 0x03])), // cipher suites
    vec8(Buffer.from([0x00])), // compression: null
    vec16(Buffer.concat(extensions)),
  ]);
  const head = Buffer.from([1, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]);
  return Buffer.concat([head, body]);
}
