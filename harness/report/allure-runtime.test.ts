import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { writeTestNight } from '../../testing/run-folders.js';
import { activeAllureRuntime, allureSink, reportToAllureRuntime, runtimeMessages } from './allure-runtime.js';
import { readRunFolder } from './run-folder.js';
import { buildRunReport } from './run-report.js';

let root: string;
let runs: string[];
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-runtime-'));
  runs = await writeTestNight(root, 'night-1', 1_763_900_000);
});
after(() => rm(root, { recursive: true, force: true }));

test('runtime messages: metadata first, balanced steps with the run times, then attachments', async () => {
  const report = await buildRunReport(await readRunFolder(runs[0]!), { host: 'h' });
  const messages = runtimeMessages(report);
  const first = messages[0]!;
  assert.equal(first.type, 'metadata');
  if (first.type === 'metadata') {
    assert.equal(first.data.displayName, 'idle on Redmi Note 13 (R58M123ABC)');
    assert.equal(first.data.testCaseId, 'phonehome/Xiaomi Redmi Note 13/idle');
    assert.ok(!first.data.labels!.some((l) => l.name === 'host'), 'allure-mocha writes the host label');
  }
  let depth = 0;
  for (const m of messages) {
    if (m.type === 'step_start') depth += 1;
    if (m.type === 'step_stop') depth -= 1;
    assert.ok(depth >= 0);
  }
  assert.equal(depth, 0);
  const idle = messages.findIndex((m) => m.type === 'step_start' && m.data.name === 'idle 60 s');
  const idleStart = messages[idle]!;
  assert.equal(idleStart.type === 'step_start' && idleStart.data.start, (1_763_900_000 + 4) * 1000);
  const attachments = messages.filter((m) => m.type === 'attachment_path' || m.type === 'attachment_content');
  assert.equal(attachments.length, report.attachments.length + 1, 'the test’s and the UI step’s screenshot');
  // The step screenshot is sent while its step is open, so the reporter attaches it there.
  const shot = messages.findIndex((m) => m.type === 'attachment_path' && m.data.name === 'step-3.png');
  const open = messages.findIndex((m) => m.type === 'step_start' && m.data.name === 'open privacy settings');
  assert.ok(open >= 0 && shot === open + 2, 'step_start, step_metadata, then the screenshot');
  assert.equal(messages[shot + 1]!.type, 'step_stop');
  assert.equal(messages.at(-1)!.type, 'attachment_path');
});

test('outside an Allure test framework nothing is reported', async () => {
  assert.equal(await activeAllureRuntime(), undefined);
  assert.equal(await reportToAllureRuntime(runs[0]!), false);
});

test('outside mocha the allure sink falls back to writing result files', async () => {
  const results = join(root, 'results');
  const sink = allureSink(results, { env: {}, adbBin: '/nonexistent/adb', profile: 'xiaomi-miui-global' });
  const result = JSON.parse(await readFile(join(runs[0]!, 'result.json'), 'utf8'));
  await sink.runStarted?.({ runId: result.runId, serial: result.serial, scenario: result.scenario });
  await sink.runFinished(result, { dir: runs[0]! });
  const names = await readdir(results);
  const file = names.find((n) => n.endsWith('-result.json'))!;
  const written = JSON.parse(await readFile(join(results, file), 'utf8'));
  assert.equal(written.fullName, 'phonehome/xiaomi-miui-global/idle');
  assert.ok(names.includes('categories.json'));
});
