/**
 * Two content readers over one flow table (the namer and the identifier search's stream collector):
 * each keeps its own state and stops on its own; the table stops asking when both have.
 */
import type { Flow } from './flow.js';
import type { ContentReader, ReadFlow } from './flow-table.js';

interface Pair<A, B> {
  a: A | undefined;
  b: B | undefined;
  /** Each reader's view of the flow, made once when it opens. */
  va: ReadFlow<A>;
  vb: ReadFlow<B>;
}

/**
 * One reader's view of a flow: `reading` is that reader's own state. Made once per flow; it reads
 * and writes through to the pair and stops the table asking when both readers are done.
 */
class View<A, B, S> implements ReadFlow<S> {
  constructor(
    private readonly f: ReadFlow<Pair<A, B>>,
    private readonly pair: Pair<A, B>,
    private readonly first: boolean,
  ) {}
  get flow() {
    return this.f.flow;
  }
  get midstream() {
    return this.f.midstream;
  }
  get reading(): S | undefined {
    return (this.first ? this.pair.a : this.pair.b) as S | undefined;
  }
  set reading(s: S | undefined) {
    if (this.first) this.pair.a = s as unknown as A;
    else this.pair.b = s as unknown as B;
    if (this.pair.a === undefined && this.pair.b === undefined) this.f.reading = undefined;
  }
  swap(): void {
    this.f.swap();
  }
}

export function bothReaders<A, B>(
  first: ContentReader<A>,
  second: ContentReader<B>,
): ContentReader<Pair<A, B>> {
  return {
    open(f, p) {
      const pair = { a: undefined, b: undefined } as Pair<A, B>;
      // The table keeps one ReadFlow per flow: the views are made once, here. (What a reader sets
      // during open() is replaced by what open() returns.)
      pair.va = new View<A, B, A>(f, pair, true);
      pair.vb = new View<A, B, B>(f, pair, false);
      pair.a = first.open(pair.va, p);
      pair.b = second.open(pair.vb, p);
      return pair.a === undefined && pair.b === undefined ? undefined : pair;
    },
    tcp(f, p, fromOrig, seq, flags) {
      const pair = f.reading!;
      if (pair.a !== undefined) first.tcp(pair.va, p, fromOrig, seq, flags);
      if (pair.b !== undefined) second.tcp(pair.vb, p, fromOrig, seq, flags);
    },
    udp(f, p, fromOrig) {
      const pair = f.reading!;
      if (pair.a !== undefined) first.udp(pair.va, p, fromOrig);
      if (pair.b !== undefined) second.udp(pair.vb, p, fromOrig);
    },
    finish(flow: Flow, key: Flow) {
      first.finish(flow, key);
      second.finish(flow, key);
    },
  };
}
