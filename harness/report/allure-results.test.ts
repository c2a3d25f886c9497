import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TestResult } from 'allure-js-commons';
import { writeTestNight } from '../../testing/run-folders.js';
import { allureResultsSink, writeLaunchFiles, writeRunResult } from './allure-results.js';

let root: string;
let runs: string[];
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-results-'));
  runs = await writeTestNight(join(root, 'runs'), 'night-1', 1_763_900_000);
});
after(() => rm(root, { recursive: true, force: true }));

test('a run becomes <uuid>-result.json with every attachment beside it', async () => {
  const results = join(root, 'results-1');
  const { uuid, file } = await writeRunResult(results, runs[0]!, { host: 'lab-1' });
  assert.equal(file, join(results, `${uuid}-result.json`));
  const r = JSON.parse(await readFile(file, 'utf8')) as TestResult;
  assert.equal(r.uuid, uuid);
  assert.equal(r.status, 'failed');
  assert.equal(r.stage, 'finished');
  assert.equal(r.name, 'idle on Redmi Note 13 (R58M123ABC)');
  assert.equal(r.fullName, 'phonehome/Xiaomi Redmi Note 13/idle');
  assert.equal(r.testCaseId, r.fullName);
  assert.match(r.historyId!, /^[0-9a-f]{32}$/);
  assert.deepEqual(r.links, []);
  assert.ok(r.labels.some((l) => l.name === 'host' && l.value === 'lab-1'));
  assert.ok(r.parameters.every((p) => p.excluded === true));
  assert.ok(r.start! < r.stop!);
  assert.equal(r.steps.length, 11);
  const shot = r.steps.find((s) => s.name === 'open privacy settings')!.attachments[0]!;
  assert.equal(shot.type, 'image/png');
  assert.equal(r.steps.find((s) => s.name === 'turn off ads')!.status, 'skipped');
  assert.ok(r.steps.every((s) => s.stage === 'finished' && Array.isArray(s.attachments)));

  const names = await readdir(results);
  assert.equal(names.filter((n) => n.endsWith('-result.json')).length, 1);
  assert.equal(
    names.filter((n) => n.includes('-attachment')).length,
    r.attachments.length + 1,
    '+1 step screenshot',
  );
  assert.ok(names.includes(shot.source), 'the step screenshot is in the results');
  assert.ok(!names.some((n) => n.endsWith('.tmp')), 'no temporary files left');
  for (const a of r.attachments) {
    assert.match(a.source, /^[0-9a-f-]{36}-attachment\.(html|csv|json|pcap|png|txt|svg)$/);
    assert.ok(names.includes(a.source), `${a.name} is in the results`);
  }
  const pcap = r.attachments.find((a) => a.name === 'capture.pcap')!;
  assert.equal(pcap.type, 'application/vnd.tcpdump.pcap');
  const copied = await readFile(join(results, pcap.source));
  assert.deepEqual(copied, await readFile(join(runs[0]!, 'capture.pcap')));
  const png = await readFile(join(results, r.attachments.find((a) => a.type === 'image/png')!.source));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
});

test('launch files: categories, environment and executor', async () => {
  const results = join(root, 'results-2');
  await writeLaunchFiles(results, {
    environment: {
      phonehome: '0.1.0',
      adb: 'Android Debug Bridge version 1.0.41',
      host: 'lab-1',
      node: 'v20',
    },
    executor: { name: 'GitHub Actions', type: 'github', buildName: 'nightly #3' },
  });
  const categories = JSON.parse(await readFile(join(results, 'categories.json'), 'utf8')) as {
    name: string;
  }[];
  assert.deepEqual(
    categories.map((c) => c.name),
    [
      'Drift: changed since the baseline',
      'Identifier leaks',
      'Policy violations',
      'Unmet expectations',
      'Capture not working',
      'Phone lost',
      'Infrastructure errors',
    ],
  );
  assert.match(await readFile(join(results, 'environment.properties'), 'utf8'), /^adb=Android Debug Bridge/m);
  const executor = JSON.parse(await readFile(join(results, 'executor.json'), 'utf8'));
  assert.equal(executor.type, 'github');
});

test('the results sink writes the launch files once and one result per finished run', async () => {
  const results = join(root, 'results-3');
  const sink = allureResultsSink(results, { env: {}, adbBin: '/nonexistent/adb' });
  await sink.runStarted?.({ runId: 'night-1', serial: 'R58M123ABC', scenario: 'idle' });
  for (const dir of runs) {
    const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8'));
    await sink.runFinished(result, { dir });
  }
  const names = await readdir(results);
  assert.equal(names.filter((n) => n.endsWith('-result.json')).length, 3);
  assert.ok(names.includes('categories.json') && names.includes('environment.properties'));
  assert.ok(!names.includes('executor.json'), 'no executor outside CI');
  const env = await readFile(join(results, 'environment.properties'), 'utf8');
  assert.match(env, /^phonehome=0\.1\.0$/m);
  assert.match(env, /^adb=unknown \(/m, 'a missing adb is said, not fatal');
  assert.match(env, new RegExp(`^Node.js=${process.version.replace(/\./g, '\\.')}$`, 'm'));
});
