import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { watchChild } from './watch-child.js';

// The hang limit is short for the hung child; a child that reports progress gets one that a loaded
// machine's Node start-up always fits in.
const o = { target: 'dns', seed: 7, silenceMs: 1_500 };
const patient = { ...o, silenceMs: 20_000 };

describe("the fuzz runner's watchdog", () => {
  it('kills a child that goes silent and reports a hang with the inputs done and the seed to replay', async () => {
    const t0 = Date.now();
    const r = await watchChild(
      ['-e', "process.stdout.write('progress 10\\nprogress 20\\n'); setInterval(() => {}, 1e9)"],
      o,
    );
    assert.equal(r.died, 'no progress for 1.5 s after 20 inputs: a hang (replay: --target dns --seed 7)');
    assert.equal(r.inputs, 20);
    assert.ok(Date.now() - t0 < 30_000, 'the hung child was killed, not waited for');
  });

  it('keeps a child alive while it reports progress, and takes its result', async () => {
    const script = `
      let n = 0;
      const t = setInterval(() => {
        n += 1;
        process.stdout.write('progress ' + n + '\\n');
        if (n === 6) {
          clearInterval(t);
          process.stdout.write('result ' + JSON.stringify({ target: 'dns', inputs: 6, seed: 7, seconds: 1, slowestMs: 2, peakRssMb: 50 }) + '\\n');
        }
      }, 150);`;
    const r = await watchChild(['-e', script], patient);
    assert.equal(r.died, undefined);
    assert.equal(r.inputs, 6);
  });

  it('reports a child that dies, with how and its last lines', async () => {
    const r = await watchChild(
      ['-e', "process.stdout.write('progress 3\\n'); throw new Error('boom')"],
      patient,
    );
    assert.match(r.died ?? '', /^exited 1: .*Error: boom/);
    assert.equal(r.inputs, 3);
  });
});
