import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../errors.js';
import { acceptIntoHistory, loadRunBaseline, readSummaryFile } from './baseline-file.js';
import type { RunSummary } from './summary.js';

const tmp = mkdtempSync(join(tmpdir(), 'phonehome-baseline-file-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const run = (runId: string, started: number, scenario = 'idle'): RunSummary => ({
  formatVersion: 1,
  runId,
  scenario,
  started,
  hosts: {},
  countries: [],
  orgs: [],
  leaks: [],
  apps: [],
});

describe('baseline files', () => {
  it('a missing file is no baseline yet; accepted runs are read back, each file written whole', async () => {
    const history = join(tmp, 'h1');
    const none = await loadRunBaseline(history, 'xiaomi-miui-global', 'idle');
    assert.deepEqual(none, {
      file: join(history, 'xiaomi-miui-global', 'idle.json'),
      label: 'xiaomi-miui-global › idle',
      runs: [],
    });
    const written = await acceptIntoHistory(
      history,
      [
        { profile: 'xiaomi-miui-global', summary: run('n1', 100) },
        { profile: 'xiaomi-miui-global', summary: run('t1', 100, 'theme-store') },
        { profile: 'xiaomi-miui-global', summary: run('n2', 200) },
      ],
      10,
    );
    assert.equal(written.length, 2);
    const back = await loadRunBaseline(history, 'xiaomi-miui-global', 'idle');
    assert.deepEqual(
      back.runs.map((r) => r.runId),
      ['n1', 'n2'],
    );
  });

  it('a file that is not a baseline, or is another profile’s, is bad input naming the file and field', async () => {
    const history = join(tmp, 'h2');
    mkdirSync(join(history, 'pixel'), { recursive: true });
    const file = join(history, 'pixel', 'idle.json');
    writeFileSync(
      file,
      '{"formatVersion": 1, "profile": "pixel", "scenario": "idle", "runs": [{"formatVersion": 1}]}',
    );
    await assert.rejects(
      loadRunBaseline(history, 'pixel', 'idle'),
      (e: Error) => e instanceof UsageError && e.message === `${file}: runs[0].runId: expected a string`,
    );
    writeFileSync(file, '{"formatVersion": 1, "profile": "xiaomi", "scenario": "idle", "runs": []}');
    await assert.rejects(
      loadRunBaseline(history, 'pixel', 'idle'),
      /the file is for xiaomi › idle, not pixel › idle/,
    );
    writeFileSync(file, '{not json');
    await assert.rejects(loadRunBaseline(history, 'pixel', 'idle'), /idle\.json: not JSON/);
    // Accepting into a broken file changes nothing, not even the other files of the same call.
    const other = join(history, 'pixel', 'backup.json');
    await assert.rejects(
      acceptIntoHistory(history, [
        { profile: 'pixel', summary: run('b1', 1, 'backup') },
        { profile: 'pixel', summary: run('n1', 1) },
      ]),
      /not JSON/,
    );
    assert.throws(() => readFileSync(other), /ENOENT/);
    assert.equal(readFileSync(file, 'utf8'), '{not json');
    await assert.rejects(loadRunBaseline(history, '../etc', 'idle'), /cannot name a baseline file/);
  });
});

describe("a run folder's summary.json", () => {
  it('is read back as written, and a wrong field is named with the file', async () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'summary.json'), JSON.stringify(run('n1', 5)));
    assert.deepEqual(await readSummaryFile(dir), run('n1', 5));
    writeFileSync(join(dir, 'summary.json'), JSON.stringify({ ...run('n1', 5), started: 'noon' }));
    await assert.rejects(
      readSummaryFile(dir),
      (e: Error) =>
        e instanceof UsageError &&
        e.message === `${join(dir, 'summary.json')}: started: expected a time in seconds`,
    );
    writeFileSync(join(dir, 'summary.json'), '[]x');
    await assert.rejects(readSummaryFile(dir), /summary\.json: not JSON/);
  });
});
