import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { UsageError } from '../errors.js';
import { copyHistory, extractHistory, findJava, generateReport } from './allure-generate.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-generate-'));
});
after(() => rm(root, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');

test('history is read back out of a single-file report', () => {
  const html =
    `<script>d('data/suites.json','${b64('{}')}')\n` +
    `d('history/history.json','${b64('{"a":{"items":[]}}')}')\n` +
    `d('history/history-trend.json','${b64('[{"data":{"passed":1}}]')}')\n` +
    `d('history/../../evil.json','${b64('{}')}')\n` +
    `d('history/broken.json','${b64('not json')}')</script>`;
  const h = extractHistory(html);
  assert.deepEqual([...h.keys()], ['history.json', 'history-trend.json']);
  assert.equal(h.get('history-trend.json'), '[{"data":{"passed":1}}]');
});

test("the previous report's history is copied into the results", async () => {
  const report = join(root, 'report');
  await mkdir(join(report, 'history'), { recursive: true });
  await writeFile(join(report, 'history', 'history-trend.json'), '[]');
  await writeFile(join(report, 'history', 'history.json'), '{}');
  const results = join(root, 'results');
  assert.equal(await copyHistory(report, results), 2);
  assert.deepEqual((await readdir(join(results, 'history'))).sort(), ['history-trend.json', 'history.json']);
  assert.equal(await copyHistory(join(root, 'no-such-report'), results), 0);
});

test('missing results and missing Java are one clear line each', async () => {
  const empty = join(root, 'empty');
  await mkdir(empty, { recursive: true });
  for (const dir of [empty, join(root, 'nowhere')]) {
    await assert.rejects(generateReport({ resultsDir: dir, outDir: join(root, 'out') }), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^no Allure results in /);
      return true;
    });
  }
  const results = join(root, 'has-results');
  await mkdir(results, { recursive: true });
  await writeFile(join(results, 'x-result.json'), '{}');
  const noJava = { PATH: join(root, 'empty'), JAVA_HOME: join(root, 'nowhere') };
  assert.equal(await findJava(noJava), undefined);
  await assert.rejects(
    generateReport({ resultsDir: results, outDir: join(root, 'out'), env: noJava }),
    (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^Java is not installed/);
      return true;
    },
  );
});

test('a folder that is not a report is never wiped by --clean', async () => {
  const results = join(root, 'has-results');
  const precious = join(root, 'precious');
  await mkdir(precious, { recursive: true });
  await writeFile(join(precious, 'thesis.tex'), 'keep me');
  await assert.rejects(generateReport({ resultsDir: results, outDir: precious }), /refusing to replace it/);
  assert.equal(await readFile(join(precious, 'thesis.tex'), 'utf8'), 'keep me');
});
