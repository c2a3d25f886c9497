import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { acceptRun, BaselineError, baselinePath, parseBaseline } from './baseline.js';
import type { RunSummary } from './summary.js';

const run = (runId: string, started: number): RunSummary => ({
  formatVersion: 1,
  runId,
  scenario: 'idle',
  started,
  hosts: {
    'a.example': {
      provenance: ['sni'],
      countries: ['SG'],
      orgs: ['X'],
      connections: 1,
      bytesUp: 10,
      bytesDown: 20,
    },
  },
  countries: ['SG'],
  orgs: ['X'],
  leaks: [],
  apps: [],
});

describe('baselines', () => {
  it('accepts runs oldest first, replaces a run accepted again, keeps the last N', () => {
    let b = acceptRun(undefined, 'xiaomi-miui-global', run('n2', 200));
    b = acceptRun(b, 'xiaomi-miui-global', run('n1', 100));
    b = acceptRun(b, 'xiaomi-miui-global', run('n2', 200));
    assert.deepEqual(
      b.runs.map((r) => r.runId),
      ['n1', 'n2'],
    );
    b = acceptRun(b, 'xiaomi-miui-global', run('n3', 300), 2);
    assert.deepEqual(
      b.runs.map((r) => r.runId),
      ['n2', 'n3'],
    );
    assert.deepEqual(parseBaseline(JSON.stringify(b), 'b.json'), b);
  });

  it('refuses a file that is not a baseline, naming the file and field', () => {
    assert.throws(() => parseBaseline('{', 'h/x/idle.json'), /^BaselineError: h\/x\/idle\.json: not JSON/);
    const b = acceptRun(undefined, 'p', run('n1', 1));
    const bad = JSON.parse(JSON.stringify(b));
    bad.runs[0].hosts['a.example'].bytesUp = -1;
    assert.throws(
      () => parseBaseline(JSON.stringify(bad), 'idle.json'),
      (e: unknown) =>
        e instanceof BaselineError &&
        e.message === 'idle.json: runs[0].hosts["a.example"].bytesUp: expected a number ≥ 0',
    );
    assert.throws(
      () => parseBaseline(JSON.stringify({ ...b, formatVersion: 9 }), 'idle.json'),
      /formatVersion: expected 1 \(this file says 9\)/,
    );
  });

  it('keeps baseline files inside the history folder', () => {
    assert.equal(baselinePath('hist', 'pixel-stock', 'idle', join), join('hist', 'pixel-stock', 'idle.json'));
    assert.throws(() => baselinePath('hist', '../etc', 'idle', join), BaselineError);
    assert.throws(() => baselinePath('hist', 'p', 'a/b', join), BaselineError);
  });
});
