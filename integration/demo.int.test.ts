/**
 * `phonehome demo`, the README's main command: simulated Xiaomi (misbehaving) and Pixel phones through
 * the built-in scenarios, then the Allure report, opened in headless Chromium as a reviewer would.
 */

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CHROMIUM, onPath } from '../testing/tools.js';
import { embedded, evaluate, findLeaf, leaves, renderedDom, type Tree, withPage } from './chromium-page.js';
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
      // At --speed 240 (the demo's default is 60): the same phone time, its 54 minutes of waits in 14 s.
      [
        'dist/harness/cli/main.js',
        'demo',
        '--out',
        out,
        '--adb-port',
        String(await freePort()),
        '--speed',
        '240',
      ],
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
    // The first demo in a folder has no baseline and says so; it is accepted as the next one's.
    assert.match(
      page,
      /no baseline for xiaomi-miui-global › idle yet/,
      'the drift section says there is no baseline',
    );
    assert.ok(
      existsSync(join(out, 'history', 'xiaomi-miui-global', 'idle.json')),
      "the demo's runs are accepted as the next demo's baseline",
    );
    // The base allowlist's forbid country: CN catches the unlisted collector the simulated internet
    // places in mainland China (its lab override, labelled simulated).
    assert.match(
      page,
      /beacon\.unlisted-collector\.net[^<]*forbid in CN \(no traffic to mainland China/,
      'the country rule names the collector',
    );
    // Where it went, opened as a person opens it: a click on each attachment in Allure's page.
    const shown = await withPage(
      `${pathToFileURL(index).href}#suites/${leaf.parentUid}/${leaf.uid}`,
      (dt, s) =>
        evaluate<{ table: string; svg: { tag: string; width: number; text: string } } | string>(
          dt,
          s,
          `(async () => {
          const until = async (f) => { for (let i = 0; i < 300; i++) { const v = f(); if (v) return v; await new Promise((r) => setTimeout(r, 50)); } return null; };
          const open = async (name) => {
            const row = await until(() => [...document.querySelectorAll('.attachment-row__name')].find((e) => e.textContent.trim() === name));
            if (!row) return null;
            (row.closest('.attachment-row') || row).click();
            return row.closest('.attachment-row') || row;
          };
          if (!(await open('where it went'))) return 'no "where it went" attachment row';
          const frame = await until(() => [...document.querySelectorAll('iframe[srcdoc]')].find((f) => f.getAttribute('srcdoc').includes('Where it went: by country')));
          if (!frame) return 'no "where it went" frame after the click';
          if (!(await open('timeline'))) return 'no timeline attachment row';
          const timeline = await until(() => [...document.querySelectorAll('img, object, embed')].find((e) => /^blob:/.test(e.getAttribute('src') || e.getAttribute('data') || '') && (e.naturalWidth || e.clientWidth) > 0));
          if (!timeline) return 'the timeline was not drawn';
          const timelineText = await (await fetch(timeline.getAttribute('src') || timeline.getAttribute('data'))).text();
          if (!timelineText.includes('beacon.unlisted-collector.net')) return 'the timeline lacks the collector';
          if (!(await open('bytes per country and organisation'))) return 'no chart attachment row';
          // The chart's picture: the drawn blob image whose SVG is the bytes chart (the timeline's may still be there).
          let img = null;
          let text = '';
          for (let i = 0; i < 200 && !img; i++) {
            for (const e of document.querySelectorAll('img, object, embed')) {
              const src = e.getAttribute('src') || e.getAttribute('data') || '';
              if (!/^blob:/.test(src) || !((e.naturalWidth || e.clientWidth) > 0)) continue;
              const t = await (await fetch(src)).text();
              if (t.includes('Bytes per country')) {
                img = e;
                text = t;
                break;
              }
            }
            if (!img) await new Promise((r) => setTimeout(r, 50));
          }
          if (!img) return 'the chart was not drawn';
          return { table: frame.getAttribute('srcdoc'), svg: { tag: img.tagName, width: img.naturalWidth || img.clientWidth, text } };
        })()`,
        ),
    );
    assert.equal(typeof shown, 'object', String(shown));
    const where = shown as { table: string; svg: { tag: string; width: number; text: string } };
    assert.match(
      where.table,
      /<td>CN<\/td><td>[^<]*<\/td><td class="n">\d+<\/td>/,
      'a row for mainland China in the table',
    );
    assert.match(where.table, /<td>SG<\/td>/, "Xiaomi's international services in Singapore");
    assert.match(where.table, /beacon\.unlisted-collector\.net/);
    assert.match(
      where.table,
      /<a href="https:\/\/db-ip\.com">IP Geolocation by DB-IP[^<]*<\/a>/,
      'the attribution DB-IP asks for',
    );
    assert.ok(where.svg.width >= 700, `the chart is drawn (${where.svg.tag}, ${where.svg.width} px wide)`);
    assert.match(where.svg.text, /Bytes per country/);
    assert.match(where.svg.text, />CN \*</, 'CN is a bar of the chart (marked as a lab override)');
    // The demo drives UI steps through phonehome's own Appium (installed by make setup): the
    // Xiaomi's theme-store, whose theme steps are UI only, ran them rather than being skipped.
    const themes = all.find((n) => /^theme-store on .*(Redmi|23129RAA4G)/.test(n));
    assert.ok(themes, `the Xiaomi's theme-store run: ${all.join(', ')}`);
    const themesLeaf = findLeaf(suites, themes)!;
    assert.notEqual(themesLeaf.status, 'skipped');
    const themesPage = await renderedDom(
      `${pathToFileURL(index).href}#suites/${themesLeaf.parentUid}/${themesLeaf.uid}`,
    );
    assert.match(themesPage, /download the theme/, "the UI-only step is in the run's steps");
    // Its record says the theme steps went through the UI.
    const runsDir = join(out, 'runs');
    const [night] = await readdir(runsDir);
    let themeSteps: { name: string; provider?: string }[] = [];
    for (const phoneDir of await readdir(join(runsDir, night!))) {
      const file = join(runsDir, night!, phoneDir, 'theme-store', 'result.json');
      if (!existsSync(file)) continue;
      const rec = JSON.parse(await readFile(file, 'utf8')) as {
        phases: { phase: string; name: string; provider?: string }[];
      };
      themeSteps = rec.phases.filter((p) => p.phase === 'step');
    }
    assert.equal(
      themeSteps.find((p) => p.name === 'download the theme')?.provider,
      'ui',
      JSON.stringify(themeSteps),
    );
    // The consent twins (backup-enabled, backup-disabled) side by side in the second one's report.
    const twinDir = join(runsDir, night!);
    let twin: { consent: string; onlyOn: { hosts: string[] } } | undefined;
    for (const phoneDir of await readdir(twinDir)) {
      const file = join(twinDir, phoneDir, 'backup-disabled', 'twin.json');
      if (
        existsSync(file) &&
        /xiaomi|Redmi/i.test(
          await readFile(join(twinDir, phoneDir, 'backup-disabled', 'device.json'), 'utf8'),
        )
      )
        twin = JSON.parse(await readFile(file, 'utf8'));
    }
    assert.ok(twin, "the Xiaomi's backup twins were compared");
    assert.equal(twin.consent, 'cloud backup');
    assert.ok(
      twin.onlyOn.hosts.some((h) => h.endsWith('.micloud.xiaomi.net')),
      `Mi Cloud only with backup on: ${twin.onlyOn.hosts}`,
    );
    const disabled = all.find((n) => /^backup-disabled on .*(Redmi|23129RAA4G)/.test(n));
    assert.ok(disabled, `the Xiaomi's backup-disabled run: ${all.join(', ')}`);
    const disabledLeaf = findLeaf(suites, disabled)!;
    const disabledPage = await renderedDom(
      `${pathToFileURL(index).href}#suites/${disabledLeaf.parentUid}/${disabledLeaf.uid}`,
    );
    assert.match(disabledPage, /Consent twin/, 'the pair is named on the report page');
    assert.match(disabledPage, /micloud\.xiaomi\.net/);
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
