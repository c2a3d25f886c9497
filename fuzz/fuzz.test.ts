/**
 * The fuzz targets on a short budget, in every `make test`: each reader takes 300 mutated inputs from
 * a fixed seed without a crash or a slow input. `npm run fuzz` runs the long campaign.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { campaign } from './campaign.js';
import { TARGETS } from './targets.js';

describe('fuzz targets, short budget', () => {
  for (const target of TARGETS) {
    it(`${target.name}: 300 inputs from its seeds, nothing found`, () => {
      assert.ok(target.seeds().length > 0, 'the target has seeds');
      const r = campaign(target, 300, 20261203, { perInputMs: 5_000 });
      assert.equal(
        r.failure,
        undefined,
        r.failure ? `${r.failure.error}: ${r.failure.inputHex.slice(0, 200)}` : '',
      );
      assert.equal(r.inputs, 300);
    });
  }

  it('a reader that throws what it does not document is found, with its input', () => {
    const r = campaign(
      {
        name: 'broken',
        seeds: () => [Uint8Array.of(1, 2, 3)],
        run(input) {
          if (input.includes(0xff)) throw new TypeError('boom');
        },
      },
      2000,
      7,
      { perInputMs: 5_000 },
    );
    assert.match(r.failure?.error ?? '', /boom/);
    assert.match(r.failure!.inputHex, /ff/, 'the shrunk input holds the byte that breaks it');
  });
});
