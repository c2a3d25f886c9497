/**
 * A fuzz campaign on one target: fast-check generates inputs from the target's seeds (bytes set,
 * inserted, deleted, runs copied, the input cut short) and from random bytes, runs each, and shrinks a
 * failure to a small input. Crashes (a throw the reader does not document), slow inputs (over the
 * per-input limit) and the peak resident set are what it reports.
 */
import fc from 'fast-check';
import type { FuzzTarget } from './targets.js';

/** An edit of a seed: set a byte, insert one, delete one, or copy a run of bytes elsewhere. */
type Edit = [kind: number, at: number, value: number, length: number];

/** The parts joined into one new array. */
function join(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function applyEdits(seed: Uint8Array, edits: Edit[], cut: number | null): Uint8Array {
  let b = seed;
  for (const [kind, at, value, length] of edits) {
    if (b.length === 0) break;
    const i = at % b.length;
    if (kind === 0) {
      b = b === seed ? b.slice() : b;
      b[i] = value;
    } else if (kind === 1) {
      b = join(b.subarray(0, i), Uint8Array.of(value), b.subarray(i));
    } else if (kind === 2) {
      b = join(b.subarray(0, i), b.subarray(i + 1));
    } else {
      const from = value % b.length;
      b = join(b.subarray(0, i), b.slice(from, from + length), b.subarray(i));
    }
  }
  return cut === null ? b : b.subarray(0, cut % (b.length + 1));
}

/** Inputs for a target: mostly mutated seeds, some random bytes. */
export function inputs(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit: fc.Arbitrary<Edit> = fc.tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.nat(),
    fc.integer({ min: 0, max: 255 }),
    fc.integer({ min: 1, max: 64 }),
  );
  const mutated = fc
    .tuple(
      fc.nat({ max: Math.max(0, seeds.length - 1) }),
      fc.array(edit, { maxLength: 8 }),
      fc.option(fc.nat(), { freq: 4 }),
    )
    .map(([i, edits, cut]) => applyEdits(seeds[i] ?? new Uint8Array(0), edits, cut));
  return fc.oneof(
    { weight: 9, arbitrary: mutated },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
  );
}

/** What a campaign found. */
export interface CampaignResult {
  target: string;
  /** Inputs run. */
  inputs: number;
  /** fast-check's seed, to replay the campaign. */
  seed: number;
  /** Wall time, seconds. */
  seconds: number;
  /** The slowest input, ms. */
  slowestMs: number;
  /** The first failure (shrunk), if any: what was thrown and the input, hex. */
  failure?: { error: string; inputHex: string };
}

/** Runs `numRuns` inputs on the target; `onProgress` is told every 1,000 inputs. */
export function campaign(
  target: FuzzTarget,
  numRuns: number,
  seed: number,
  limits: { perInputMs: number },
  onProgress?: (done: number) => void,
): CampaignResult {
  const seeds = target.seeds();
  let done = 0;
  let slowest = 0;
  const t0 = performance.now();
  const property = fc.property(inputs(seeds), (input) => {
    const started = performance.now();
    target.run(input);
    const took = performance.now() - started;
    if (took > slowest) slowest = took;
    if (took > limits.perInputMs)
      throw new Error(`one input took ${took.toFixed(0)} ms (limit ${limits.perInputMs})`);
    if (++done % 1000 === 0) onProgress?.(done);
  });
  const details = fc.check(property, { numRuns, seed });
  const result: CampaignResult = {
    target: target.name,
    inputs: done,
    seed,
    seconds: (performance.now() - t0) / 1000,
    slowestMs: slowest,
  };
  if (details.failed && details.counterexample) {
    const [input] = details.counterexample as [Uint8Array];
    const error =
      details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    result.failure = { error, inputHex: Buffer.from(input).toString('hex') };
  }
  return result;
}
