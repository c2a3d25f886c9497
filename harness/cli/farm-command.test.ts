/**
 * `phonehome farm matrix` through the compiled CLI: the matrix on standard output as one line of
 * JSON, warnings on standard error, and a wrong farm file refused with exit 2 naming its line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

const MAIN = resolve('dist/harness/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'phonehome-farm-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function farm(args: string[]) {
  return spawnSync(process.execPath, [MAIN, 'farm', 'matrix', ...args], { encoding: 'utf8' });
}

test('farm matrix prints one job per host; an adb server off loopback is warned about on stderr', () => {
  const file = join(dir, 'farm.yaml');
  writeFileSync(
    file,
    'formatVersion: 1\nhosts:\n  - name: lab-a\n    captureInterface: wlan-ap0\n    phones: [{ serial: a1b2 }]\n' +
      '  - name: lab-b\n    capture: pcapdroid\n    adb: { host: 10.1.2.3 }\n    phones: [{ profile: pixel-stock }]\n',
  );
  const r = farm(['--file', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'one line, for $GITHUB_OUTPUT');
  const m = JSON.parse(r.stdout) as { include: { host: string; runsOn: string[]; phoneArgs: string[] }[] };
  assert.deepEqual(
    m.include.map((j) => [j.host, j.runsOn.join(','), j.phoneArgs.join(' ')]),
    [
      ['lab-a', 'self-hosted,phonehome,lab-a', '--device a1b2'],
      ['lab-b', 'self-hosted,phonehome,lab-b', '--profile pixel-stock'],
    ],
  );
  assert.match(r.stderr, /^phonehome: warning: lab-b: the adb server 10\.1\.2\.3:5037 is not on loopback/);
});

test('a wrong or missing farm file: one line naming it, exit 2, nothing on stdout', () => {
  const bad = join(dir, 'bad.yaml');
  writeFileSync(
    bad,
    'formatVersion: 1\nhosts:\n  - name: Lab A\n    captureInterface: eth0\n    phones: [{ serial: x }]\n',
  );
  const r = farm(['--file', bad]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `phonehome: ${bad}:3:11: hosts[0].name: a short name: lower-case letters, digits and hyphens (at most 39)\n`,
  );
  const missing = farm(['--file', join(dir, 'nope.yaml')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^phonehome: cannot read the farm file .*nope\.yaml: no such file\n$/);
});
