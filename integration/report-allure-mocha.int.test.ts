/**
 * Runs reported from inside mocha with allure-mocha as the reporter (as the suite runner will): a
 * describe per phone, an it per scenario, reportToAllureRuntime() plus outcomeError(). The result
 * files allure-mocha writes must carry phonehome's name, history identity, labels, pipeline steps
 * with the run's times, and attachments; the real allure-commandline must then sort them into
 * phonehome's categories.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StepResult, TestResult } from 'allure-js-commons';
import { generateReport } from '../harness/report/allure-generate.js';
import { writeLaunchFiles } from '../harness/report/allure-results.js';
import { writeTestNight } from '../testing/run-folders.js';
import { onPath } from '../testing/tools.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const IS_TS = import.meta.url.endsWith('.ts');
const T0 = 1_763_900_000;

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-mocha-int-'));
});
after(() => rm(root, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => {
      output += b;
    });
    child.stderr.on('data', (b: Buffer) => {
      output += b;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function stepNames(steps: StepResult[]): string[] {
  return steps.map((s) => s.name ?? '');
}

test('inside allure-mocha: phonehome metadata, steps and attachments land in the test result', async (t) => {
  const runs = await writeTestNight(join(root, 'runs'), 'night-1', T0);
  const results = join(root, 'allure-results');
  const runtime = pathToFileURL(
    join(HERE, '..', 'harness', 'report', `allure-runtime${IS_TS ? '.ts' : '.js'}`),
  ).href;
  const suite = pathToFileURL(join(HERE, '..', 'harness', 'run', `suite${IS_TS ? '.ts' : '.js'}`)).href;
  // The suite runner's shape: describe per phone, it per scenario.
  const spec = join(root, 'phones.spec.mjs');
  await writeFile(
    spec,
    `import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportToAllureRuntime } from ${JSON.stringify(runtime)};
import { outcomeError } from ${JSON.stringify(suite)};
const runs = ${JSON.stringify(runs)}.map((dir) => ({ dir, result: JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) }));
for (const serial of [...new Set(runs.map((r) => r.result.serial))]) {
  describe(serial, () => {
    for (const r of runs.filter((x) => x.result.serial === serial)) {
      it(r.result.scenario, async () => {
        if (!(await reportToAllureRuntime(r.dir))) throw new Error('no allure runtime');
        const e = outcomeError(r.result);
        if (e) throw e;
      });
    }
  });
}
`,
  );
  const require = createRequire(import.meta.url);
  const mocha = join(dirname(require.resolve('mocha/package.json')), 'bin', 'mocha.js');
  const ran = await run(
    process.execPath,
    [
      ...(IS_TS ? ['--import', 'tsx'] : []),
      mocha,
      '--reporter',
      'allure-mocha',
      '--reporter-option',
      `resultsDir=${results}`,
      '--no-config',
      '--no-package',
      spec,
    ],
    // The project root, where tsx and the reporter resolve from.
    process.cwd(),
  );
  assert.equal(ran.code, 2, `two tests fail (the failed and the broken run):\n${ran.output}`);

  const files = await readdir(results);
  const byName = new Map<string, TestResult>();
  for (const f of files.filter((n) => n.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(join(results, f), 'utf8')) as TestResult;
    byName.set(r.name ?? '', r);
  }
  assert.deepEqual(
    [...byName.keys()].sort(),
    [
      'backup-off on Pixel 7 (127.0.0.1:5601)',
      'idle on Pixel 7 (127.0.0.1:5601)',
      'idle on Redmi Note 13 (R58M123ABC)',
    ],
    'the display names are phonehome’s',
  );

  const failed = byName.get('idle on Redmi Note 13 (R58M123ABC)')!;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.statusDetails.message, '3 violations');
  assert.equal(failed.testCaseId, 'phonehome/Xiaomi Redmi Note 13/idle');
  assert.match(failed.historyId ?? '', /^[0-9a-f]{32}$/);
  const labels = (name: string) => failed.labels.filter((l) => l.name === name).map((l) => l.value);
  assert.deepEqual(labels('suite'), ['Redmi Note 13'], 'our suite label, not the describe title');
  assert.deepEqual(labels('parentSuite'), ['phonehome']);
  assert.deepEqual(labels('epic'), ['Xiaomi']);
  assert.deepEqual(labels('severity'), ['critical']);
  assert.deepEqual(labels('tag'), ['HyperOS']);
  assert.equal(labels('host').length, 1, 'one host label (allure-mocha’s)');
  assert.deepEqual(stepNames(failed.steps), [
    'prepare',
    'capture start',
    'canary start-night-1.canary.phonehome.test',
    'unlock screen',
    'idle 60 s',
    'open privacy settings',
    'turn off ads',
    'canary end-night-1.canary.phonehome.test',
    'capture stop',
    'analyse',
    'verdict',
  ]);
  const idle = failed.steps.find((s) => s.name === 'idle 60 s')!;
  assert.deepEqual([idle.start, idle.stop, idle.status], [(T0 + 4) * 1000, (T0 + 64) * 1000, 'passed']);
  const ui = failed.steps.find((s) => s.name === 'open privacy settings')!;
  assert.deepEqual(
    ui.attachments.map((a) => [a.name, a.type]),
    [['step-3.png', 'image/png']],
  );
  assert.ok(files.includes(ui.attachments[0]!.source), 'the step screenshot was written');
  assert.equal(failed.steps.find((s) => s.name === 'turn off ads')!.status, 'skipped');
  const verdict = failed.steps.at(-1)!;
  assert.equal(verdict.status, 'failed');
  assert.equal(verdict.steps.length, 3);
  assert.deepEqual(
    failed.attachments.map((a) => [a.name, a.type]),
    [
      ['violations', 'text/html'],
      ['hosts', 'text/html'],
      ['timeline', 'image/svg+xml'],
      ['flows.csv', 'text/csv'],
      ['flows.json', 'application/json'],
      ['verdict.json', 'application/json'],
      ['capture.pcap', 'application/vnd.tcpdump.pcap'],
      ['screenshot.png', 'image/png'],
      ['logcat.txt', 'text/plain'],
      ['run.log', 'text/plain'],
    ],
  );
  for (const a of failed.attachments) assert.ok(files.includes(a.source), `${a.name} was written`);
  const pcap = failed.attachments.find((a) => a.name === 'capture.pcap')!;
  assert.ok(pcap.source.endsWith('.pcap'));
  assert.deepEqual(
    await readFile(join(results, pcap.source)),
    await readFile(join(runs[0]!, 'capture.pcap')),
  );

  const broken = byName.get('backup-off on Pixel 7 (127.0.0.1:5601)')!;
  assert.equal(broken.status, 'broken');
  assert.match(broken.statusDetails.message ?? '', /^capture not working: /);
  assert.equal(byName.get('idle on Pixel 7 (127.0.0.1:5601)')!.status, 'passed');

  // The real Allure sorts allure-mocha's results into phonehome's categories.
  if (!onPath('java') && !process.env.JAVA_HOME) return t.skip('no Java');
  await writeLaunchFiles(results, { environment: { phonehome: 't', adb: 't', host: 't', node: 't' } });
  const report = await generateReport({ resultsDir: results, outDir: join(root, 'report') });
  const html = await readFile(report.indexHtml, 'utf8');
  const m = /d\('data\/categories\.json','([A-Za-z0-9+/=]*)'\)/.exec(html)!;
  const categories = JSON.parse(Buffer.from(m[1]!, 'base64').toString()) as { children: { name: string }[] };
  assert.deepEqual(categories.children.map((c) => c.name).sort(), [
    'Capture not working',
    'Policy violations',
  ]);
});
