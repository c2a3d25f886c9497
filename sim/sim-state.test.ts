import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isAlive, readSimState, type SimState, simProcess, writeSimState } from './sim-state.js';

test('a recorded process is alive only while it is the same process', () => {
  const me = simProcess(process.pid, 'test');
  assert.ok(me.startTime.length > 0);
  assert.equal(isAlive(me), true);
  assert.equal(isAlive({ ...me, startTime: `${me.startTime}1` }), false, 'a reused PID is not ours');
  const child = spawnSync('true');
  assert.equal(isAlive({ pid: child.pid!, startTime: me.startTime, what: 'gone' }), false);
});

test('the state file round-trips and is absent before the first write', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phl-state-'));
  try {
    assert.equal(readSimState(dir), undefined);
    const s: SimState = {
      formatVersion: 1,
      labId: 'phl0001',
      subnetIndex: 3,
      status: 'starting',
      adbServerPort: 5037,
      adbServerStartedByUs: false,
      speed: 1,
      misbehave: [],
      namespaces: ['phl0001-inet'],
      links: ['phl0001ap'],
      processes: [],
      adbConnections: [],
      phones: [],
    };
    writeSimState(dir, s);
    assert.deepEqual(readSimState(dir), s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
