import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '../drift/summary.js';
import type { Flow } from '../flows/flow.js';
import { bytesChart } from './bytes-chart.js';
import { nightMatrix } from './night-matrix.js';
import { timelineChart } from './timeline-chart.js';
import { chartText, uniqueChartLabels, vegaLiteSvg } from './vega-svg.js';
import type { PlaceRow } from './where-it-went.js';

let n = 0;
function flow(addr: string, name: string | undefined, up: number, down: number): Flow {
  n += 1;
  return {
    uid: `C${n}`,
    proto: 'tcp',
    orig: { addr: '10.213.1.10', port: 40000 + n },
    resp: { addr, port: 443 },
    tsStart: n,
    tsEnd: n + 1,
    origBytes: up,
    respBytes: down,
    origPkts: 1,
    respPkts: 1,
    names: name ? [{ name, source: 'sni' }] : [],
  } as Flow;
}

const HOSTILE = '<script>alert(1)</script>&"\u0007\u001b[31m.example';
/** What a hostile label becomes: XML's specials escaped, control characters shown as escapes. */
const HOSTILE_SHOWN = /&lt;script&gt;alert\(1\)&lt;\/script&gt;&amp;&quot;\\x07\\x1b\[31m\.example/;

/** An SVG document with no script, no control character XML forbids, and no outside reference. */
function assertCleanSvg(svg: string): void {
  assert.match(svg, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg /);
  assert.match(svg, /<\/svg>\n$/);
  assert.doesNotMatch(svg, /<script|javascript:|<foreignObject|xlink:href="http|href="http/i);
  assert.doesNotMatch(svg, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
}

/** The rectangles vega drew for one kind of mark. */
function marks(svg: string, role: string): string[] {
  return svg.match(new RegExp(`<path [^>]*aria-roledescription="${role}"[^>]*>`, 'g')) ?? [];
}

test('chart text: control characters become visible escapes, long text is clipped', () => {
  assert.equal(chartText('a\u0007b'), 'a\\x07b');
  assert.equal(chartText('x'.repeat(50), 10), `${'x'.repeat(9)}…`);
  assert.equal(chartText('\ufffe'), '\ufffd');
});

test('chart labels: texts that clip alike are told apart', () => {
  const long = 'x'.repeat(60);
  assert.deepEqual(uniqueChartLabels([`${long}a`, `${long}b`, 'a.example', 'a.example'], 20), [
    `${'x'.repeat(19)}…`,
    `${'x'.repeat(15)}… (2)`,
    'a.example',
    'a.example (2)',
  ]);
});

test('a chart spec naming a URL loads nothing', async () => {
  await assert.rejects(
    vegaLiteSvg({ data: { url: 'http://192.0.2.1/x.json' }, mark: 'bar' }),
    /loads nothing from outside/,
  );
  await assert.rejects(
    vegaLiteSvg({ data: { url: '/etc/passwd' }, mark: 'bar' }),
    /loads nothing from outside/,
  );
});

test('the timeline: a bar per connection, violations red, drift marked, steps as bands, labels escaped', async () => {
  const flows = [
    flow('10.213.144.5', 'data.mistat.intl.xiaomi.com', 1800, 200),
    flow('10.213.176.9', HOSTILE, 1200, 2800),
    flow('10.213.144.5', 'data.mistat.intl.xiaomi.com', 100, 100),
  ];
  const verdict = new Map([
    [flows[0]!.uid, 'allowed' as const],
    [flows[1]!.uid, 'violation' as const],
  ]);
  const svg = await timelineChart(
    flows,
    [
      { name: 'join Wi-Fi', tsStart: 1, tsEnd: 2 },
      { name: 'idle', tsStart: 2, tsEnd: 9 },
    ],
    verdict,
    'Timeline: idle',
    { newHosts: new Set([HOSTILE]) },
  );
  assertCleanSvg(svg);
  assert.match(svg, HOSTILE_SHOWN);
  const bars = marks(svg, 'bar');
  assert.equal(bars.length, 3, 'a bar per connection');
  assert.equal(bars.filter((b) => /fill="#c0392b"/.test(b)).length, 1, 'the violation in red');
  assert.equal(bars.filter((b) => /fill="#888888"/.test(b)).length, 1, 'the unjudged one grey');
  assert.equal(marks(svg, 'point').length, 1, 'the new host marked once');
  assert.equal(marks(svg, 'rect mark').length, 2, 'a band per step');
  assert.match(svg, />join Wi-Fi</);
  assert.match(svg, /2 hosts, 3 connections over/);
  assert.match(svg, /new since the baseline \(drift\)/);
  // Two hundred connections to eighty hosts: sixty rows drawn, the rest counted.
  const many = Array.from({ length: 200 }, (_, i) => flow(`10.0.${i % 80}.1`, `h${i % 80}.example`, 10, 10));
  const big = await timelineChart(many, [], new Map(), 't');
  assert.match(big, /20 more hosts not drawn/);
  assert.equal(marks(big, 'bar').length, 160, 'the connections of the sixty hosts drawn');
});

test('bytes per country and organisation: stacked bars, amounts, others folded, labels escaped', async () => {
  const row = (place: string, up: number, down: number): PlaceRow => ({
    place,
    connections: 1,
    bytesUp: up,
    bytesDown: down,
    hosts: [],
    override: false,
    disagree: false,
    cities: [],
  });
  const rows = [row(HOSTILE, 1000, 2000), row('SG', 5000, 100)];
  const svg = await bytesChart(rows, rows, `idle on ${HOSTILE}`, 'IP Geolocation by DB-IP');
  assertCleanSvg(svg);
  assert.match(svg, HOSTILE_SHOWN);
  assert.equal(marks(svg, 'bar').length, 8, 'two panels, two rows, up and down');
  assert.match(svg, /4\.9 KiB ↑|5\.0 kB ↑/);
  assert.match(svg, /IP Geolocation by DB-IP/);
  const many = Array.from({ length: 30 }, (_, i) => row(`C${i}`, 10, 10));
  assert.match(await bytesChart(many, many, 't', 'n'), /19 others/);
  const none = await bytesChart([], [], 't', 'n');
  assertCleanSvg(none);
  assert.match(none, /no flows/);
});

function summary(runId: string, started: number, hosts: string[]): RunSummary {
  return {
    formatVersion: 1,
    runId,
    scenario: 'idle',
    started,
    hosts: Object.fromEntries(
      hosts.map((h) => [
        h,
        { provenance: ['sni'], countries: [], orgs: [], connections: 1, bytesUp: 1, bytesDown: 1 },
      ]),
    ),
    countries: [],
    orgs: [],
    leaks: [],
    apps: [],
  };
}

test('hosts by night: a cell where a run contacted a host, new and missing hosts marked', async () => {
  const nights = [
    summary('n1', 1_764_547_200, ['a.example', 'b.example']),
    summary('n2', 1_764_633_600, ['a.example', 'b.example', 'c.example']),
  ];
  const tonight = summary('n3', 1_764_720_000, ['a.example', 'c.example', HOSTILE]);
  const svg = await nightMatrix(nights, tonight, 'Hosts by night: idle');
  assertCleanSvg(svg);
  assert.match(svg, HOSTILE_SHOWN);
  const cells = marks(svg, 'rect mark');
  // a: 3 nights, b: 2 and missing tonight, c: 2, the hostile one: new tonight.
  assert.equal(cells.length, 3 + 3 + 2 + 1);
  assert.equal(cells.filter((c) => /fill="#7b1fa2"/.test(c)).length, 1, 'one new host');
  assert.equal(cells.filter((c) => /fill="#e0a030"/.test(c)).length, 1, 'one host missing');
  assert.match(svg, /2025-12-01 00:00/);
  assert.match(svg, /this run: 2025-12-03 00:00/);
  assert.match(svg, /4 hosts over 3 runs \(2 accepted before this one\)/);
  // No baseline: one column.
  const alone = await nightMatrix([], tonight, 't');
  assertCleanSvg(alone);
  assert.equal(marks(alone, 'rect mark').length, 3);
  assert.match(alone, /no baseline yet/);
});
