/**
 * The location pair on simulated phones, through the compiled CLI with the real Appium and
 * UiAutomator2 driver: location-on turns location on in Settings and opens Maps, location-off leaves it
 * off. On a well-behaved Xiaomi and a Pixel both pass, Google's location lookups (www.google.com) come
 * only after the step that turns location on, and the pair's comparison names the host only the
 * consent-on run has; a Xiaomi that goes on looking its position up with location off fails
 * location-off on the budget for that host. Two phonehome processes run side by side, each with its own
 * lab and adb server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { TwinComparison } from '../harness/drift/twins.js';
import type { RunResult } from '../harness/record/run-record.js';
import type { Verdict } from '../harness/verdict/verdict.js';
import { gate } from '../testing/gate.js';
import { type CliRun, connectionsTo, phonehomeProcess, putLabsAway } from './cli-process.js';
import { freePort } from './free-port.js';

const _exec = promisify(execFile);
const hasAppium = existsSync(resolve('node_modules/.bin/appium'));
const group = gate(
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : !hasAppium
      ? 'needs Appium (make setup)'
      : false,
);

/** A scenario's run folder per phone maker, with what the run wrote there. */
function runsOf(
  out: string,
  scenario: string,
): Map<string, { result: RunResult; verdict: Verdict; dir: string }> {
  const found = new Map<string, { result: RunResult; verdict: Verdict; dir: string }>();
  const runs = join(out, 'runs');
  for (const night of readdirSync(runs))
    for (const phone of readdirSync(join(runs, night))) {
      const dir = join(runs, night, phone, scenario);
      if (!existsSync(join(dir, 'verdict.json'))) continue;
      const dev = JSON.parse(readFileSync(join(dir, 'device.json'), 'utf8')) as { manufacturer: string };
      found.set(dev.manufacturer, {
        dir,
        result: JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RunResult,
        verdict: JSON.parse(readFileSync(join(dir, 'verdict.json'), 'utf8')) as Verdict,
      });
    }
  return found;
}

group.describe('location on and off, the consent pair, on a Xiaomi and a Pixel through UiAutomator2', () => {
  let tmp: string;
  let good: CliRun | undefined;
  let bad: CliRun | undefined;

  group.before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'phonehome-location-'));
    const run = async (sims: string[], out: string) =>
      phonehomeProcess([
        'run',
        '--sim',
        ...sims,
        '--scenario',
        'location-on',
        'location-off',
        // Four and a half minutes of phone time each, in five seconds. Not faster: the Appium steps
        // take seconds of wall time whatever the speed, and at 240 they alone made 30 minutes of
        // phone time, enough for the Pixel's idle lookups (every 10 minutes) to reach location-off's
        // budget of 3 on a slow host.
        '--speed',
        '60',
        '--no-history',
        '--plain',
        '--adb-port',
        String(await freePort()),
        '--out',
        join(tmp, out),
      ]);
    [good, bad] = await Promise.all([
      run(['xiaomi-redmi-note-13', 'pixel-7'], 'good'),
      run(['xiaomi-redmi-note-13+location-after-off'], 'bad'),
    ]);
  });
  group.after(async () => {
    await putLabsAway([good?.out, bad?.out]);
    await rm(tmp, { recursive: true, force: true });
  });

  group.it('both pass; the lookups start with the step that turns location on, which Appium drove', () => {
    assert.equal(good?.code, 0, good?.out);
    const on = runsOf(join(tmp, 'good'), 'location-on');
    const off = runsOf(join(tmp, 'good'), 'location-off');
    for (const [maker, atLeast, atMostOff] of [
      ['Xiaomi', 3, 0],
      ['Google', 4, 3],
    ] as const) {
      const a = on.get(maker);
      const b = off.get(maker);
      assert.ok(a && b, `${maker} ran both: ${[...on.keys()]} / ${[...off.keys()]}`);
      assert.equal(a.result.outcome, 'passed', a.result.reason);
      assert.equal(b.result.outcome, 'passed', b.result.reason);
      for (const step of ['turn location on', 'open Maps'])
        assert.equal(a.result.phases.find((p) => p.name === step)?.provider, 'ui', `${maker}: ${step}`);
      const seenOn = connectionsTo(a.verdict, 'www.google.com');
      const seenOff = connectionsTo(b.verdict, 'www.google.com');
      assert.ok(seenOn >= atLeast, `${maker}: ${seenOn} lookups with location on`);
      assert.ok(seenOff <= atMostOff, `${maker}: ${seenOff} lookups with location off`);
      assert.ok(seenOn > seenOff * 3, `${maker}: ${seenOn} on against ${seenOff} off`);
      // Beyond the Pixel's idle lookups, every lookup follows the step that turned location on.
      const turnedOn = a.result.phases.find((p) => p.name === 'turn location on')!.tsStart;
      const flows = JSON.parse(readFileSync(join(a.dir, 'flows.json'), 'utf8')) as {
        flows: { uid: string; tsStart: number }[];
      };
      const ids = new Set(
        a.verdict.judgements
          .filter((j) => j.subject === 'www.google.com' && j.provenance !== 'dns-query')
          .map((j) => j.uid),
      );
      const before = flows.flows.filter((f) => ids.has(f.uid) && f.tsStart < turnedOn).length;
      assert.ok(
        before <= (maker === 'Google' ? 1 : 0),
        `${maker}: ${before} lookups before location came on`,
      );
    }
    // The pair side by side on the Xiaomi: the location host is what only the consent-on run has.
    const twin = JSON.parse(
      readFileSync(join(off.get('Xiaomi')!.dir, 'twin.json'), 'utf8'),
    ) as TwinComparison;
    assert.equal(twin.consent, 'location');
    assert.ok(twin.onlyOn.hosts.includes('www.google.com'), JSON.stringify(twin.onlyOn));
  });

  group.it(
    'a Xiaomi that goes on looking itself up with location off fails location-off on that host',
    () => {
      assert.equal(bad?.code, 1, bad?.out);
      const off = runsOf(join(tmp, 'bad'), 'location-off').get('Xiaomi');
      assert.ok(off, 'the misbehaving Xiaomi ran location-off');
      assert.equal(off.result.outcome, 'failed', off.result.reason);
      const budget = off.verdict.budgets.find((b) => b.ruleText.includes('www.google.com'));
      assert.ok(budget?.exceeded, JSON.stringify(off.verdict.budgets));
      assert.match(off.result.reason ?? '', /www\.google\.com/);
      const on = runsOf(join(tmp, 'bad'), 'location-on').get('Xiaomi');
      assert.equal(on?.result.outcome, 'passed', on?.result.reason);
    },
  );
});
