/**
 * The scenarios that change the phone through its UI, run for real: `phonehome run` with a local
 * Appium 3 + UiAutomator2 driver against a simulated Xiaomi. Every UI step goes through the driver,
 * and the hosts a step causes appear only after that step (flow timestamps against step times).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

interface Step {
  phase: string;
  name: string;
  kind: string;
  tsStart: number;
  detail: string;
}

function findAll(dir: string, name: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? findAll(p, name) : e === name ? [p] : [];
  });
}

test('UI steps of backup-enabled, theme-store and analytics-opt-out run through the real UiAutomator2 driver', {
  skip: process.getuid?.() === 0 ? false : 'needs root (network namespaces)',
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'phonehome-scenario-ui-'));
  try {
    await writeFile(join(dir, 'config.json'), JSON.stringify({ appium: { local: {} } }));
    const args = ['dist/harness/cli/main.js', 'run', '--sim', 'xiaomi-redmi-note-13', '--plain'];
    args.push(
      '--scenario',
      'backup-enabled,theme-store,analytics-opt-out',
      '--config',
      join(dir, 'config.json'),
    );
    args.push('--out', join(dir, 'out'), '--adb-port', String(await freePort()));
    const r = await run(process.execPath, args, { timeout: 600_000, maxBuffer: 64 << 20 }).catch(
      (e: { code?: number; stdout?: string; stderr?: string }) => e,
    );
    const out = `${r.stdout ?? ''}\n${(r.stderr ?? '').slice(-3000)}`;
    assert.equal((r as { code?: number }).code ?? 0, 0, `all three pass:\n${out}`);

    const results = new Map<string, { dir: string; steps: Step[] }>();
    for (const f of findAll(join(dir, 'out', 'runs'), 'result.json')) {
      const res = JSON.parse(await readFile(f, 'utf8')) as { scenario: string; dir: string; phases: Step[] };
      // The scenario's steps among the run's recorded phases.
      results.set(res.scenario, { dir: res.dir, steps: res.phases.filter((x) => x.phase === 'step') });
    }
    assert.deepEqual([...results.keys()].sort(), ['analytics-opt-out', 'backup-enabled', 'theme-store']);
    for (const [name, res] of results) {
      for (const s of res.steps.filter((x) => x.kind === 'action' && x.name !== 'join Wi-Fi')) {
        assert.match(s.detail, /^UI: /, `${name} › ${s.name} ran through Appium: ${s.detail}`);
      }
    }

    // Hosts are contacted only after the step that causes them. A DNS flow is left out: the phone's
    // resolver keeps one UDP socket for many questions (c-ares does), so the flow that asked for a
    // host may have begun long before, with an earlier question.
    const firstSeen = async (scenario: string, suffix: string) => {
      const a = JSON.parse(await readFile(join(results.get(scenario)!.dir, 'flows.json'), 'utf8')) as {
        flows: { tsStart: number; names: { name: string; source: string }[] }[];
      };
      const ts = a.flows
        .filter((f) => f.names.some((n) => n.source !== 'dns-query' && n.name.endsWith(suffix)))
        .map((f) => f.tsStart);
      assert.ok(ts.length > 0, `${scenario}: some ${suffix} flow`);
      return Math.min(...ts);
    };
    const stepStart = (scenario: string, step: string) => {
      const s = results.get(scenario)!.steps.find((x) => x.name === step);
      assert.ok(s, `${scenario} has step ${step}`);
      return s.tsStart;
    };
    assert.ok(
      (await firstSeen('backup-enabled', '.micloud.xiaomi.net')) >=
        stepStart('backup-enabled', 'turn backup on'),
      'backup hosts only after backup was turned on',
    );
    assert.ok(
      (await firstSeen('backup-enabled', 'appbackupapi.micloud.xiaomi.net')) >=
        stepStart('backup-enabled', 'back up now'),
      'the backup upload only after "Back up now"',
    );
    assert.ok(
      (await firstSeen('theme-store', 'thm.market.intl.xiaomi.com')) >=
        stepStart('theme-store', 'open Themes'),
      'theme hosts only after Themes was opened',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
