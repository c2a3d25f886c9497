/**
 * `phonehome scenarios` on phonehome's own device profiles and on a copy with a missing and a broken
 * allowlist: whether a scenario applies comes from a profile's capabilities and actions, and an
 * applicable scenario without a readable allowlist is bad configuration (exit 2, the file named).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { SCENARIOS } from '../scenarios/index.js';

const PHONEHOME = resolve('bin/phonehome');
const tmp = mkdtempSync(join(tmpdir(), 'phonehome-scenarios-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function phonehome(args: string[]) {
  const r = spawnSync(PHONEHOME, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface Listed {
  scenarios: {
    name: string;
    requires: Record<string, string>;
    profiles: { profile: string; status: string; why?: string; allowlist?: string }[];
  }[];
}

test('every built-in scenario applies to each profile or says which capability it lacks; none lacks an allowlist', () => {
  const r = phonehome(['scenarios', '--format', 'json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as Listed;
  assert.deepEqual(
    doc.scenarios.map((s) => s.name),
    SCENARIOS.map((s) => s.name),
  );
  const fitOf = (scenario: string, profile: string) =>
    doc.scenarios.find((s) => s.name === scenario)?.profiles.find((p) => p.profile === profile);
  assert.deepEqual(fitOf('theme-store', 'pixel-stock'), {
    profile: 'pixel-stock',
    status: 'skipped',
    why: "the pixel-stock profile does not declare themes-app (the maker's Themes app) among its capabilities",
  });
  assert.equal(fitOf('theme-store', 'xiaomi-miui-global')?.status, 'applies');
  // The 2014 pair applies to the Xiaomi only (the Pixel has no maker cloud messaging), as twins.
  assert.equal(fitOf('messages-cloud-on', 'xiaomi-miui-global')?.status, 'applies');
  assert.equal(fitOf('messages-cloud-on', 'pixel-stock')?.status, 'skipped');
  const named = (n: string) => doc.scenarios.find((s) => s.name === n) as unknown as Record<string, unknown>;
  assert.deepEqual(named('messages-cloud-on')['twin'], {
    scenario: 'messages-cloud-off',
    consent: 'cloud messaging',
  });
  assert.match(String(named('overnight-idle')['onlyWhenNamed']), /eight hours/);
  assert.deepEqual(named('overnight-idle')['requires'], {});
  for (const s of doc.scenarios)
    for (const p of s.profiles)
      if (p.status !== 'skipped') assert.equal(p.status, 'applies', `${s.name} on ${p.profile}: ${p.why}`);
  assert.equal(
    fitOf('backup-disabled', 'pixel-stock')?.allowlist,
    'devices/pixel-stock/allowlists/backup-disabled.yaml',
  );
  const table = phonehome(['scenarios']);
  assert.equal(table.status, 0);
  // Profiles in the order they are loaded (by folder name).
  assert.match(table.stdout, /^SCENARIO\s+STEPS\s+NEEDS\s+PIXEL-STOCK\s+XIAOMI-MIUI-GLOBAL$/m);
  assert.match(table.stdout, /^theme-store\s+7\s+themes-app\s+no \(capability\)\s+yes$/m);
  // What only the lab can do for a scenario is listed with its needs.
  assert.deepEqual(named('sim-inserted')['hooks'], ['sim.remove', 'sim.insert']);
  assert.match(table.stdout, /^sim-inserted\s+5\s+hook sim\.remove, hook sim\.insert\s+yes\s+yes$/m);
  assert.match(table.stdout, /^account-sign-in\s+8\s+appium, vendor-account\s+yes\s+yes$/m);
  // The factory reset the first-start pair starts with is a hook of the lab's.
  assert.deepEqual(named('first-start')['hooks'], ['phone.reset']);
  assert.deepEqual(named('first-start-defaults')['twin'], {
    scenario: 'first-start',
    consent: "the setup wizard's defaults",
  });
  assert.match(table.stdout, /^first-start\s+6\s+hook phone\.reset\s+yes\s+yes$/m);
  // Every consent twin names a scenario that exists; the SIM's twin needs the maker's cloud messaging.
  for (const s of doc.scenarios) {
    const twin = (s as unknown as { twin?: { scenario: string } }).twin;
    if (twin) assert.ok(named(twin.scenario), `${s.name}'s twin ${twin.scenario} is a scenario`);
  }
  assert.deepEqual(named('sim-inserted-cloud-on')['twin'], {
    scenario: 'sim-inserted',
    consent: 'cloud messaging',
  });
  assert.equal(fitOf('sim-inserted-cloud-on', 'pixel-stock')?.status, 'skipped');
  assert.deepEqual(named('account-sign-in-backup-on')['twin'], {
    scenario: 'account-sign-in',
    consent: 'cloud backup',
  });
  assert.equal(fitOf('account-sign-in-backup-on', 'pixel-stock')?.status, 'applies');
  assert.match(table.stdout, /^overnight-idle runs only when named: eight hours/m);
  assert.match(
    table.stdout,
    /^messages-cloud-on has a consent-off twin: messages-cloud-off \(cloud messaging\)$/m,
  );
});

test('a missing or broken allowlist for a scenario that applies: exit 2, the file and the field named', () => {
  const devices = join(tmp, 'devices');
  cpSync('devices', devices, { recursive: true });
  rmSync(join(devices, 'pixel-stock', 'allowlists', 'backup-disabled.yaml'));
  writeFileSync(
    join(devices, 'xiaomi-miui-global', 'allowlists', 'idle.yaml'),
    'extends: [base.yaml]\nallow:\n  - port: 99999\n',
  );
  const r = phonehome(['scenarios', '--devices-dir', devices]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(
    r.stderr,
    /scenario backup-disabled applies to pixel-stock but: no allowlist: .*pixel-stock\/allowlists\/backup-disabled\.yaml/,
  );
  assert.match(r.stderr, /scenario idle applies to xiaomi-miui-global but: .*idle\.yaml:3:\d+: allow\[0\]/);
  assert.match(r.stdout, /^backup-disabled\s+\d+\s+-\s+\S+\s+BROKEN$/m);
});
