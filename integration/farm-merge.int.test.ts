/**
 * A device farm of two lab hosts on one machine, as the nightly workflow runs it: two simulated labs,
 * each with its own adb server port, its own lock folder and its own Redmi Note 13 (the same model
 * on both hosts), run at the same time by two `phonehome run` processes as the two matrix jobs
 * would; each host's job ends with `phonehome farm host-record`. Then `phonehome report --merge`
 * with a farm file that also lists a third host that sent nothing: one report with both hosts'
 * suites, the third host broken, each host's baselines kept; the page checked in headless Chromium.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gate } from '../testing/gate.js';
import { CHROMIUM, onPath } from '../testing/tools.js';
import { embedded, findLeaf, leaves, renderedDom, type Tree } from './chromium-page.js';
import { type CliRun, phonehomeProcess, putLabsAway } from './cli-process.js';
import { freePort } from './free-port.js';

const group = gate(
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : !onPath(CHROMIUM)
      ? 'needs chromium'
      : !onPath('java')
        ? 'needs Java (allure-commandline)'
        : false,
);

const FARM = `formatVersion: 1
hosts:
  - name: lab-1
    captureInterface: wlan-ap0
    phones: [{ profile: xiaomi-miui-global }]
  - name: lab-2
    captureInterface: wlan-ap0
    phones: [{ profile: xiaomi-miui-global }]
  - name: lab-3
    captureInterface: wlan-ap0
    phones: [{ profile: pixel-stock }]
`;

group.describe('a farm of two lab hosts merged into one report', () => {
  let tmp: string;
  const outputs: string[] = [];
  group.before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'phonehome-farm-'));
  });
  group.after(async () => {
    await putLabsAway(outputs);
    await rm(tmp, { recursive: true, force: true });
  });

  /** One host's nightly job: its phones run, then host.json beside the results, in farm/farm-HOST. */
  const hostJob = async (host: string): Promise<CliRun> => {
    const dir = join(tmp, 'farm', `farm-${host}`);
    const locks = join(tmp, `locks-${host}`);
    await mkdir(locks, { recursive: true });
    const run = await phonehomeProcess(
      [
        'run',
        '--sim',
        'xiaomi-redmi-note-13',
        '--scenario',
        'idle',
        '--speed',
        '120',
        '--no-ui',
        '--plain',
        '--adb-port',
        String(await freePort()),
        '--out',
        dir,
        '--accept',
      ],
      undefined,
      { PHONEHOME_LOCK_DIR: locks },
    );
    outputs.push(run.out);
    const record = await phonehomeProcess([
      'farm',
      'host-record',
      '--host',
      host,
      '--exit-status',
      String(run.code ?? 'signal'),
      '--out',
      join(dir, 'host.json'),
    ]);
    assert.equal(record.code, 0, record.out);
    return run;
  };

  group.it('both hosts under their names, the same model twice, the silent host broken', async () => {
    // The two jobs at once, each with its own lock folder as on its own machine.
    const runs = await Promise.all([hostJob('lab-1'), hostJob('lab-2')]);
    for (const r of runs) assert.equal(r.code, 0, r.out);
    const farmFile = join(tmp, 'farm.yaml');
    await writeFile(farmFile, FARM);
    const report = join(tmp, 'report');
    const merged = await phonehomeProcess([
      'report',
      '--merge',
      join(tmp, 'farm', 'farm-lab-1'),
      join(tmp, 'farm', 'farm-lab-2'),
      '--farm',
      farmFile,
      '--results',
      join(tmp, 'merged'),
      '--out',
      report,
    ]);
    assert.equal(merged.code, 0, merged.out);
    assert.match(merged.out, /lab host lab-1: 1 result, its run ended with exit status 0/);
    assert.match(merged.out, /lab host lab-3: BROKEN: no results from this host/);
    const index = join(report, 'index.html');
    assert.ok(merged.out.includes(index), merged.out);
    // Each host's baselines, where the next night's job of that host looks for them.
    for (const host of ['lab-1', 'lab-2'])
      assert.ok(existsSync(join(report, 'baselines', host, 'xiaomi-miui-global', 'idle.json')), host);

    const data = embedded(await readFile(index, 'utf8'));
    const suites = JSON.parse(data.get('data/suites.json')!) as Tree;
    assert.deepEqual(suites.children!.map((c) => c.name).sort(), ['lab-1', 'lab-2', 'lab-3']);
    for (const host of ['lab-1', 'lab-2']) {
      const mine = suites.children!.find((c) => c.name === host)!;
      const names = leaves(mine);
      assert.equal(names.length, 2, `${host}: ${names}`);
      assert.ok(names.includes(`lab host ${host}`), `${host}: ${names}`);
      const idle = names.find((n) => n.startsWith('idle on '));
      assert.ok(idle, `${host}: ${names}`);
      assert.equal(findLeaf(mine, idle)!.status, 'passed');
      assert.equal(findLeaf(mine, `lab host ${host}`)!.status, 'passed');
    }
    const silent = suites.children!.find((c) => c.name === 'lab-3')!;
    assert.deepEqual(leaves(silent), ['lab host lab-3']);
    assert.equal(findLeaf(silent, 'lab host lab-3')!.status, 'broken');
    const categories = JSON.parse(data.get('data/categories.json')!) as Tree;
    const noResults = categories.children!.find((c) => c.name === 'Lab hosts without results');
    assert.deepEqual(noResults && leaves(noResults), ['lab host lab-3']);
    const environment = JSON.parse(data.get('widgets/environment.json')!) as {
      name: string;
      values: string[];
    }[];
    assert.deepEqual(environment.find((e) => e.name === 'lab hosts')?.values, ['lab-1, lab-2, lab-3']);
    // Two Redmi Note 13 on two hosts are two tests, each with its own history.
    const history = JSON.parse(data.get('history/history.json') ?? '{}') as Record<string, unknown>;
    assert.ok(Object.keys(history).length >= 5, `history of 5 tests: ${Object.keys(history).length}`);

    // As a person opens it: the Suites page lists the three hosts.
    const page = await renderedDom(`${pathToFileURL(index).href}#suites`);
    for (const host of ['lab-1', 'lab-2', 'lab-3'])
      assert.ok(page.includes(`>${host}<`), `the page shows ${host}`);
  });
});
