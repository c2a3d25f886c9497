/**
 * Two nights in a row on simulated phones, as a lab runs them: the first accepted into the history
 * (--accept), the second with the Xiaomi's `unknown-host` misbehaviour switched on. The second
 * night's verdict.json, its terminal summary, `phonehome diff` and its Allure test (rendered in
 * headless Chromium: the Drift category and the timeline image) all name the new host, the step it
 * came in and its country. The Pixel's baseline is made to lack one host it contacts every night,
 * so its second run passes with drift: a passed test in the Drift category.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { CHROMIUM, onPath } from '../testing/tools.js';
import { embedded, evaluate, findLeaf, leaves, type Tree, withPage } from './chromium-page.js';
import { freePort } from './free-port.js';

const exec = promisify(execFile);
const PHONEHOME = resolve('bin/phonehome');

const skip =
  process.getuid?.() !== 0
    ? 'needs root (network namespaces)'
    : onPath(CHROMIUM) === undefined
      ? 'needs chromium'
      : false;

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function phonehome(args: string[]): Promise<Ran> {
  try {
    const r = await exec(PHONEHOME, args, {
      timeout: 400_000,
      maxBuffer: 64 << 20,
      env: { ...process.env, CI: 'true' },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number') throw e;
    return { code: err.code, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

const why = (r: Ran) =>
  `exit ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${r.stderr.slice(-2000)}`;

/** The run folders of one night: PHONE → SCENARIO folder. */
async function runFolders(out: string, runId: string): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  const night = join(out, 'runs', runId);
  for (const phone of await readdir(night)) {
    const rec = JSON.parse(await readFile(join(night, phone, 'idle', 'result.json'), 'utf8')) as {
      profile?: string;
    };
    m.set(rec.profile ?? phone, join(night, phone, 'idle'));
  }
  return m;
}

interface Finding {
  kind: string;
  subject: string;
  detail: string;
  step?: string;
  countries?: string[];
}

test('two nights: the new host of the second is named with its step and country in the verdict, the terminal, diff and Allure', {
  skip,
}, async () => {
  const out = await mkdtemp(join(tmpdir(), 'phonehome-nights-'));
  const before = (await exec('ip', ['netns', 'list'])).stdout;
  const common = ['--scenario', 'idle', '--out', out, '--no-ui', '--plain', '--adb-port'];
  try {
    // Night 1: both phones as they are, accepted as the baseline.
    const n1 = await phonehome([
      'run',
      '--sim',
      'xiaomi-redmi-note-13',
      'pixel-7',
      ...common,
      String(await freePort()),
      '--accept',
    ]);
    assert.equal(n1.code, 0, why(n1));
    assert.match(n1.stderr + n1.stdout, /accepted 2 runs into 2 baselines in /, why(n1));
    const [night1] = await readdir(join(out, 'runs'));
    const first = await runFolders(out, night1!);
    const v1 = JSON.parse(await readFile(join(first.get('xiaomi-miui-global')!, 'verdict.json'), 'utf8')) as {
      drift: { note?: string; findings: Finding[] };
    };
    assert.match(v1.drift.note ?? '', /^no baseline for xiaomi-miui-global › idle yet/);
    const pixelBaseline = join(out, 'history', 'pixel-stock', 'idle.json');
    assert.ok(existsSync(join(out, 'history', 'xiaomi-miui-global', 'idle.json')));
    assert.ok(existsSync(pixelBaseline), `the Pixel's baseline: ${pixelBaseline}`);
    // The Pixel's baseline is made to lack one host it contacts every night: tonight it is new.
    const pb = JSON.parse(await readFile(pixelBaseline, 'utf8')) as {
      runs: { hosts: Record<string, unknown> }[];
    };
    const dropped = Object.keys(pb.runs[0]!.hosts).find((h) => /\.(com|net)$/.test(h));
    assert.ok(dropped, `a named host in the Pixel's baseline: ${Object.keys(pb.runs[0]!.hosts)}`);
    delete pb.runs[0]!.hosts[dropped];
    await writeFile(pixelBaseline, JSON.stringify(pb));

    // Night 2: the Xiaomi contacts an unlisted collector.
    const n2 = await phonehome([
      'run',
      '--sim',
      'xiaomi-redmi-note-13+unknown-host',
      'pixel-7',
      ...common,
      String(await freePort()),
    ]);
    assert.equal(n2.code, 1, why(n2));
    const night2 = (await readdir(join(out, 'runs'))).find((d) => d !== night1)!;
    const second = await runFolders(out, night2);
    const xiaomi = second.get('xiaomi-miui-global')!;
    const result = JSON.parse(await readFile(join(xiaomi, 'result.json'), 'utf8')) as {
      violations: { subject: string; step: string }[];
    };
    const violation = result.violations.find((v) => v.subject === 'beacon.unlisted-collector.net');
    assert.ok(violation, JSON.stringify(result.violations));
    const v2 = JSON.parse(await readFile(join(xiaomi, 'verdict.json'), 'utf8')) as {
      drift: { policy: string; baseline?: { runs: string[] }; findings: Finding[] };
    };
    assert.equal(v2.drift.policy, 'warn');
    assert.equal(v2.drift.baseline?.runs.length, 1);
    const found = v2.drift.findings.find(
      (f) => f.kind === 'new-host' && f.subject === 'beacon.unlisted-collector.net',
    );
    assert.ok(found, JSON.stringify(v2.drift.findings));
    // The same step as the violation's, and the country the simulated internet puts it in.
    assert.equal(found.step, violation.step);
    assert.deepEqual(found.countries, ['CN']);
    assert.ok(v2.drift.findings.some((f) => f.kind === 'new-country' && f.subject === 'CN'));
    // The terminal summary: the violation, and the drift line naming host, step and country.
    const stepText = `first seen during step "${violation.step}"`;
    assert.match(n2.stdout, /^drift: .+ › idle: \d+ changes? against 1 accepted run$/m, why(n2));
    assert.ok(
      n2.stdout
        .split('\n')
        .some(
          (l) =>
            l.includes('new-host beacon.unlisted-collector.net') && l.includes(stepText) && /\bCN\b/.test(l),
        ),
      why(n2),
    );
    // The Pixel passed, with its drift (the host its baseline was made to lack).
    const pixel = JSON.parse(await readFile(join(second.get('pixel-stock')!, 'result.json'), 'utf8')) as {
      outcome: string;
      drift: { findings: Finding[] };
    };
    assert.equal(pixel.outcome, 'passed');
    assert.deepEqual(
      pixel.drift.findings.map((f) => `${f.kind} ${f.subject}`),
      [`new-host ${dropped}`],
    );

    // phonehome diff: night 1 against night 2, the same names.
    const d = await phonehome(['diff', first.get('xiaomi-miui-global')!, xiaomi]);
    assert.equal(d.code, 1, why(d));
    assert.ok(
      d.stdout
        .split('\n')
        .some(
          (l) =>
            /^new-host\s+beacon\.unlisted-collector\.net\s/.test(l) &&
            l.includes(stepText) &&
            /\bCN\b/.test(l),
        ),
      why(d),
    );

    // The Allure report, opened as a reviewer would.
    const report = join(out, 'allure-report');
    const gen = await phonehome(['report', '--results', join(out, 'allure-results'), '--out', report]);
    assert.equal(gen.code, 0, why(gen));
    const index = join(report, 'index.html');
    const data = embedded(await readFile(index, 'utf8'));
    const categories = JSON.parse(data.get('data/categories.json') ?? '{}') as Tree;
    const driftCat = categories.children?.find((c) => c.name === 'Drift: changed since the baseline');
    assert.ok(driftCat, `a Drift category: ${JSON.stringify(categories).slice(0, 800)}`);
    const inDrift = leaves(driftCat as Tree);
    const statusesOf = (t: Tree): string[] =>
      t.children ? t.children.flatMap(statusesOf) : [t.status ?? ''];
    const statuses = statusesOf(driftCat as Tree);
    assert.ok(
      inDrift.some((n) => /^idle on .*(Redmi|23129RAA4G)/.test(n)),
      `the Xiaomi's run is in Drift: ${inDrift}`,
    );
    assert.ok(
      inDrift.some((n) => /^idle on .*Pixel/.test(n)),
      `the Pixel's passed run is in Drift: ${inDrift}`,
    );
    assert.ok(statuses.includes('passed') && statuses.includes('failed'), `statuses in Drift: ${statuses}`);

    const suites = JSON.parse(data.get('data/suites.json') ?? '{}') as Tree;
    const name = leaves(suites).find((n) => /^idle on .*(Redmi|23129RAA4G)/.test(n) && !n.includes('Pixel'));
    assert.ok(name);
    // Two Xiaomi idle runs in the results (one per night): the failed one is tonight's.
    const leaf = findLeaf(suites, name)!;
    const shown = await withPage(`${pathToFileURL(index).href}#categories`, (dt, s) =>
      evaluate<{ categories: string; drift: string; svg: string } | string>(
        dt,
        s,
        `(async () => {
          const until = async (f) => { for (let i = 0; i < 300; i++) { const v = await f(); if (v) return v; await new Promise((r) => setTimeout(r, 50)); } return null; };
          const cat = await until(() => [...document.querySelectorAll('.node__title')].find((e) => e.textContent.trim().startsWith('Drift')));
          if (!cat) return 'no Drift category on the categories page';
          const categories = document.body.innerText;
          location.hash = ${JSON.stringify(`#suites/${leaf.parentUid}/${leaf.uid}`)};
          const step = await until(() => [...document.querySelectorAll('.step__name, .step__title')].find((e) => /drift \\(warn\\)/.test(e.textContent)));
          if (!step) return 'no drift step on the test page';
          (step.closest('.step__title') || step).click();
          const finding = await until(() => [...document.querySelectorAll('.step__name, .step__title')].find((e) => /new-host beacon\\.unlisted-collector\\.net/.test(e.textContent)));
          if (!finding) return 'the drift step does not list the new host';
          const row = await until(() => [...document.querySelectorAll('.attachment-row__name')].find((e) => e.textContent.trim() === 'timeline'));
          if (!row) return 'no timeline attachment';
          (row.closest('.attachment-row') || row).click();
          const img = await until(() => [...document.querySelectorAll('img, object, embed')].find((e) => /^blob:/.test(e.getAttribute('src') || e.getAttribute('data') || '') && (e.naturalWidth || e.clientWidth) > 0));
          if (!img) return 'the timeline was not drawn';
          const svg = await (await fetch(img.getAttribute('src') || img.getAttribute('data'))).text();
          return { categories, drift: finding.textContent, svg: svg + ' width=' + (img.naturalWidth || img.clientWidth) };
        })()`,
      ),
    );
    assert.equal(typeof shown, 'object', String(shown));
    const page = shown as { categories: string; drift: string; svg: string };
    assert.match(page.categories, /Drift/);
    assert.match(page.drift, /beacon\.unlisted-collector\.net/);
    assert.ok(page.drift.includes(violation.step), page.drift);
    assert.match(page.drift, /\bCN\b/);
    assert.match(page.svg, /beacon\.unlisted-collector\.net/);
    assert.match(page.svg, /new since the baseline \(drift\)/);
    assert.match(page.svg, /width=(\d{3,})/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
  const after = (await exec('ip', ['netns', 'list'])).stdout;
  const left = after.split('\n').filter((l) => l && !before.includes(l.split(' ')[0]!));
  assert.deepEqual(left, [], 'the runs tear their simulated phones down');
});
