/**
 * Every scenario phonehome runs by default, on every simulated phone, in one `phonehome run` as a lab
 * runs its night: a well-behaved Xiaomi and Pixel, and a Xiaomi that contacts an unlisted host in
 * mainland China and leaks its identifiers. UI steps go through the real Appium 3 and UiAutomator2
 * driver; the phones have a SIM in, and the accounts account-sign-in types come from the environment. The well-behaved phones pass every scenario that applies to them,
 * each UI action done by UI; a scenario is skipped only for a capability the phone's profile does not
 * declare, never for a missing allowlist; the misbehaving Xiaomi fails every one, naming the host,
 * and the identifiers where it sent them in clear.
 * About a minute at speed 240.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProfiles } from '../harness/device/profiles.js';
import { SCENARIOS } from '../scenarios/index.js';
import { readSimState } from '../sim/sim-state.js';
import { gate } from '../testing/gate.js';
import { labStateDirs, phonehomeProcess, putLabsAway } from './cli-process.js';
import { freePort } from './free-port.js';

/** Accounts and passwords for account-sign-in, as a lab host's environment gives them. */
const SECRETS = {
  PHONEHOME_MI_ACCOUNT: 'matrix.mi@example.org',
  PHONEHOME_MI_PASSWORD: 'Tr0ub4dor&3-mi',
  PHONEHOME_GOOGLE_ACCOUNT: 'matrix.google@example.org',
  PHONEHOME_GOOGLE_PASSWORD: 'correct-horse-battery-g',
};

/** Every file under dir. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

const group = gate(process.getuid?.() === 0 ? false : 'needs root (network namespaces)');

interface Phase {
  phase: string;
  name: string;
  detail?: string;
  provider?: string;
}
interface Result {
  serial: string;
  scenario: string;
  dir: string;
  profile?: string;
  outcome: string;
  reason: string;
  phases: Phase[];
  violations: { host?: string; name?: string; kind?: string; text?: string }[];
}

group.describe('every scenario on every simulated phone', () => {
  let work: string | undefined;
  let out = '';

  group.after(async () => {
    await putLabsAway([out]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  group.it(
    'the well-behaved phones pass each one that applies, by UI; the misbehaving Xiaomi fails each, naming the host',
    async (t) => {
      work = await mkdtemp(join(tmpdir(), 'phonehome-matrix-'));
      /** adb serial → the misbehaviours of its lab, read from the lab's state while it is up. */
      const misbehaving = new Map<string, string[]>();
      const read = new Set<string>();
      /** The phones' hardware serials: identifiers, never written raw (a factory reset's output names them). */
      const serials = new Set<string>();
      const run = await phonehomeProcess(
        [
          'run',
          '--sim',
          'xiaomi-redmi-note-13',
          'pixel-7',
          'xiaomi-redmi-note-13+unknown-host+leak-ids',
          '--sim-card',
          '--speed',
          '240',
          '--plain',
          '--no-history',
          '--adb-port',
          String(await freePort()),
          '--out',
          join(work, 'reports'),
        ],
        (text) => {
          out = text;
          for (const dir of labStateDirs(text)) {
            if (read.has(dir)) continue;
            const state = readSimState(dir);
            if (!state) continue;
            read.add(dir);
            for (const p of state.phones) {
              misbehaving.set(p.adbSerial, state.misbehave);
              serials.add(p.serial);
            }
          }
        },
        // The accounts account-sign-in types: secrets that must not reach any file or line of output.
        SECRETS,
      );
      out = run.out;
      assert.equal(run.code, 1, run.out);
      assert.equal(misbehaving.size, 3, `three phones in the labs: ${[...misbehaving.keys()]}`);
      assert.doesNotMatch(run.out, /MaxListenersExceededWarning|no UI automation/);

      const profiles = await loadProfiles('devices');
      const expected = SCENARIOS.filter((s) => !s.onlyWhenNamed);
      const results: Result[] = [];
      const runsDir = join(work, 'reports', 'runs');
      for (const runId of await readdir(runsDir))
        for (const phone of await readdir(join(runsDir, runId)))
          for (const scenario of await readdir(join(runsDir, runId, phone)))
            results.push(
              JSON.parse(
                await readFile(join(runsDir, runId, phone, scenario, 'result.json'), 'utf8'),
              ) as Result,
            );

      let leakRuns = 0;
      let badRuns = 0;
      const skippedLines = [...run.out.matchAll(/^skipped: .*\(([^)]+)\) › ([a-z-]+): (.*)$/gm)];
      for (const [serial, misbehave] of misbehaving) {
        const mine = results.filter((r) => r.serial === serial);
        const profileName = mine[0]?.profile;
        const profile = profiles.find((p) => p.name === profileName);
        assert.ok(profile, `${serial}: runs with a known profile (${profileName})`);
        for (const s of expected) {
          const r = mine.find((x) => x.scenario === s.name);
          const skip = skippedLines.find((m) => m[1] === serial && m[2] === s.name);
          const missing: string[] = Object.keys(s.requires ?? {}).filter(
            (c) => !profile.capabilities.includes(c),
          );
          if (missing.length > 0) {
            // Skipped for the capability the profile lacks, with that reason, and not run.
            assert.equal(r, undefined, `${serial} ${s.name} ran without ${missing.join(', ')}`);
            assert.ok(skip, `${serial} ${s.name} skipped: ${run.out}`);
            assert.match(skip[3]!, new RegExp(`does not declare ${missing[0]}`));
            continue;
          }
          assert.equal(skip, undefined, `${serial} ${s.name} was skipped: ${skip?.[3]}`);
          assert.ok(r, `${serial} ${s.name} ran`);
          if (misbehave.length === 0) {
            assert.equal(r.outcome, 'passed', `${serial} ${s.name}: ${r.reason}`);
            // Each action that the profile can do by UI was done by UI.
            for (const step of s.steps) {
              if (step.kind !== 'action' || !profile.actions[step.action]?.ui?.length) continue;
              const done = r.phases.find((p) => p.phase === 'step' && p.name === step.name);
              assert.match(done?.detail ?? '', /^UI: /, `${serial} ${s.name} "${step.name}" by UI`);
            }
          } else {
            assert.equal(r.outcome, 'failed', `${serial} ${s.name}: ${r.reason}`);
            // The identifiers it sends in clear (every 5 minutes of phone time, from the start).
            const verdict = JSON.parse(await readFile(join(r.dir, 'verdict.json'), 'utf8')) as {
              identifierLeaks?: { leak: { kind: string }; status: string }[];
            };
            badRuns += 1;
            leakRuns += verdict.identifierLeaks?.some((j) => j.leak.kind === 'imei') ? 1 : 0;
            assert.match(
              JSON.stringify(r.violations),
              /beacon\.unlisted-collector\.net/,
              `${serial} ${s.name}`,
            );
          }
        }
      }
      // What was typed went into the phones and nowhere else: not the output, not a file of the
      // report folder (run records, Allure results, Appium's log).
      const files = await filesUnder(join(work, 'reports'));
      assert.ok(
        files.some((f) => f.endsWith('appium.log')),
        "Appium's log is in the report folder",
      );
      for (const value of Object.values(SECRETS)) {
        assert.ok(!run.out.includes(value), `${value} in the output`);
        for (const f of files) assert.ok(!(await readFile(f)).includes(value), `${value} in ${f}`);
      }
      // Nor the phones' serials, outside the captures (the evidence, kept raw).
      assert.ok(serials.size >= 2, [...serials].join(', '));
      for (const serial of serials) {
        assert.ok(!run.out.includes(serial), `${serial} in the output`);
        for (const f of files.filter((x) => !x.endsWith('.pcap')))
          assert.ok(!(await readFile(f)).includes(serial), `the serial ${serial} in ${f}`);
      }
      assert.equal(leakRuns, badRuns, "the IMEI found in each of the misbehaving Xiaomi's runs");
      t.diagnostic(`${results.length} runs; the misbehaving Xiaomi's IMEI found in ${leakRuns} of them`);
    },
  );
});
