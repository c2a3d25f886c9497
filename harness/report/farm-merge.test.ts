import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TestResult } from 'allure-js-commons';
import { writeTestNight } from '../../testing/run-folders.js';
import { UsageError } from '../errors.js';
import { writeLaunchFiles, writeRunResult } from './allure-results.js';
import { hostRecordText, mergeFarmResults, relabelResult } from './farm-merge.js';
import { parseProperties } from './launch-info.js';

let root: string;
let runs: string[];
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-merge-'));
  runs = await writeTestNight(join(root, 'runs'), 'night-1', 1_763_900_000);
});
after(() => rm(root, { recursive: true, force: true }));

/** A host's nightly artifact: allure-results of every test run, host.json, its baselines. */
async function hostFolder(
  name: string,
  exitStatus: number | null | undefined,
  machine: string,
): Promise<string> {
  const dir = join(root, name);
  const results = join(dir, 'allure-results');
  await writeLaunchFiles(results, {
    environment: {
      phonehome: '0.1.0',
      adb: 'Android Debug Bridge version 1.0.41',
      host: machine,
      node: 'v20',
    },
  });
  for (const run of runs) await writeRunResult(results, run, { host: machine });
  if (exitStatus !== undefined)
    await writeFile(join(dir, 'host.json'), hostRecordText(name.replace(/^farm-/, ''), exitStatus));
  await mkdir(join(dir, 'history'), { recursive: true });
  await writeFile(join(dir, 'history', 'baseline.json'), '{}');
  return dir;
}

async function merged(dir: string): Promise<TestResult[]> {
  const out: TestResult[] = [];
  for (const n of await readdir(dir))
    if (n.endsWith('-result.json')) out.push(JSON.parse(await readFile(join(dir, n), 'utf8')) as TestResult);
  return out;
}

const label = (r: TestResult, name: string) => r.labels.find((l) => l.name === name)?.value;

test('two hosts with the same phones: each test under its host, its own history, a lab host test each', async () => {
  const a = await hostFolder('farm-lab-1', 1, 'bench-a');
  const b = await hostFolder('farm-lab-2', 0, 'bench-b');
  const out = join(root, 'merged-1');
  const summary = await mergeFarmResults({
    dirs: [a, b],
    outResults: out,
    expectedHosts: ['lab-1', 'lab-2'],
    now: 1,
  });
  assert.deepEqual(
    summary.hosts.map((h) => [h.host, h.status, h.results]),
    [
      ['lab-1', 'passed', runs.length],
      ['lab-2', 'passed', runs.length],
    ],
  );
  assert.equal(summary.results, runs.length * 2 + 2);
  assert.deepEqual(summary.warnings, []);
  const results = await merged(out);
  assert.equal(results.length, runs.length * 2 + 2);
  for (const host of ['lab-1', 'lab-2']) {
    const mine = results.filter((r) => label(r, 'host') === host);
    assert.equal(mine.length, runs.length + 1, host);
    for (const r of mine) {
      assert.equal(label(r, 'parentSuite'), host);
      assert.equal(r.labels.filter((l) => l.name === 'host').length, 1, 'one host label, the lab host');
    }
    const hostTest = mine.find((r) => r.name === `lab host ${host}`)!;
    assert.equal(hostTest.status, 'passed');
    assert.match(
      hostTest.statusDetails.message!,
      new RegExp(`^${runs.length} results, its run ended with exit status`),
    );
  }
  // The suites moved one level down: host › phonehome › model.
  const one = results.find((r) => label(r, 'host') === 'lab-1' && r.name?.startsWith('idle on Redmi'))!;
  assert.equal(label(one, 'suite'), 'phonehome');
  assert.equal(label(one, 'subSuite'), 'Redmi Note 13');
  assert.equal(one.fullName, 'lab-1/phonehome/Xiaomi Redmi Note 13/idle');
  // The same phone model and scenario on two hosts: two tests, not a test and its retry.
  const two = results.find((r) => label(r, 'host') === 'lab-2' && r.name === one.name)!;
  assert.notEqual(one.historyId, two.historyId);
  assert.notEqual(one.testCaseId, two.testCaseId);
  // Every attachment a result names is in the merged folder.
  const names = new Set(await readdir(out));
  const sources = (steps: TestResult['steps']): string[] =>
    steps.flatMap((s) => [...s.attachments.map((x) => x.source), ...sources(s.steps)]);
  for (const r of results)
    for (const s of [...r.attachments.map((x) => x.source), ...sources(r.steps)]) assert.ok(names.has(s), s);
  const env = new Map(parseProperties(await readFile(join(out, 'environment.properties'), 'latin1')));
  assert.equal(env.get('lab hosts'), 'lab-1, lab-2');
  assert.equal(env.get('lab-1: machine'), 'bench-a');
  assert.equal(env.get('lab-2: machine'), 'bench-b');
  assert.equal(env.get('lab-2: phonehome'), '0.1.0');
  const categories = JSON.parse(await readFile(join(out, 'categories.json'), 'utf8')) as { name: string }[];
  assert.equal(categories[0]!.name, 'Lab hosts without results');
  assert.equal(new Set(categories.map((c) => c.name)).size, categories.length, 'each category once');
  assert.deepEqual(
    summary.hosts.map((h) => h.baselines),
    [join(a, 'history'), join(b, 'history')],
  );
});

test('a host the farm lists that sent nothing, one whose run broke, one killed: broken lab host tests', async () => {
  const a = await hostFolder('farm-lab-3', 2, 'bench-c');
  const b = await hostFolder('farm-lab-4', null, 'bench-d');
  const out = join(root, 'merged-2');
  const summary = await mergeFarmResults({
    dirs: [a, b],
    outResults: out,
    expectedHosts: ['lab-3', 'lab-4', 'lab-5'],
  });
  const byHost = new Map(summary.hosts.map((h) => [h.host, h]));
  assert.equal(byHost.get('lab-3')!.status, 'broken');
  assert.match(byHost.get('lab-3')!.message, /exit status 2 .*\(\d+ results kept\)/);
  assert.equal(byHost.get('lab-4')!.status, 'broken');
  assert.match(byHost.get('lab-4')!.message, /killed by a signal/);
  assert.equal(byHost.get('lab-5')!.status, 'broken');
  assert.match(byHost.get('lab-5')!.message, /^no results from this host/);
  const results = await merged(out);
  const lab5 = results.filter((r) => label(r, 'host') === 'lab-5');
  assert.equal(lab5.length, 1);
  assert.equal(lab5[0]!.status, 'broken');
  assert.match(lab5[0]!.statusDetails.trace!, /^\[phonehome outcome=broken stage=farm kind=host\]/);
  const env = new Map(parseProperties(await readFile(join(out, 'environment.properties'), 'latin1')));
  assert.equal(env.get('lab hosts without results'), 'lab-3, lab-4, lab-5');
});

test('a folder named for no host and holding no host.json, or a host given twice, is refused', async () => {
  const odd = join(root, 'Not A Host');
  await mkdir(odd, { recursive: true });
  await assert.rejects(
    mergeFarmResults({ dirs: [odd], outResults: join(root, 'merged-3') }),
    (e: Error) => e instanceof UsageError && /cannot tell which lab host/.test(e.message),
  );
  const a = await hostFolder('farm-lab-6', 0, 'x');
  const copy = join(root, 'lab-6');
  await mkdir(copy);
  await assert.rejects(
    mergeFarmResults({ dirs: [a, copy], outResults: join(root, 'merged-3') }),
    /both from lab host lab-6/,
  );
  assert.ok(!existsSync(join(root, 'merged-3')), 'nothing written');
});

test('a bad result or host.json names the file, line and field, and leaves no merged folder behind', async () => {
  const a = await hostFolder('farm-lab-7', 0, 'x');
  await writeFile(join(a, 'allure-results', 'bad-result.json'), '{\n  "uuid": "x",\n  oops\n}');
  const out = join(root, 'merged-4');
  await assert.rejects(
    mergeFarmResults({ dirs: [a], outResults: out }),
    (e: Error) => e instanceof UsageError && e.message.includes('bad-result.json: not JSON (line 3'),
  );
  assert.ok(!existsSync(out));
  assert.deepEqual(
    (await readdir(root)).filter((n) => n.includes('.merging-')),
    [],
    'the staging folder was removed',
  );
  const b = await hostFolder('farm-lab-8', 0, 'x');
  await writeFile(
    join(b, 'host.json'),
    JSON.stringify({ formatVersion: 1, host: 'lab-8', exitStatus: 'zero' }),
  );
  await assert.rejects(mergeFarmResults({ dirs: [b], outResults: out }), /host\.json: field exitStatus: /);
});

test('the merged results go only into an absent or empty folder', async () => {
  const a = await hostFolder('farm-lab-9', 0, 'x');
  const out = join(root, 'merged-5');
  await mkdir(out);
  await writeFile(join(out, 'keep.txt'), 'mine');
  await assert.rejects(mergeFarmResults({ dirs: [a], outResults: out }), /not an empty folder/);
  assert.equal(await readFile(join(out, 'keep.txt'), 'utf8'), 'mine');
});

test('relabelling keeps every other label and nests suites under the host', () => {
  const r = relabelResult(
    {
      uuid: 'u',
      historyId: 'h',
      labels: [
        { name: 'suite', value: 'phones' },
        { name: 'subSuite', value: 'Pixel 7' },
        { name: 'host', value: 'runner-07' },
        { name: 'feature', value: 'idle' },
      ],
    },
    'lab-1',
  );
  assert.deepEqual(r.labels, [
    { name: 'parentSuite', value: 'lab-1' },
    { name: 'suite', value: 'phones' },
    { name: 'subSuite', value: 'Pixel 7' },
    { name: 'feature', value: 'idle' },
    { name: 'host', value: 'lab-1' },
  ]);
  assert.match(r.historyId as string, /^[0-9a-f]{32}$/);
});

test('Java properties: escapes, separators, comments and continued lines', () => {
  assert.deepEqual(
    parseProperties(
      '# comment\n! also\nkey=value\na\\ b : c d\nu=\\u00e9t\\u00e9\n  long = one, \\\n     two\nempty\ntab\\tkey\t= x\n',
    ),
    [
      ['key', 'value'],
      ['a b', 'c d'],
      ['u', 'été'],
      ['long', 'one, two'],
      ['empty', ''],
      ['tab\tkey', 'x'],
    ],
  );
});
