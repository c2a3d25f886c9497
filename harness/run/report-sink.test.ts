import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunResult } from '../record/run-record.js';
import { fanOut, type ReportSink } from './report-sink.js';

const RESULT = { runId: 'r1', serial: 's1', scenario: 'idle', outcome: 'passed' } as RunResult;

test('one throwing, one rejecting and one hanging sink do not stop the others', async () => {
  const heard: string[] = [];
  const errors: string[] = [];
  const sinks: ReportSink[] = [
    {
      name: 'throws',
      runFinished() {
        throw new Error('disk full');
      },
    },
    { name: 'rejects', runFinished: async () => Promise.reject(new Error('network down')) },
    { name: 'hangs', runFinished: () => new Promise<void>(() => {}) },
    { name: 'only-start', runStarted: (r) => void heard.push(`start ${r.scenario}`) },
    {
      name: 'good',
      async runFinished(result, run) {
        heard.push(`finished ${result.scenario} in ${run.dir}`);
      },
    },
  ];
  const all = fanOut(sinks, {
    deadlineMs: 50,
    onError: (sink, hook, e) => errors.push(`${sink} ${hook}: ${(e as Error).message}`),
  });
  await all.runStarted({ runId: 'r1', serial: 's1', scenario: 'idle' });
  const t0 = Date.now();
  await all.runFinished(RESULT, { dir: '/runs/r1/s1/idle' });
  assert.ok(Date.now() - t0 < 2000, 'the hanging sink is given up on');
  assert.deepEqual(heard, ['start idle', 'finished idle in /runs/r1/s1/idle']);
  assert.deepEqual(errors.sort(), [
    'hangs runFinished: no answer after 50 ms',
    'rejects runFinished: network down',
    'throws runFinished: disk full',
  ]);
});

test('an error handler that throws is swallowed too', async () => {
  const all = fanOut([{ name: 'bad', runStarted: () => Promise.reject(new Error('x')) }], {
    onError: () => {
      throw new Error('handler broken');
    },
  });
  await all.runStarted({ runId: 'r', serial: 's', scenario: 'x' });
});
