/**
 * `phonehome demo`, the README's main command: simulated Xiaomi (misbehaving) and Pixel phones through
 * the built-in scenarios, then the Allure report, opened in headless Chromium as a reviewer would.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CHROMIUM, onPath } from '../testing/tools.js';
import { embedded, findLeaf, leaves, renderedDom, type Tree } from './chromium-page.js';
import { freePort } from './free-port.js';

const run = promisify(execFile);

const skip =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : onPath(CHROMIUM) === undefined
      ? 'needs chromium'
      : false;

test('make demo: both phones, their scenarios and a real violation in the rendered Allure report', {
  skip,
}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'phonehome-demo-'));
  const before = (await run('ip', ['netns', 'list'])).stdout;
  try {
    const { stdout } = await run(
      process.execPath,
      ['dist/harness/cli/main.js', 'demo', '--out', out, '--adb-port', String(await freePort())],
      { timeout: 600_000, maxBuffer: 64 << 20 },
    );
    const index = /^Allure report: (.+)$/m.exec(stdout)?.[1];
    assert.ok(index && existsSync(index), `the demo prints where the report is:\n${stdout.slice(-2000)}`);
    assert.match(stdout, /\d+ passed, [1-9]\d* failed/, 'the misbehaving phone fails');
    // Its leaks are named as identifiers, masked, with their place and encoding.
    assert.match(
      stdout,
      /^ {2}imei \d{3}…\d{3} sent to data\.mistat\.intl\.xiaomi\.com during .+: body JSON \$\.device\.h as gzip\(json\(sha256\(plain\)\)\)/m,
      'the terminal summary names the IMEI leak',
    );

    const data = embedded(await readFile(index, 'utf8'));
    const suites = JSON.parse(data.get('data/suites.json') ?? '{}') as Tree;
    const names = JSON.stringify(suites);
    assert.match(names, /Xiaomi|Redmi/, "the Xiaomi's suite is in the report");
    assert.match(names, /Pixel/, "the Pixel's suite is in the report");
    const all = leaves(suites);
    assert.ok(all.length >= 5, `scenarios in the report: ${all.join(', ')}`);
    // The misbehaving Xiaomi's idle run, opened as a reviewer would, names the unlisted host.
    const idle = all.find((n) => /^idle on .*(Redmi|23129RAA4G)/.test(n));
    assert.ok(idle, `the Xiaomi's idle run: ${all.join(', ')}`);
    const leaf = findLeaf(suites, idle)!;
    assert.equal(leaf.status, 'failed');
    const page = await renderedDom(`${pathToFileURL(index).href}#suites/${leaf.parentUid}/${leaf.uid}`);
    assert.match(page, /beacon\.unlisted-collector\.net/, 'the violation is on the rendered page');
    assert.match(page, /imei \d{3}…\d{3} sent to data\.mistat\.intl\.xiaomi\.com/, 'so is the IMEI leak');
    // The Pixel's idle run, opened the same way, passed.
    const pixelIdle = all.find((n) => /^idle on .*Pixel/.test(n));
    assert.ok(pixelIdle, `the Pixel's idle run: ${all.join(', ')}`);
    const pixelLeaf = findLeaf(suites, pixelIdle)!;
    assert.equal(pixelLeaf.status, 'passed');
    const pixelPage = await renderedDom(
      `${pathToFileURL(index).href}#suites/${pixelLeaf.parentUid}/${pixelLeaf.uid}`,
    );
    assert.match(pixelPage, /Pixel 7/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  const after = (await run('ip', ['netns', 'list'])).stdout;
  const left = after.split('\n').filter((l) => l && !before.includes(l.split(' ')[0]!));
  assert.deepEqual(left, [], 'the demo tears its simulated phones down');
});
