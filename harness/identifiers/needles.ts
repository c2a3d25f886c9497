/**
 * What to search the traffic for: every identifier value in the forms apps send it in
 * (../shared/reference/IDENTIFIERS.md §2). Each needle says which identifier it stands for and its
 * encoding chain, e.g. `sha256(lower(plain))` or `base64url(plain)`, so a match can name both.
 *
 * The variants of a value (separators, case, an IMEI without its check digit, an Android ID without
 * its leading zeros) are each encoded plain, URL-encoded, as hex, as base64 in the standard and URL
 * alphabets at each of the three alignments it can have inside a longer base64 string, and hashed
 * (MD5, SHA-1, SHA-256) as lower and upper hex and as base64. Containers (gzip bodies, base64 bodies,
 * URL-encoded forms) are undone on the traffic's side, not here.
 */
import { createHash } from 'node:crypto';
import type { IdKind } from './read-identifiers.js';

/** One byte string to find. */
export interface Needle {
  /** The identifier's index in the list given to `needlesFor`. */
  id: number;
  /** How the value was turned into these bytes, outermost first. */
  encoding: string;
  bytes: Buffer;
}

/** Shorter needles match by chance: a base64 piece of a short value is left out below this. */
const MIN_NEEDLE = 8;

/** The forms of one value before encoding, each with its name in the chain. */
export function variants(kind: IdKind, value: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [{ name: 'plain', text: value }];
  const add = (name: string, text: string) => {
    if (text.length > 0 && !out.some((v) => v.text === text)) out.push({ name, text });
  };
  add('lower(plain)', value.toLowerCase());
  add('upper(plain)', value.toUpperCase());
  if (kind === 'imei' && /^\d{15}$/.test(value)) add('plain without check digit', value.slice(0, 14));
  if (kind === 'wifi-mac' || kind === 'bluetooth-mac' || kind === 'wifi-bssid') {
    const hex = value.toLowerCase().replace(/[^0-9a-f]/g, '');
    const pairs = hex.match(/../g) ?? [];
    for (const [sep, name] of [
      [':', 'colons'],
      ['-', 'dashes'],
      ['', 'no separator'],
    ] as const) {
      add(`lower(${name})`, pairs.join(sep));
      add(`upper(${name})`, pairs.join(sep).toUpperCase());
    }
  }
  if (kind === 'android-id') add('plain without leading zeros', value.replace(/^0+/, ''));
  if (kind === 'advertising-id') {
    add('lower(no dashes)', value.toLowerCase().replace(/-/g, ''));
    add('upper(no dashes)', value.toUpperCase().replace(/-/g, ''));
  }
  return out;
}

/** The base64 characters that only `bytes` decide, when they start `shift` bytes into a stream. */
export function base64Piece(bytes: Buffer, shift: 0 | 1 | 2, url: boolean): string {
  const full = Buffer.concat([Buffer.alloc(shift), bytes]);
  const text = full.toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
  // Chars before `start` hold bits of the shift bytes; chars from `end` on hold bits of what follows.
  const start = Math.ceil((shift * 8) / 6);
  const end = Math.floor((full.length * 8) / 6);
  return text.slice(start, end);
}

const HASHES = ['md5', 'sha1', 'sha256'] as const;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32, upper case, without padding (how a value hides in a DNS label). */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let acc = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(acc << (5 - bits)) & 31];
  return out;
}

/** Every needle for the identifiers, in one list for one automaton. */
export function needlesFor(ids: { kind: IdKind; value: string }[]): Needle[] {
  const out: Needle[] = [];
  const seen = new Set<string>();
  const push = (id: number, encoding: string, bytes: Buffer) => {
    if (bytes.length === 0) return;
    const key = `${id}\0${bytes.toString('latin1')}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ id, encoding, bytes });
  };
  ids.forEach(({ kind, value }, id) => {
    for (const v of variants(kind, value)) {
      const raw = Buffer.from(v.text, 'utf8');
      push(id, v.name, raw);
      const url = encodeURIComponent(v.text);
      if (url !== v.text) push(id, `urlencode(${v.name})`, Buffer.from(url));
      push(id, `hex(${v.name})`, Buffer.from(raw.toString('hex')));
      push(id, `upper(hex(${v.name}))`, Buffer.from(raw.toString('hex').toUpperCase()));
      // Base32 from the value's first byte (a DNS label holds the value alone), either case.
      const b32 = base32(raw);
      if (b32.length >= MIN_NEEDLE) {
        push(id, `base32(${v.name})`, Buffer.from(b32));
        push(id, `lower(base32(${v.name}))`, Buffer.from(b32.toLowerCase()));
      }
      for (const [alphabet, isUrl] of [
        ['base64', false],
        ['base64url', true],
      ] as const) {
        for (const shift of [0, 1, 2] as const) {
          const piece = base64Piece(raw, shift, isUrl);
          if (piece.length >= MIN_NEEDLE) push(id, `${alphabet}(${v.name})`, Buffer.from(piece));
        }
      }
      for (const h of HASHES) {
        const digest = createHash(h).update(raw).digest();
        push(id, `${h}(${v.name})`, Buffer.from(digest.toString('hex')));
        push(id, `upper(${h}(${v.name}))`, Buffer.from(digest.toString('hex').toUpperCase()));
        push(id, `base64(${h}(${v.name}))`, Buffer.from(digest.toString('base64').replace(/=+$/, '')));
        push(id, `base64url(${h}(${v.name}))`, Buffer.from(digest.toString('base64url')));
      }
    }
  });
  return out;
}

/** A needle found at a place in some bytes. */
export interface NeedleHit {
  needle: number;
  start: number;
  end: number;
}

/**
 * The hits that say the most: a hit inside a longer hit of the same identifier (the IMEI without its
 * check digit inside the whole IMEI) is the same sending and is left out.
 */
export function outermostHits(hits: NeedleHit[], needles: Needle[]): NeedleHit[] {
  const sorted = [...hits].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: NeedleHit[] = [];
  for (const h of sorted) {
    const id = needles[h.needle]!.id;
    const inside = out.some((o) => needles[o.needle]!.id === id && o.start <= h.start && h.end <= o.end);
    if (!inside) out.push(h);
  }
  return out;
}
