/**
 * Every needle found in one pass over the bytes: an Aho-Corasick automaton whose transitions are
 * worked out into dense rows (a DFA) over the byte classes the needles use as a scan first needs
 * them, so each input byte costs two table reads whatever the number of needles. Bytes no needle holds share one class and send the automaton
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
  /**
   * The trie: each state's first child and next sibling, and the class of the edge into it (most
   * states have one child: hash and base64 needles share little). The root's children are by class.
   */
  readonly #firstChild: Int32Array;
  readonly #sibling: Int32Array;
  readonly #label: Uint8Array;
  readonly #rootChild: Int32Array;
  /** Each state's failure state: the longest proper suffix of its path that is a trie path. */
  readonly #fail: Int32Array;
  /**
   * The DFA, lazily: the states a scan has been in get a row (`#rowAt[s]`: its offset in `#rows`,
   * -1 for none), whose entries (next state + 1; 0 while not yet worked out) are filled the first
   * time a scan needs them. Building costs one step per needle byte, not one per state and class,
   * and a scan of ordinary traffic only ever visits the few states near the root.
   */
  readonly #rowAt: Int32Array;
  #rows: Int32Array;
  #rowsUsed = 0;
  /** Needles ending at each state (its own and its suffixes'), as [start index, count] into #outs. */
  readonly #outStart: Int32Array;
  readonly #outCount: Int32Array;
  readonly #outs: Int32Array;
  readonly #lengths: Int32Array;
  readonly #needles: Uint8Array[];
  readonly #prefix: number;

  /**
   * `prefix`: the automaton holds at most this many first bytes of each needle; where a longer
   * needle's first bytes are found, the rest is compared byte for byte. Hashes and their base64 are
   * 24 to 64 bytes long and share nothing: this keeps the automaton (and its building) less than half
   * as big, at no cost to what is found. A needle whose rest runs past the end of the bytes searched
   * is not found there (a chunked stream must keep a needle's tail in one chunk).
   */
  constructor(needles: Uint8Array[], opts: { prefix?: number } = {}) {
    this.#needles = needles;
    this.#prefix = Math.max(1, opts.prefix ?? 16);
    let classes = 1;
    for (const n of needles)
      for (let i = 0; i < n.length; i++) if (this.#classOf[n[i]!] === 0) this.#classOf[n[i]!] = classes++;
    this.#classes = classes;
    this.#lengths = Int32Array.from(needles, (n) => n.length);
    const P = this.#prefix;
    // At most one state per needle byte kept, plus the root.
    const most = 1 + needles.reduce((n, x) => n + Math.min(P, x.length), 0);
    const firstChild = new Int32Array(most).fill(-1);
    const sibling = new Int32Array(most).fill(-1);
    const label = new Uint8Array(most);
    const rootChild = new Int32Array(classes).fill(-1);
    const ending: (number[] | undefined)[] = [undefined];
    let states = 1;
    const child = (s: number, c: number): number => {
      if (s === 0) return rootChild[c]!;
      for (let k = firstChild[s]!; k >= 0; k = sibling[k]!) if (label[k] === c) return k;
      return -1;
    };
    needles.forEach((n, i) => {
      if (n.length === 0) return;
      let s = 0;
      const kept = Math.min(P, n.length);
      for (let j = 0; j < kept; j++) {
        const c = this.#classOf[n[j]!]!;
        let t = child(s, c);
        if (t < 0) {
          t = states++;
          label[t] = c;
          if (s === 0) rootChild[c] = t;
          else {
            sibling[t] = firstChild[s]!;
            firstChild[s] = t;
          }
          ending.push(undefined);
        }
        s = t;
      }
      const list = ending[s] ?? [];
      list.push(i);
      ending[s] = list;
    });
    this.#firstChild = firstChild;
    this.#sibling = sibling;
    this.#label = label;
    this.#rootChild = rootChild;
    // Breadth first: a state's failure is found from its parent's, by the classic walk down the
    // failure chain; its outputs take in its failure state's.
    const fail = new Int32Array(states);
    const outs: (number[] | undefined)[] = ending;
    const queue = new Int32Array(states);
    let tail = 0;
    for (let c = 1; c < classes; c++) if (rootChild[c]! > 0) queue[tail++] = rootChild[c]!;
    for (let head = 0; head < tail; head++) {
      const s = queue[head]!;
      for (let t = firstChild[s]!; t >= 0; t = sibling[t]!) {
        const c = label[t]!;
        let f = fail[s]!;
        let to = child(f, c);
        while (to < 0 && f !== 0) {
          f = fail[f]!;
          to = child(f, c);
        }
        fail[t] = Math.max(to, 0);
        const inherited = outs[fail[t]!];
        if (inherited) outs[t] = [...(outs[t] ?? []), ...inherited];
        queue[tail++] = t;
      }
    }
    this.#fail = fail;
    this.#rowAt = new Int32Array(states).fill(-1);
    this.#rows = new Int32Array(64 * classes);
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

  /** The automaton's move from state s on class c, worked out (and kept) when first asked. */
  #step(s: number, c: number): number {
    let row = this.#rowAt[s]!;
    if (row < 0) {
      if (this.#rowsUsed + this.#classes > this.#rows.length) {
        const grown = new Int32Array(this.#rows.length * 2);
        grown.set(this.#rows);
        this.#rows = grown;
      }
      row = this.#rowsUsed;
      this.#rowsUsed += this.#classes;
      this.#rowAt[s] = row;
    }
    const known = this.#rows[row + c]!;
    if (known !== 0) return known - 1;
    let t: number;
    if (c === 0) t = 0;
    else if (s === 0) t = Math.max(0, this.#rootChild[c]!);
    else {
      t = -1;
      for (let k = this.#firstChild[s]!; k >= 0; k = this.#sibling[k]!)
        if (this.#label[k] === c) {
          t = k;
          break;
        }
      if (t < 0) t = this.#step(this.#fail[s]!, c);
    }
    // The recursion may have grown the rows: write through the current array.
    this.#rows[row + c] = t + 1;
    return t;
  }

  /** True when the needle's bytes past its prefix come at `at` in the bytes. */
  #restFollows(needle: number, bytes: Uint8Array, at: number): boolean {
    const n = this.#needles[needle]!;
    const P = this.#prefix;
    if (at + n.length - P > bytes.length) return false;
    for (let j = P; j < n.length; j++) if (bytes[at + j - P] !== n[j]) return false;
    return true;
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
    const classOf = this.#classOf;
    const rowAt = this.#rowAt;
    const outCount = this.#outCount;
    let rows = this.#rows;
    let s = state;
    for (let i = 0; i < bytes.length; i++) {
      const c = classOf[bytes[i]!]!;
      const row = rowAt[s]!;
      const known = row >= 0 ? rows[row + c]! : 0;
      if (known !== 0) s = known - 1;
      else {
        s = this.#step(s, c);
        rows = this.#rows;
      }
      const n = outCount[s]!;
      if (n > 0) {
        const from = this.#outStart[s]!;
        for (let k = 0; k < n; k++) {
          const needle = this.#outs[from + k]!;
          const len = this.#lengths[needle]!;
          if (len <= this.#prefix) found({ needle, start: i + 1 - len });
          else if (this.#restFollows(needle, bytes, i + 1)) found({ needle, start: i + 1 - this.#prefix });
        }
      }
    }
    return s;
  }
}
