/**
 * `phonehome report` end to end: realistic run folders (two phones, a failed, a passed and a broken
 * run, hostile host names) → allure-results → the real allure-commandline → a single-file report,
 * read back in headless Chromium after its JavaScript ran. A second night checks the trend history.
 */

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TestResult } from 'allure-js-commons';
import { extractHistory } from '../harness/report/allure-generate.js';
import { HOSTILE_HOST, writeTestNight } from '../testing/run-folders.js';
import { CHROMIUM, onPath } from '../testing/tools.js';
import { embedded, evaluate, findLeaf, leaves, renderedDom, type Tree, withPage } from './chromium-page.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const IS_TS = import.meta.url.endsWith('.ts');
const ext = IS_TS ? '.ts' : '.js';

let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'phonehome-report-int-'));
});
after(() => rm(root, { recursive: true, force: true }));

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `phonehome report ARGS` in a child process, as the CLI would (run-cli + this subcommand). */
function phonehomeReport(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  const runCli = pathToFileURL(join(HERE, '..', 'harness', 'cli', `run-cli${ext}`)).href;
  const command = pathToFileURL(join(HERE, '..', 'harness', 'cli', `report-command${ext}`)).href;
  const code =
    `const { runCli } = await import(${JSON.stringify(runCli)});` +
    `const report = await import(${JSON.stringify(command)});` +
    'process.exitCode = await runCli(process.argv, [report]);';
  const nodeArgs = [...(IS_TS ? ['--import', 'tsx'] : []), '--input-type=module', '-e', code, 'phonehome'];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [...nodeArgs, 'report', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
    });
    child.on('error', reject);
    child.on('close', (c) => resolve({ code: c, stdout, stderr, ms: Math.round(performance.now() - t0) }));
  });
}

const haveTools = onPath(CHROMIUM) !== undefined;

/** The allure result file of the run with this name. */
async function resultNamed(dir: string, name: string): Promise<TestResult> {
  for (const n of await readdir(dir)) {
    if (!n.endsWith('-result.json')) continue;
    const r = JSON.parse(await readFile(join(dir, n), 'utf8')) as TestResult;
    if (r.name === name) return r;
  }
  throw new Error(`no result named ${name} in ${dir}`);
}

test('phonehome report: two phones, three runs, rendered by Chromium', {
  skip: !haveTools && 'no chromium',
}, async (t) => {
  const runs = join(root, 'runs');
  const results = join(root, 'allure-results');
  const out = join(root, 'allure-report');
  await writeTestNight(runs, 'night-1', 1_763_900_000);

  const ran = await phonehomeReport(
    ['--runs', join(runs, 'night-1'), '--results', results, '--out', out, '--open'],
    {
      ...process.env,
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'lab/phonehome',
      GITHUB_RUN_ID: '1001',
      GITHUB_RUN_NUMBER: '7',
      GITHUB_WORKFLOW: 'nightly',
    },
  );
  assert.equal(ran.code, 0, ran.stderr);
  const index = join(out, 'index.html');
  assert.deepEqual(ran.stdout.trim().split('\n'), [index, pathToFileURL(index).href]);
  const generated = /report generated in ([\d.]+) s/.exec(ran.stderr);
  assert.ok(generated, ran.stderr);
  t.diagnostic(`allure generate --single-file took ${generated[1]} s (whole command ${ran.ms} ms)`);
  assert.deepEqual(
    (await readdir(out)).sort(),
    ['history', 'index.html'],
    'one page, plus history for tomorrow',
  );

  // What Allure itself made of the results: its categories and executor.
  const html = await readFile(index, 'utf8');
  assert.ok(!/googletagmanager|G-FVWC4GKEYS|dataLayer/.test(html), 'the report loads no analytics');
  const data = embedded(html);
  const categories = JSON.parse(data.get('data/categories.json')!) as Tree;
  const byCategory = Object.fromEntries(categories.children!.map((c) => [c.name, leaves(c).sort()]));
  assert.deepEqual(byCategory, {
    'Policy violations': ['idle on Redmi Note 13 (R58M123ABC)'],
    'Capture not working': ['backup-off on Pixel 7 (127.0.0.1:5601)'],
  });
  const executors = JSON.parse(data.get('widgets/executors.json')!) as {
    buildName: string;
    buildUrl: string;
  }[];
  assert.equal(executors[0]?.buildName, 'nightly #7');
  assert.equal(executors[0]?.buildUrl, 'https://github.com/lab/phonehome/actions/runs/1001');

  // The failed run opened in the suites tree, rendered: both phones' suites, the failed scenario with
  // its message, steps and violation hosts, the hostile one as text and never as markup.
  const suitesTree = JSON.parse(data.get('data/suites.json')!) as Tree;
  const failed = findLeaf(suitesTree, 'idle on Redmi Note 13 (R58M123ABC)')!;
  assert.equal(failed.status, 'failed');
  const page = await renderedDom(`${pathToFileURL(index).href}#suites/${failed.parentUid}/${failed.uid}`);
  for (const text of ['phonehome', 'Redmi Note 13', 'Pixel 7', 'idle on Redmi Note 13 (R58M123ABC)']) {
    assert.ok(page.includes(`>${text}<`), `the page shows ${text}`);
  }
  assert.ok(page.includes('3 violations: api.ad.intl.xiaomi.com'), 'the status message is shown');
  assert.ok(page.includes('forbid *.ad.intl.xiaomi.com'), 'the rule is shown');
  assert.ok(page.includes('unlock screen') && page.includes('capture stop'), 'the pipeline steps are shown');
  // Serialized DOM: text shows as entities, an element would show as a tag.
  const escaped = HOSTILE_HOST.replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  assert.ok(!/<img[^>]*onerror/i.test(page), 'the hostile host name never became an element');
  assert.ok(!page.includes('<img src="x"'), 'no image from a host name');
  const description = /<div class="description__text">([\s\S]*?)<\/div>/.exec(page)?.[1] ?? '';
  assert.ok(description.includes(`<li>${escaped} (sni, normal): no rule matched;`), description);
  assert.ok(
    description.includes(`<li>q"uo'te&amp;amp.example (sni, normal)`),
    'quotes and & survive as text',
  );
  assert.ok(page.includes(`3 violations: api.ad.intl.xiaomi.com, ${escaped}, q"uo'te&amp;amp.example`));

  // The violations table opened the way a person opens it: a click on the attachment in Allure's
  // page, which shows it in a sandboxed frame. Read inside that frame: the host is a cell of text.
  const inAllure = await withPage(
    `${pathToFileURL(index).href}#suites/${failed.parentUid}/${failed.uid}`,
    async (dt, s) => {
      const frame = await evaluate<{ srcdoc: string; sandbox: string } | string>(
        dt,
        s,
        `(async () => {
        const until = async (f) => { for (let i = 0; i < 300; i++) { const v = f(); if (v) return v; await new Promise((r) => setTimeout(r, 50)); } return null; };
        const row = await until(() => [...document.querySelectorAll('.attachment-row__name')].find((e) => e.textContent.trim() === 'violations'));
        if (!row) return 'no violations attachment row';
        (row.closest('.attachment-row') || row).click();
        const f = await until(() => document.querySelector('iframe[data-html-preview-token]'));
        if (!f) return 'no preview frame after the click';
        return { srcdoc: f.getAttribute('srcdoc'), sandbox: f.getAttribute('sandbox') };
      })()`,
      );
      assert.equal(typeof frame, 'object', String(frame));
      // The frame's own document: evaluated in each execution context of the page and in each frame
      // that runs in its own process, until one is the violations table.
      for (let i = 0; i < 100; i++) {
        const candidates: [string, number | undefined][] = [
          ...dt.events
            .filter((e) => e.method === 'Runtime.executionContextCreated' && e.sessionId === s)
            .map((e): [string, number] => [s, (e.params.context as { id: number }).id]),
          ...dt.events
            .filter((e) => e.method === 'Target.attachedToTarget')
            .map((e): [string, undefined] => [e.params.sessionId as string, undefined]),
        ];
        for (const [session, id] of candidates) {
          const cells = await evaluate<string[] | null>(
            dt,
            session,
            `document.title.startsWith('Violations:') ? [...document.querySelectorAll('td')].map((td) => td.textContent) : null`,
            id,
          ).catch(() => null);
          if (cells) {
            const images = await evaluate<number>(dt, session, 'document.querySelectorAll("img").length', id);
            return { frame: frame as { srcdoc: string; sandbox: string }, cells, images };
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the violations frame never loaded');
    },
  );
  assert.equal(inAllure.frame.sandbox, 'allow-scripts');
  assert.ok(inAllure.cells.includes(HOSTILE_HOST), 'the hostile host is the text of a cell');
  assert.ok(inAllure.cells.includes(`q"uo'te&amp.example`), 'quotes and & kept as text');
  assert.ok(inAllure.cells.includes('api.ad.intl.xiaomi.com'));
  assert.equal(inAllure.images, 0, 'no element from a host name inside the frame');
  assert.ok(!inAllure.frame.srcdoc.includes('<img'), 'no image in the frame source');

  // The violations table attachment, opened on its own: the host as a cell of text.
  const result = await resultNamed(results, 'idle on Redmi Note 13 (R58M123ABC)');
  const violations = result.attachments.find((a) => a.name === 'violations')!;
  const table = await renderedDom(pathToFileURL(join(results, violations.source)).href);
  assert.ok(table.includes(`<td>${escaped}</td><td>sni</td><td>normal</td><td>no rule matched</td>`), table);
  assert.ok(table.includes('<td>api.ad.intl.xiaomi.com</td><td>sni</td><td>critical</td>'));
  assert.ok(!/<img/i.test(table), 'no element from a host name in the attachment');
});

test('the second night shows the trend of both nights', { skip: !haveTools && 'no chromium' }, async () => {
  const runs = join(root, 'runs');
  const results2 = join(root, 'allure-results-2');
  const out = join(root, 'allure-report');
  await writeTestNight(runs, 'night-2', 1_763_900_000 + 86_400);
  const ran = await phonehomeReport(['--runs', join(runs, 'night-2'), '--results', results2, '--out', out]);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stderr, /with the history of the previous report/);
  const data = embedded(await readFile(join(out, 'index.html'), 'utf8'));
  const trend = JSON.parse(data.get('widgets/history-trend.json')!) as { data: Record<string, number> }[];
  assert.equal(trend.length, 2, 'two nights in the trend');
  assert.deepEqual(
    trend.map((p) => [p.data.failed, p.data.passed, p.data.broken]),
    [
      [1, 1, 1],
      [1, 1, 1],
    ],
  );
  const history = extractHistory(await readFile(join(out, 'index.html'), 'utf8'));
  const entries = Object.values(JSON.parse(history.get('history.json')!)) as { items: unknown[] }[];
  assert.equal(entries.length, 3, 'one history per phone × scenario');
  assert.ok(
    entries.every((e) => e.items.length === 2),
    'each run lines up with its previous night',
  );
});

test('no results: one line, exit 2', async () => {
  const ran = await phonehomeReport(['--results', join(root, 'nothing-here'), '--out', join(root, 'r')]);
  assert.equal(ran.code, 2);
  assert.equal(ran.stderr.trim().split('\n').length, 1);
  assert.match(ran.stderr, /^phonehome: no Allure results in /);
});

test('no Java: one line, exit 2', async () => {
  const results = join(root, 'allure-results');
  const ran = await phonehomeReport(['--results', results, '--out', join(root, 'r')], {
    PATH: '/nonexistent',
    HOME: process.env.HOME,
  });
  assert.equal(ran.code, 2, ran.stderr);
  assert.equal(
    ran.stderr,
    'phonehome: Java is not installed: allure-commandline needs Java 8 or newer (set JAVA_HOME, or apt-get install default-jre-headless)\n',
  );
  assert.equal(ran.stdout, '');
});
