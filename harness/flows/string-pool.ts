/**
 * One copy of each string a flow table keeps (names, ALPN ids, DNS answers), stored flat. Strings
 * parsed off the wire character by character are chains of small pieces in V8 (32 bytes a
 * character); a capture with 100,000 flows would spend tens of megabytes on them, and the same few
 * thousand names recur across flows.
 */

/** Strings remembered at most; past this, strings are still flattened but no longer shared. */
const DEFAULT_MAX = 100_000;

export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly max: number = DEFAULT_MAX) {}

  /** The pooled copy of s (flat, shared with every earlier equal string). */
  get(s: string): string {
    const hit = this.pool.get(s);
    if (hit !== undefined) return hit;
    const copy = flat(s);
    if (this.pool.size < this.max) this.pool.set(copy, copy);
    return copy;
  }

  /** Strings held. */
  get size(): number {
    return this.pool.size;
  }
}

/** A flat copy of s: one contiguous string, whatever pieces s was built from. */
export function flat(s: string): string {
  if (s.length < 2) return s;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return JSON.parse(JSON.stringify(s)) as string;
  }
  return Buffer.from(s, 'latin1').toString('latin1');
}
