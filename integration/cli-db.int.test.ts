/**
 * `phonehome db` as a user runs it: the installed location databases with versions, ages and
 * attributions, the age warning, --check reading every file through, --json, bad usage.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';

const CLI = resolve('dist/harness/cli/main.js');

function phonehome(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('phonehome db lists the four databases with version, build date, age, licence and attributions', () => {
  const r = phonehome(['db', '--no-config', '--max-age-days', '100000']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'nothing older than 100000 days');
  for (const name of ['geo-whois-asn-country', 'iptoasn-country', 'dbip-city', 'asn'])
    assert.match(
      r.stdout,
      new RegExp(
        `^${name}\\s+(country|city|asn)\\s+2\\.3\\.\\d{10}\\s+20\\d\\d-\\d\\d-\\d\\d\\s+\\d+ d\\s+[\\d.]+ MB`,
        'm',
      ),
    );
  assert.match(r.stdout, /IP Geolocation by DB-IP/);
  assert.match(r.stdout, /RouteViews/);
});

test('phonehome db warns about a database older than --max-age-days, and --check reads every file', () => {
  const r = phonehome(['db', '--no-config', '--check', '--max-age-days', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {
    formatVersion: number;
    maxAgeDays: number;
    databases: { name: string; ageDays: number; check: string; bytes: number }[];
    warnings: string[];
  };
  assert.equal(doc.formatVersion, 1);
  assert.equal(doc.maxAgeDays, 1);
  assert.equal(doc.databases.length, 4);
  for (const d of doc.databases) {
    assert.ok(d.ageDays > 1, `${d.name} is older than a day`);
    assert.ok(d.bytes > 1_000_000, `${d.name} has its files`);
    assert.ok(!/unreadable|damaged/.test(d.check), `${d.name}: ${d.check}`);
  }
  assert.match(doc.databases.find((d) => d.name === 'asn')!.check, /^\d+ IPv4 and \d+ IPv6 ranges in order/);
  assert.equal(doc.warnings.length, 4);
  assert.match(
    doc.warnings[0]!,
    /^geo-whois-asn-country was built \d+ days ago \(20\d\d-\d\d-\d\d\), more than 1: update @ip-location-db\/geo-whois-asn-country-mmdb/,
  );
});

test('phonehome db: bad usage exits 2 with one line', () => {
  const r = phonehome(['db', '--no-config', '--max-age-days', 'soon']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^phonehome: --max-age-days: not a whole number of days ≥ 1: soon\n$/);
});
