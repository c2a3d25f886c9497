/** IP addresses and CIDR prefixes as bytes, for allowlist `ip` and `cidr` rules. */

/** An address prefix: the network's bytes (4 for IPv4, 16 for IPv6) and how many leading bits count. */
export interface IpPrefix {
  /** Network address bytes. */
  bytes: Uint8Array;
  /** Prefix length in bits (0–32 for IPv4, 0–128 for IPv6). */
  bits: number;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseIpv4(text: string): Uint8Array | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = m[i + 1]!;
    // "010" is octal to some parsers and decimal to others: refuse it rather than guess.
    if (part.length > 1 && part.startsWith('0')) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  let head = text;
  let v4tail: Uint8Array | undefined;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    v4tail = parseIpv4(text.slice(lastColon + 1));
    if (!v4tail) return undefined;
    // Keep the colon(s) so "::1.2.3.4" still splits into an empty head and tail.
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const left = group(halves[0]!);
  const right = halves.length === 2 ? group(halves[1]!) : [];
  const total = left.length + right.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const words = [...left, ...Array<string>(8 - total).fill('0'), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return undefined;
    const n = Number.parseInt(w, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  if (v4tail) out.set(v4tail, 12);
  return out;
}

/** Parses an IPv4 or IPv6 address (no zone, no brackets) into 4 or 16 bytes; undefined if it is not one. */
export function parseIp(text: string): Uint8Array | undefined {
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
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

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
