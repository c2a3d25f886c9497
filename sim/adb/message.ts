/**
 * ADB transport messages: a 24-byte header of six little-endian uint32 (command, arg0, arg1,
 * data_length, data_check, magic) and the payload. Pure: bytes in, plain data out.
 */

export const A_CNXN = 0x4e584e43;
export const A_AUTH = 0x48545541;
export const A_OPEN = 0x4e45504f;
export const A_OKAY = 0x59414b4f;
export const A_CLSE = 0x45534c43;
export const A_WRTE = 0x45545257;

/** Protocol version this adbd announces (checksums optional from here on). */
export const A_VERSION = 0x01000001;
/** Largest payload this adbd announces and accepts. */
export const MAX_PAYLOAD = 1024 * 1024;
/** Header size in bytes. */
export const HEADER_SIZE = 24;

/** AUTH arg0: the device's random token. */
export const AUTH_TOKEN = 1;
/** AUTH arg0: the host's signature of the token. */
export const AUTH_SIGNATURE = 2;
/** AUTH arg0: the host's public key, sent when no key was accepted. */
export const AUTH_RSAPUBLICKEY = 3;

/** One transport message. */
export interface AdbMessage {
  /** The command word (A_CNXN, A_OPEN, …). */
  command: number;
  /** First argument (meaning depends on the command: version, local id, auth type). */
  arg0: number;
  /** Second argument (max payload, remote id, …). */
  arg1: number;
  /** Payload bytes (may be empty). */
  data: Buffer;
}

/** Plain byte sum of the payload, as the header's data_check field carries it. */
export function dataCheck(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return sum >>> 0;
}

/** Header plus payload, ready for the socket. */
export function encodeMessage(msg: AdbMessage): Buffer {
  const out = Buffer.allocUnsafe(HEADER_SIZE + msg.data.length);
  out.writeUInt32LE(msg.command >>> 0, 0);
  out.writeUInt32LE(msg.arg0 >>> 0, 4);
  out.writeUInt32LE(msg.arg1 >>> 0, 8);
  out.writeUInt32LE(msg.data.length, 12);
  out.writeUInt32LE(dataCheck(msg.data), 16);
  out.writeUInt32LE((msg.command ^ 0xffffffff) >>> 0, 20);
  msg.data.copy(out, HEADER_SIZE);
  return out;
}

/** The four-letter name of a command word ("CNXN"), or its hex value when unknown. */
export function commandName(command: number): string {
  const known = [A_CNXN, A_AUTH, A_OPEN, A_OKAY, A_CLSE, A_WRTE];
  if (!known.includes(command)) return `0x${(command >>> 0).toString(16).padStart(8, '0')}`;
  const b = Buffer.alloc(4);
  b.writeUInt32LE(command >>> 0);
  return b.toString('latin1');
}
