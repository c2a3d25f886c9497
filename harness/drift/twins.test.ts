import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RunSummary } from './summary.js';
import { compareTwins } from './twins.js';

const run = (
  scenario: string,
  hosts: Record<string, number>,
  extra: Partial<RunSummary> = {},
): RunSummary & { dir: string } => ({
  formatVersion: 1,
  runId: 'night-1',
  scenario,
  started: 1,
  hosts: Object.fromEntries(
    Object.entries(hosts).map(([h, b]) => [
      h,
      { provenance: ['sni'], countries: [], orgs: [], connections: 1, bytesUp: b, bytesDown: 10 },
    ]),
  ),
  countries: [],
  orgs: [],
  leaks: [],
  apps: [],
  dir: `runs/night-1/phone/${scenario}`,
  ...extra,
});

describe('consent twins', () => {
  it('side by side: what only the consent-on run has first, then by bytes; what only the off run has', () => {
    const on = run(
      'backup-enabled',
      { 'api.micloud.xiaomi.net': 900_000, 'resolver.msg.global.xiaomi.net': 500, 'a.example': 10 },
      { countries: ['SG', 'CN'], orgs: ['Xiaomi'], leaks: ['imsi → api.account.xiaomi.com'] },
    );
    const off = run(
      'backup-disabled',
      { 'resolver.msg.global.xiaomi.net': 400, 'a.example': 10, 'b.example': 5 },
      { countries: ['SG'], orgs: ['Xiaomi'] },
    );
    const t = compareTwins('cloud backup', on, off);
    assert.equal(t.consent, 'cloud backup');
    assert.deepEqual(t.on, { scenario: 'backup-enabled', runId: 'night-1', dir: on.dir });
    assert.deepEqual(
      t.rows.map((r) => r.host),
      ['api.micloud.xiaomi.net', 'resolver.msg.global.xiaomi.net', 'a.example', 'b.example'],
    );
    assert.deepEqual(t.rows[0], {
      host: 'api.micloud.xiaomi.net',
      on: { connections: 1, bytesUp: 900_000, bytesDown: 10 },
    });
    assert.deepEqual(t.rows[3], { host: 'b.example', off: { connections: 1, bytesUp: 5, bytesDown: 10 } });
    assert.deepEqual(t.onlyOn, {
      hosts: ['api.micloud.xiaomi.net'],
      countries: ['CN'],
      orgs: [],
      leaks: ['imsi → api.account.xiaomi.com'],
    });
    assert.deepEqual(t.onlyOff, { hosts: ['b.example'] });
  });
});
