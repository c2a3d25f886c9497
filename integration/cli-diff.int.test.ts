/**
 * `phonehome diff RUN_A RUN_B` on run folders in the run record's shapes (testing/run-folders.ts):
 * a new host named with its detail, no change between alike runs, a hostile host name kept off the
 * terminal as markup or control bytes, JSON, and bad input.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { HOSTILE_HOST, writeTestRun } from '../testing/run-folders.js';

const CLI = resolve('dist/harness/cli/main.js');
const root = mkdtempSync(join(tmpdir(), 'phonehome-diff-'));
after(() => rmSync(root, { recursive: true, force: true }));

function phonehome(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const T0 = 1_763_900_000;

test('phonehome diff names what the later run contacted that the earlier did not, and what it stopped', async () => {
  const a = await writeTestRun(root, {
    runId: 'night-1',
    phone: 'xiaomi',
    scenario: 'idle',
    outcome: 'passed',
    hosts: ['api.ad.intl.xiaomi.com', 'resolver.msg.global.xiaomi.net'],
    t0: T0,
  });
  const b = await writeTestRun(root, {
    runId: 'night-2',
    phone: 'xiaomi',
    scenario: 'idle',
    outcome: 'failed',
    hosts: ['api.ad.intl.xiaomi.com', 'beacon.unlisted-collector.net', HOSTILE_HOST],
    t0: T0 + 86_400,
  });
  const r = phonehome(['diff', a, b]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^idle: night-2 against night-1$/m);
  assert.match(
    r.stdout,
    /^new-host\s+beacon\.unlisted-collector\.net\s+first seen during step "idle 60 s": 1 connection, [\d.]+ kB up/m,
  );
  assert.match(
    r.stdout,
    /^gone-host\s+resolver\.msg\.global\.xiaomi\.net\s+not contacted; every one of the 1 earlier run did$/m,
  );
  assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(r.stdout), 'no control bytes on the terminal');

  const j = phonehome(['diff', '--format', 'json', a, b]);
  assert.equal(j.status, 1);
  const doc = JSON.parse(j.stdout) as {
    formatVersion: number;
    findings: { kind: string; subject: string }[];
  };
  assert.equal(doc.formatVersion, 1);
  assert.deepEqual(
    doc.findings.map((f) => `${f.kind} ${f.subject}`).sort(),
    [
      'gone-host resolver.msg.global.xiaomi.net',
      `new-host ${HOSTILE_HOST}`,
      'new-host beacon.unlisted-collector.net',
    ].sort(),
  );

  const same = phonehome(['diff', a, a]);
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /^no change$/m);
});

test('phonehome diff: a folder that is no run, and a run that broke before analysing, exit 2 with one line', async () => {
  const broken = await writeTestRun(root, {
    runId: 'night-3',
    phone: 'pixel',
    scenario: 'idle',
    outcome: 'broken',
    reason: 'capture not working: the capture process exited 1',
    broken: { stage: 'capture start', kind: 'capture' },
    hosts: [],
    t0: T0,
  });
  const none = phonehome(['diff', root, broken]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^phonehome: .* is not a run folder: it has no result\.json\n$/);
  // A run that broke before its analysis has no flows.json.
  rmSync(join(broken, 'flows.json'), { force: true });
  const early = phonehome(['diff', broken, broken]);
  assert.equal(early.status, 2);
  assert.match(
    early.stderr,
    /^phonehome: .*idle: no flows\.json to compare \(broken: capture not working: the capture process exited 1\)\n$/,
  );
});

test('phonehome baseline accept, then baseline diff: a new host against the accepted nights', async () => {
  const history = join(root, 'history');
  const nights = [];
  for (const [i, hosts] of [
    ['api.ad.intl.xiaomi.com', 'resolver.msg.global.xiaomi.net'],
    ['api.ad.intl.xiaomi.com', 'resolver.msg.global.xiaomi.net'],
  ].entries())
    nights.push(
      await writeTestRun(root, {
        runId: `b-night-${i + 1}`,
        phone: 'xiaomi',
        scenario: 'idle',
        outcome: 'passed',
        hosts,
        t0: T0 + i * 86_400,
      }),
    );
  const none = phonehome(['baseline', 'diff', '--history', history, nights[0]!]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^phonehome: no baseline for xiaomi-miui-global › idle in .*history/);
  const acc = phonehome(['baseline', 'accept', '--history', history, ...nights]);
  assert.equal(acc.status, 0, acc.stderr);
  assert.match(
    acc.stdout,
    /^accepted b-night-1 \(xiaomi-miui-global › idle, 2 hosts\) into .*xiaomi-miui-global\/idle\.json$/m,
  );
  const tonight = await writeTestRun(root, {
    runId: 'b-night-3',
    phone: 'xiaomi',
    scenario: 'idle',
    outcome: 'failed',
    hosts: ['api.ad.intl.xiaomi.com', 'resolver.msg.global.xiaomi.net', 'beacon.unlisted-collector.net'],
    t0: T0 + 2 * 86_400,
  });
  const d = phonehome(['baseline', 'diff', '--history', history, tonight]);
  assert.equal(d.status, 1, d.stderr);
  assert.match(d.stdout, /^xiaomi-miui-global › idle: b-night-3 against 2 accepted runs$/m);
  assert.match(d.stdout, /^new-host\s+beacon\.unlisted-collector\.net\s+first seen/m);
  const same = phonehome(['baseline', 'diff', '--history', history, nights[1]!]);
  assert.equal(same.status, 0, same.stdout);
});
