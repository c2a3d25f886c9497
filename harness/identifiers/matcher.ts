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
    // The trie, with sparse children while building.
    const children: Map<number, number>[] = [new Map()];
    const ending: number[][] = [[]];
    needles.forEach((n, i) => {
      if (n.length === 0) return;
      let s = 0;
      for (const b of n) {
        const c = this.#classOf[b]!;
        let t = children[s]!.get(c);
        if (t === undefined) {
          t = children.length;
          children.push(new Map());
          ending.push([]);
          children[s]!.set(c, t);
        }
        s = t;
      }
      ending[s]!.push(i);
    });
    const states = children.length;
    const next = new Int32Array(states * classes);
    const fail = new Int32Array(states);
    const outs: number[][] = ending.map((e) => [...e]);
    // Breadth first: each state's row is its trie children, else its failure state's row.
    const queue: number[] = [];
    for (let c = 0; c < classes; c++) {
      const t = children[0]!.get(c);
      if (t !== undefined && c !== 0) {
        next[c] = t;
        fail[t] = 0;
        queue.push(t);
      }
    }
    for (let qi = 0; qi < queue.length; qi++) {
      const s = queue[qi]!;
      outs[s]!.push(...outs[fail[s]!]!);
      for (let c = 0; c < classes; c++) {
        const t = children[s]!.get(c);
        if (t !== undefined && c !== 0) {
          next[s * classes + c] = t;
          fail[t] = next[fail[s]! * classes + c]!;
          queue.push(t);
        } else {
          next[s * classes + c] = next[fail[s]! * classes + c]!;
        }
      }
    }
    this.#next = next;
    this.#outStart = new Int32Array(states);
    this.#outCount = new Int32Array(states);
    const flat: number[] = [];
    outs.forEach((o, s) => {
      this.#outStart[s] = flat.length;
      this.#outCount[s] = o.length;
      flat.push(...o);
    });
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
