/**
 * IP addresses as canonical text (dotted quad; IPv6 compressed and lower case per RFC 5952), read
 * straight from packet bytes. Each formatter keeps a small direct-mapped cache so that the common
 * case, an address seen before, costs a few integer compares and no allocation.
 */

const V4_SLOTS = 4096;
const V6_SLOTS = 2048;

/** Formats IPv4 addresses from packet bytes, remembering recent ones. */
export class Ipv4Text {
  private readonly keys = new Uint32Array(V4_SLOTS);
  private readonly texts: (string | undefined)[] = new Array(V4_SLOTS).fill(undefined);

  /** The address at bytes[off..off+4] as text. */
  read(bytes: Uint8Array, off: number): string {
    const v =
      ((bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!) >>> 0;
    const slot = Math.imul(v ^ (v >>> 15), 0x2c1b3c6d) >>> 20;
    const hit = this.texts[slot];
    if (hit !== undefined && this.keys[slot] === v) return hit;
    const text = formatIpv4(v);
    this.keys[slot] = v;
    this.texts[slot] = text;
    return text;
  }
}

/** Formats IPv6 addresses from packet bytes, remembering recent ones. */
export class Ipv6Text {
  private readonly keys = new Int32Array(V6_SLOTS * 4);
  private readonly texts: (string | undefined)[] = new Array(V6_SLOTS).fill(undefined);

  /** The address at bytes[off..off+16] as text. */
  read(bytes: Uint8Array, off: number): string {
    const a = word(bytes, off);
    const b = word(bytes, off + 4);
    const c = word(bytes, off + 8);
    const d = word(bytes, off + 12);
    const h = Math.imul(
      a ^ Math.imul(b, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b) ^ Math.imul(d, 0xc2b2ae35),
      0x27d4eb2f,
    );
    const slot = (h >>> 21) & (V6_SLOTS - 1);
    const k = slot * 4;
    const hit = this.texts[slot];
    const keys = this.keys;
    if (hit !== undefined && keys[k] === a && keys[k + 1] === b && keys[k + 2] === c && keys[k + 3] === d)
      return hit;
    const text = formatIpv6(bytes, off);
    keys[k] = a;
    keys[k + 1] = b;
    keys[k + 2] = c;
    keys[k + 3] = d;
    this.texts[slot] = text;
    return text;
  }
}

function word(bytes: Uint8Array, off: number): number {
  return (bytes[off]! << 24) | (bytes[off + 1]! << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
}

/** Dotted-quad text of a 32-bit IPv4 address value. */
export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/**
 * RFC 5952 text of the IPv6 address at bytes[off..off+16]: lower-case hex without leading zeros, the
 * longest run of two or more zero groups (the first of equals) shortened to "::", and IPv4-mapped
 * addresses (::ffff:0:0/96) ending in dotted quad.
 */
export function formatIpv6(bytes: Uint8Array, off: number): string {
  const groups = new Array<number>(8);
  for (let i = 0; i < 8; i++) groups[i] = (bytes[off + 2 * i]! << 8) | bytes[off + 2 * i + 1]!;
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0) {
    if (groups[5] === 0xffff) {
      return `::ffff:${bytes[off + 12]}.${bytes[off + 13]}.${bytes[off + 14]}.${bytes[off + 15]}`;
    }
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.map(hex).join(':');
  const head = groups.slice(0, bestStart).map(hex).join(':');
  const tail = groups
    .slice(bestStart + bestLen)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

function hex(g: number): string {
  return g.toString(16);
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

/** Canonical text of 4 or 16 address bytes: the packet layer's form (formatIpv4, formatIpv6). */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4(word(bytes, 0) >>> 0);
  return formatIpv6(bytes, 0);
}

/**
 * An address typed by a person (a device address, say) in the packet layer's text form, or undefined
 * when it is not an IP address: surrounding blanks and upper case are forgiven.
 */
export function canonicalIp(text: string): string | undefined {
  const bytes = parseIp(text.trim().toLowerCase());
  return bytes === undefined ? undefined : formatIp(bytes);
}
