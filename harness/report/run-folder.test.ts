import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTestNight } from '../../testing/run-folders.js';
import { UsageError } from '../errors.js';
import { findRunFolders, parseRunLog, readRunFolder } from './run-folder.js';
import { buildRunReport } from './run-report.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-folder-'));
});
after(() => rm(root, { recursive: true, force: true }));

test('run.log lines keep their times; a line without one is kept as text', () => {
  assert.deepEqual(parseRunLog('2025-11-23T12:00:01.500Z capture: tcpdump started\nno time here\n\n'), [
    { ts: Date.UTC(2025, 10, 23, 12, 0, 1, 500), text: 'capture: tcpdump started' },
    { ts: Number.NaN, text: 'no time here' },
  ]);
});

test('every run folder under a root is found, in order', async () => {
  const dirs = await writeTestNight(join(root, 'runs'), 'night-1', 1_763_900_000);
  assert.deepEqual(await findRunFolders(join(root, 'runs')), [...dirs].sort());
  assert.deepEqual(await findRunFolders(join(root, 'runs', 'night-1', 'R58M123ABC')), [dirs[0]]);
  assert.deepEqual(await findRunFolders(join(root, 'nowhere')), []);
});

test('a corrupt file is a problem of the report, not a crash', async () => {
  const [dir] = await writeTestNight(join(root, 'corrupt'), 'night-1', 1_763_900_000);
  await writeFile(join(dir!, 'flows.json'), '{"formatVersion": 1, "flows": [');
  const folder = await readRunFolder(dir!);
  assert.equal(folder.analysis, undefined);
  assert.equal(folder.problems.length, 1);
  assert.match(folder.problems[0]!, /flows\.json: /);
  const report = await buildRunReport(folder);
  assert.equal(report.status, 'failed', 'the verdict still tells');
  assert.ok(report.attachments.some((a) => a.name === 'unreadable files'));
  assert.ok(!report.attachments.some((a) => a.name === 'hosts'));
});

test('a folder without result.json is bad input', async () => {
  const empty = join(root, 'empty');
  await mkdir(empty, { recursive: true });
  await assert.rejects(
    readRunFolder(empty),
    (e: Error) => e instanceof UsageError && /no result\.json/.test(e.message),
  );
  await writeFile(join(empty, 'result.json'), '[1,2]');
  await assert.rejects(
    readRunFolder(empty),
    (e: Error) => e instanceof UsageError && /not a run result/.test(e.message),
  );
});
