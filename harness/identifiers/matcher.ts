/**
 * Every needle found in one pass over the bytes: an Aho-Corasick automaton compiled to a dense
 * table (a DFA) over the byte classes the needles use, so each input byte costs one table read
 * whatever the number of needles. Bytes no needle holds share one class and send the automaton
 * back to its root.
 */

/** A needle's end in the searched bytes. */
export interface MatchAt {
  /** Index of the needle in the list the matcher was built from. */
  needle: number;
  /** Offset of its first byte. */
  start: number;
}

export class MultiMatcher {
  /** Byte → class (0: in no needle). */
  readonly #classOf = new Uint8Array(256);
  readonly #classes: number;
  /** state * classes + class → next state. */
  readonly #next: Int32Array;
  /** Needles ending at each state (its own and its suffixes'), as [start index, count] into #outs. */
  readonly #outStart: Int32Array;
  readonly #outCount: Int32Array;
  readonly #outs: Int32Array;
  readonly #lengths: Int32Array;

  constructor(needles: Uint8Array[]) {
    let classes = 1;
    for (const n of needles) for (const b of n) if (this.#classOf[b] === 0) this.#classOf[b] = classes++;
    this.#classes = classes;
    this.#lengths = Int32Array.from(needles, (n) => n.length);
    // The trie, straight into the dense table (-1: no edge yet); at most one state per needle byte.
    const most = 1 + needles.reduce((n, x) => n + x.length, 0);
    const trie = new Int32Array(most * classes).fill(-1);
    const ending: (number[] | undefined)[] = [undefined];
    let states = 1;
    needles.forEach((n, i) => {
      if (n.length === 0) return;
      let s = 0;
      for (const b of n) {
        const at = s * classes + this.#classOf[b]!;
        let t = trie[at]!;
        if (t < 0) {
          t = states++;
          trie[at] = t;
          ending.push(undefined);
        }
        s = t;
      }
      const list = ending[s] ?? [];
      list.push(i);
      ending[s] = list;
    });
    const next = trie.subarray(0, states * classes);
    const fail = new Int32Array(states);
    const outs: (number[] | undefined)[] = ending;
    // Breadth first: a missing edge takes the failure state's (already complete) row.
    const queue = new Int32Array(states);
    let tail = 0;
    for (let c = 0; c < classes; c++) {
      const t = next[c]!;
      if (t > 0 && c !== 0) {
        fail[t] = 0;
        queue[tail++] = t;
      } else next[c] = 0;
    }
    for (let head = 0; head < tail; head++) {
      const s = queue[head]!;
      const f = fail[s]!;
      const inherited = outs[f];
      if (inherited) outs[s] = [...(outs[s] ?? []), ...inherited];
      const row = s * classes;
      const frow = f * classes;
      for (let c = 0; c < classes; c++) {
        const t = next[row + c]!;
        if (t > 0 && c !== 0) {
          fail[t] = next[frow + c]!;
          queue[tail++] = t;
        } else next[row + c] = next[frow + c]!;
      }
    }
    this.#next = next;
    this.#outStart = new Int32Array(states);
    this.#outCount = new Int32Array(states);
    const flat: number[] = [];
    for (let s = 0; s < states; s++) {
      const o = outs[s];
      this.#outStart[s] = flat.length;
      this.#outCount[s] = o?.length ?? 0;
      if (o) for (const x of o) flat.push(x);
    }
    this.#outs = Int32Array.from(flat);
  }

  /** Number of automaton states (for the benchmark's memory figures). */
  get states(): number {
    return this.#outStart.length;
  }

  /**
   * Searches `bytes`; calls `found` for every needle occurrence, overlapping ones included.
   * `state` carries the automaton across chunks of one stream: pass what the previous call returned,
   * and a needle that crosses the boundary is found (its start is then relative to this chunk, < 0).
   */
  search(bytes: Uint8Array, found: (m: MatchAt) => void, state = 0): number {
    const next = this.#next;
    const classOf = this.#classOf;
    const classes = this.#classes;
    const outCount = this.#outCount;
    let s = state;
    for (let i = 0; i < bytes.length; i++) {
      s = next[s * classes + classOf[bytes[i]!]!]!;
      const n = outCount[s]!;
      if (n > 0) {
        const from = this.#outStart[s]!;
        for (let k = 0; k < n; k++) {
          const needle = this.#outs[from + k]!;
          found({ needle, start: i + 1 - this.#lengths[needle]! });
        }
      }
    }
    return s;
  }
}
