/** CIDR prefixes as bytes, for allowlist `ip` and `cidr` rules; addresses are read by harness/packets/ip-text.ts. */
import { formatIp, parseIp } from './ip-text.js';

/** An address prefix: the network's bytes (4 for IPv4, 16 for IPv6) and how many leading bits count. */
export interface IpPrefix {
  /** Network address bytes. */
  bytes: Uint8Array;
  /** Prefix length in bits (0–32 for IPv4, 0–128 for IPv6). */
  bits: number;
}

/** Why a CIDR text is not acceptable, or the prefix it names. */
export type CidrParse = { ok: true; prefix: IpPrefix } | { ok: false; problem: string };

/** Parses "10.0.0.0/8" or "2001:db8::/32". Refuses host bits set past the prefix, naming the network meant. */
export function parseCidr(text: string): CidrParse {
  const slash = text.indexOf('/');
  if (slash < 0) return { ok: false, problem: 'is not a CIDR (expected ADDRESS/BITS)' };
  const bytes = parseIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (!bytes) return { ok: false, problem: 'is not a CIDR (the address part is not an IP address)' };
  const max = bytes.length * 8;
  if (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max) {
    return { ok: false, problem: `is not a CIDR (prefix length must be 0–${max})` };
  }
  const bits = Number(bitsText);
  const network = maskTo(bytes, bits);
  if (!network.every((b, i) => b === bytes[i])) {
    return {
      ok: false,
      problem: `has host bits set past /${bits}; did you mean ${formatIp(network)}/${bits}?`,
    };
  }
  return { ok: true, prefix: { bytes: network, bits } };
}

function maskTo(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * True when the address lies inside the prefix. IPv4-mapped IPv6 addresses match IPv4 prefixes. The
 * address may be given as text or, to save parsing it for every rule, as parseIp()'s bytes.
 */
export function prefixContains(prefix: IpPrefix, addr: string | Uint8Array): boolean {
  let bytes = typeof addr === 'string' ? parseIp(addr) : addr;
  if (!bytes) return false;
  if (bytes.length === 16 && prefix.bytes.length === 4 && isV4Mapped(bytes)) bytes = bytes.subarray(12);
  if (bytes.length !== prefix.bytes.length) return false;
  const full = prefix.bits >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== prefix.bytes[i]) return false;
  const rest = prefix.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full]! & mask) === prefix.bytes[full];
}

/** True when both name the same address (so "2001:DB8::1" equals "2001:db8:0::1"); text or parseIp() bytes. */
export function sameIp(a: Uint8Array, addr: string | Uint8Array): boolean {
  const b = typeof addr === 'string' ? parseIp(addr) : addr;
  if (!b) return false;
  if (a.length === 4 && b.length === 16 && isV4Mapped(b)) return a.every((x, i) => x === b[12 + i]);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
