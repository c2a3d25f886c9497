import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HOSTILE_HOST, QUOTED_HOST, writeTestNight, writeTestRun } from '../../testing/run-folders.js';
import type { Verdict, Violation } from '../verdict/verdict.js';
import { readRunFolder } from './run-folder.js';
import { buildRunReport, type RunReport, worstSeverity } from './run-report.js';

const T0 = 1_763_900_000;
let root: string;
let xiaomi: RunReport;
let pixel: RunReport;
let broken: RunReport;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-report-'));
  const [a, b, c] = await writeTestNight(root, 'night-1', T0);
  xiaomi = await buildRunReport(await readRunFolder(a!), { host: 'lab-host-1' });
  pixel = await buildRunReport(await readRunFolder(b!));
  broken = await buildRunReport(await readRunFolder(c!));
});
after(() => rm(root, { recursive: true, force: true }));

const label = (r: RunReport, name: string) => r.labels.filter((l) => l.name === name).map((l) => l.value);

test('outcomes map to Allure statuses, with the reason as message and the evidence as trace', () => {
  assert.equal(xiaomi.status, 'failed');
  assert.match(xiaomi.statusDetails.message!, /^3 violations: api\.ad\.intl\.xiaomi\.com, /);
  assert.match(xiaomi.statusDetails.trace!, /api\.ad\.intl\.xiaomi\.com \(sni, critical\): forbid/);
  assert.match(xiaomi.statusDetails.trace!, /first during idle 60 s/);
  assert.equal(pixel.status, 'passed');
  assert.deepEqual(pixel.statusDetails, {});
  assert.equal(broken.status, 'broken');
  assert.equal(
    broken.statusDetails.message,
    'capture not working: the end canary is not in the capture (1 flows seen)',
  );
  assert.match(broken.statusDetails.trace!, /broken: capture not working/);
});

test('name, labels and parameters say which phone, which scenario and how bad', () => {
  assert.equal(xiaomi.name, 'idle on Redmi Note 13 (R58M123ABC)');
  assert.deepEqual(label(xiaomi, 'parentSuite'), ['phonehome']);
  assert.deepEqual(label(xiaomi, 'suite'), ['Redmi Note 13']);
  assert.deepEqual(label(xiaomi, 'epic'), ['Xiaomi']);
  assert.deepEqual(label(xiaomi, 'feature'), ['idle']);
  assert.deepEqual(label(xiaomi, 'severity'), ['critical']);
  assert.deepEqual(label(xiaomi, 'tag'), ['HyperOS']);
  assert.deepEqual(label(xiaomi, 'host'), ['lab-host-1']);
  assert.deepEqual(label(pixel, 'host'), [], 'no host label unless asked (allure-mocha adds its own)');
  assert.deepEqual(label(pixel, 'severity'), ['normal']);
  const params = Object.fromEntries(xiaomi.parameters.map((p) => [p.name, p.value]));
  assert.equal(params.serial, 'R58M123ABC');
  assert.match(params['build fingerprint']!, /^Redmi\/sapphire_global/);
  assert.equal(params['ROM version'], 'HyperOS OS1.0.3.0.UNGEUXM');
  assert.equal(params['Android version'], '14 (SDK 34)');
  assert.ok(
    xiaomi.parameters.every((p) => p.excluded),
    'parameters must not split the history',
  );
});

test('worst severity of the violated rules', () => {
  const v = (severity: Violation['severity']) => ({ severity }) as Violation;
  const verdict = (...vs: Violation[]) => ({ violations: vs }) as Verdict;
  assert.equal(worstSeverity(undefined), 'normal');
  assert.equal(worstSeverity(verdict()), 'normal');
  assert.equal(worstSeverity(verdict(v('minor'), v('trivial'))), 'minor');
  assert.equal(worstSeverity(verdict(v('normal'), v('blocker'), v('critical'))), 'blocker');
});

test('the history identity survives a new night, a new build and another unit of the same model', async () => {
  const dir = await writeTestRun(root, {
    runId: 'night-2',
    phone: 'xiaomi',
    scenario: 'idle',
    outcome: 'passed',
    hosts: ['resolver.msg.global.xiaomi.net'],
    t0: T0 + 86_400,
  });
  const folder = await readRunFolder(dir);
  folder.facts = {
    ...folder.facts!,
    serial: 'OTHERUNIT',
    fingerprint: 'Redmi/x/y:15/NEW',
    romVersion: 'OS2.0',
  };
  folder.result = { ...folder.result, serial: 'OTHERUNIT' };
  const night2 = await buildRunReport(folder);
  assert.equal(night2.historyId, xiaomi.historyId);
  assert.equal(night2.testCaseId, xiaomi.testCaseId);
  assert.equal(night2.fullName, 'phonehome/Xiaomi Redmi Note 13/idle');
  assert.notEqual(pixel.historyId, xiaomi.historyId, 'another model is another history');
  assert.notEqual(broken.historyId, pixel.historyId, 'another scenario is another history');
  const profiled = await buildRunReport(folder, { profile: 'xiaomi-miui-global' });
  assert.equal(profiled.fullName, 'phonehome/xiaomi-miui-global/idle');
  assert.match(profiled.historyId, /^[0-9a-f]{32}$/);
});

test('steps follow the pipeline with the times of the run', () => {
  assert.deepEqual(
    xiaomi.steps.map((s) => s.name),
    [
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
    ],
  );
  const idle = xiaomi.steps.find((s) => s.name === 'idle 60 s')!;
  assert.equal(idle.start, (T0 + 4) * 1000);
  assert.equal(idle.stop, (T0 + 64) * 1000);
  assert.equal(idle.status, 'passed');
  const ui = xiaomi.steps.find((s) => s.name === 'open privacy settings')!;
  assert.deepEqual(
    ui.attachments.map((a) => [a.name, a.contentType]),
    [['step-3.png', 'image/png']],
    'the screenshot after a UI step is attached to that step',
  );
  assert.equal(xiaomi.steps.find((s) => s.name === 'turn off ads')!.status, 'skipped');
  const verdict = xiaomi.steps.at(-1)!;
  assert.equal(verdict.status, 'failed');
  assert.equal(verdict.steps.length, 3);
  assert.ok(verdict.steps.every((s) => s.status === 'failed'));
  assert.ok(xiaomi.steps.slice(0, -1).every((s) => s.status === 'passed' || s.name === 'turn off ads'));
  const capStop = xiaomi.steps.find((s) => s.name === 'capture stop')!;
  assert.deepEqual(
    capStop.parameters.map((p) => p.name),
    ['packets', 'dropped', 'bytes'],
  );
  for (const s of xiaomi.steps) assert.ok(s.stop! >= s.start!, `${s.name} ends after it starts`);
  // The fixture's files were written long after its recorded times, as a copied run folder's are:
  // the report keeps to the record and does not stretch the run to today.
  assert.equal(xiaomi.stop, (T0 + 67.25) * 1000, "the verdict's end, as recorded");
  assert.equal(xiaomi.start, T0 * 1000);

  const analyse = broken.steps.find((s) => s.name === 'analyse')!;
  assert.equal(analyse.status, 'broken');
  assert.equal(analyse.message, broken.statusDetails.message);
  assert.deepEqual(
    analyse.steps.map((s) => [s.name, s.status]),
    [
      ['start canary in the capture', 'passed'],
      ['end canary in the capture', 'broken'],
    ],
  );
  assert.equal(broken.steps.filter((s) => s.status === 'broken').length, 1);
});

test('a run that broke in preparation ends its steps there', async () => {
  const dir = await writeTestRun(root, {
    runId: 'night-3',
    phone: 'pixel',
    scenario: 'idle',
    outcome: 'broken',
    reason: 'preparation failed: airplane-off: settings put failed',
    hosts: [],
    t0: T0,
  });
  const r = await buildRunReport(await readRunFolder(dir));
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.status]),
    [['prepare', 'broken']],
  );
  assert.deepEqual(
    r.steps[0]!.steps.map((s) => [s.name, s.status]),
    [
      ['read device facts', 'passed'],
      ['airplane-off', 'broken'],
    ],
  );
});

test('host names from the capture are HTML-escaped wherever they are markup', () => {
  const html = [
    xiaomi.descriptionHtml,
    ...xiaomi.attachments.filter((a) => a.contentType === 'text/html').map((a) => a.body!),
  ];
  assert.equal(html.length, 3);
  for (const h of html) {
    assert.ok(!h.includes('<img'), 'no element from a host name');
    assert.ok(h.includes('&lt;img src=x onerror=alert(1)&gt;.example'), 'the hostile name shows as text');
    assert.ok(h.includes('q&quot;uo&#39;te&amp;amp.example'), 'quotes and ampersands escaped');
  }
  const violations = xiaomi.attachments.find((a) => a.name === 'violations')!.body!;
  assert.match(violations, /Content-Security-Policy" content="default-src 'none'/);
  // plain text evidence keeps the names as they are
  assert.ok(xiaomi.statusDetails.trace!.includes(HOSTILE_HOST));
  assert.ok(xiaomi.statusDetails.trace!.includes(QUOTED_HOST));
});

test('attachments: evidence first, then the raw files with their types', () => {
  assert.deepEqual(
    xiaomi.attachments.map((a) => [a.name, a.contentType, a.fileExtension]),
    [
      ['violations', 'text/html', '.html'],
      ['hosts', 'text/html', '.html'],
      ['timeline', 'image/svg+xml', '.svg'],
      ['flows.csv', 'text/csv', '.csv'],
      ['flows.json', 'application/json', '.json'],
      ['verdict.json', 'application/json', '.json'],
      ['capture.pcap', 'application/vnd.tcpdump.pcap', '.pcap'],
      ['screenshot.png', 'image/png', '.png'],
      ['logcat.txt', 'text/plain', '.txt'],
      ['run.log', 'text/plain', '.txt'],
    ],
  );
  const csv = xiaomi.attachments.find((a) => a.name === 'flows.csv')!.body!;
  assert.equal(csv.trim().split('\r\n').length, 5, 'header and four flows');
  assert.ok(!pixel.attachments.some((a) => a.name === 'screenshot.png'), 'a passed run has no screenshot');
  assert.ok(!broken.attachments.some((a) => a.name === 'violations'), 'a broken run has no verdict');
});

test('a capture too big for the report is named, not attached', async () => {
  const folder = await readRunFolder(join(root, 'night-1', 'R58M123ABC', 'idle'));
  const r = await buildRunReport(folder, { maxAttachmentBytes: 50 });
  const note = r.attachments.find((a) => a.name === 'capture.pcap (not attached)')!;
  assert.equal(note.contentType, 'text/plain');
  assert.match(
    note.body!,
    /capture\.pcap is 0\.0 MB, over the 0 MB attachment limit; it stays in the run folder:\n.*capture\.pcap\n/,
  );
  assert.ok(!r.attachments.some((a) => a.path?.endsWith('capture.pcap')));
  assert.ok(
    r.attachments.some((a) => a.name === 'violations'),
    'made-up evidence is never dropped',
  );
});

test('analyse and verdict take their times from the run record, not from the files', async () => {
  const dir = join(root, 'night-1', 'R58M123ABC', 'idle');
  // A run folder copied the next morning (a CI artifact) has new file times: they do not count.
  await utimes(join(dir, 'flows.json'), T0 + 9000, T0 + 9000);
  const r = await buildRunReport(await readRunFolder(dir));
  const step = (name: string) => r.steps.find((s) => s.name === name)!;
  assert.deepEqual([step('analyse').start, step('analyse').stop], [(T0 + 66) * 1000, (T0 + 66.5) * 1000]);
  assert.deepEqual([step('verdict').start, step('verdict').stop], [(T0 + 66.5) * 1000, (T0 + 67.25) * 1000]);
});

test('a phone lost during a step breaks that step, not the capture', async () => {
  const dir = await writeTestRun(root, {
    runId: 'night-4',
    phone: 'xiaomi',
    scenario: 'idle',
    outcome: 'broken',
    reason: 'phone lost: device R58M123ABC was lost',
    hosts: [],
    t0: T0,
  });
  const r = await buildRunReport(await readRunFolder(dir));
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.status]),
    [
      ['prepare', 'passed'],
      ['capture start', 'passed'],
      ['canary start-night-4.canary.phonehome.test', 'passed'],
      ['unlock screen', 'passed'],
      ['idle 60 s', 'broken'],
      ['capture stop', 'passed'],
    ],
  );
  assert.equal(r.steps[4]!.message, 'phone lost: device R58M123ABC was lost');
});

test('a run whose expectations were never seen breaks at its verdict', async () => {
  const folder = await readRunFolder(join(root, 'night-1', '127.0.0.1_5601', 'idle'));
  const reason =
    'the scenario did not prove it ran: never seen: expect backup.googleapis.com (backup) from idle.yaml:9';
  const verdictPhase = folder.result.phases.at(-1)!;
  folder.result = {
    ...folder.result,
    outcome: 'broken',
    reason,
    broken: { stage: 'verdict', kind: 'no-proof', detail: reason },
    phases: [...folder.result.phases.slice(0, -1), { ...verdictPhase, status: 'broken', detail: reason }],
  };
  folder.verdict = {
    ...folder.verdict!,
    outcome: 'violations',
    unmetExpectations: [
      {
        rule: {
          kind: 'expect',
          match: 'backup.googleapis.com',
          reason: 'backup',
          file: 'idle.yaml',
          line: 9,
          column: 5,
        },
        ruleText: 'expect backup.googleapis.com (backup) from idle.yaml:9',
      },
    ],
  };
  const r = await buildRunReport(folder);
  assert.equal(r.status, 'broken');
  const verdict = r.steps.at(-1)!;
  assert.deepEqual([verdict.name, verdict.status, verdict.message], ['verdict', 'broken', reason]);
  assert.deepEqual(
    verdict.steps.map((s) => [s.name, s.status]),
    [['unmet expectation: never seen: expect backup.googleapis.com (backup) from idle.yaml:9', 'failed']],
  );
  assert.equal(r.steps.filter((s) => s.status === 'broken').length, 1);
});

test('a run folder from before the run record (formatVersion 1) shows its steps and says where the rest is', async () => {
  const dir = await writeTestRun(root, {
    runId: 'night-old',
    phone: 'pixel',
    scenario: 'idle',
    outcome: 'passed',
    hosts: [],
    t0: T0,
  });
  const file = join(dir, 'result.json');
  const { phases: _phases, ...rest } = JSON.parse(await readFile(file, 'utf8'));
  const steps = [
    { name: 'idle 60 s', kind: 'wait', tsStart: T0 + 4, tsEnd: T0 + 64, ok: true, detail: 'waited' },
  ];
  await writeFile(file, JSON.stringify({ ...rest, formatVersion: 1, steps }));
  const r = await buildRunReport(await readRunFolder(dir));
  assert.deepEqual(
    r.steps.map((s) => [s.name, s.status]),
    [
      ['idle 60 s', 'passed'],
      ['recorded by an older phonehome: the phases of its pipeline are in run.log', 'passed'],
    ],
  );
  assert.deepEqual([r.steps[0]!.start, r.steps[0]!.stop], [(T0 + 4) * 1000, (T0 + 64) * 1000]);
});
