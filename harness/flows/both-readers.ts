/**
 * Two content readers over one flow table (the namer and the identifier search's stream collector):
 * each keeps its own state and stops on its own; the table stops asking when both have.
 */
import type { Flow } from './flow.js';
import type { ContentReader, ReadFlow } from './flow-table.js';

interface Pair<A, B> {
  a: A | undefined;
  b: B | undefined;
}

/** A view of the flow for one of the two readers: its `reading` is that reader's own state. */
function view<S>(
  f: ReadFlow<unknown>,
  get: () => S | undefined,
  set: (s: S | undefined) => void,
): ReadFlow<S> {
  return {
    get flow() {
      return f.flow;
    },
    get reading() {
      return get();
    },
    set reading(s: S | undefined) {
      set(s);
    },
    get midstream() {
      return f.midstream;
    },
    swap: () => f.swap(),
  };
}

export function bothReaders<A, B>(
  first: ContentReader<A>,
  second: ContentReader<B>,
): ContentReader<Pair<A, B>> {
  const views = (f: ReadFlow<Pair<A, B>>) => {
    const pair = f.reading!;
    const done = () => {
      if (pair.a === undefined && pair.b === undefined) f.reading = undefined;
    };
    return {
      pair,
      a: view<A>(
        f as ReadFlow<unknown>,
        () => pair.a,
        (s) => {
          pair.a = s;
          done();
        },
      ),
      b: view<B>(
        f as ReadFlow<unknown>,
        () => pair.b,
        (s) => {
          pair.b = s;
          done();
        },
      ),
    };
  };
  return {
    open(f, p) {
      const pair: Pair<A, B> = { a: undefined, b: undefined };
      const fa = view<A>(
        f as ReadFlow<unknown>,
        () => pair.a,
        (s) => {
          pair.a = s;
        },
      );
      const fb = view<B>(
        f as ReadFlow<unknown>,
        () => pair.b,
        (s) => {
          pair.b = s;
        },
      );
      pair.a = first.open(fa, p);
      pair.b = second.open(fb, p);
      return pair.a === undefined && pair.b === undefined ? undefined : pair;
    },
    tcp(f, p, fromOrig, seq, flags) {
      const v = views(f);
      if (v.pair.a !== undefined) first.tcp(v.a, p, fromOrig, seq, flags);
      if (v.pair.b !== undefined) second.tcp(v.b, p, fromOrig, seq, flags);
    },
    udp(f, p, fromOrig) {
      const v = views(f);
      if (v.pair.a !== undefined) first.udp(v.a, p, fromOrig);
      if (v.pair.b !== undefined) second.udp(v.b, p, fromOrig);
    },
    finish(flow: Flow, key: Flow) {
      first.finish(flow, key);
      second.finish(flow, key);
    },
  };
}
