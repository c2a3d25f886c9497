import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HOSTILE_NAME, testAnalysis } from '../../testing/analysis-fixtures.js';
import { loadAllowlist } from '../verdict/allowlist.js';
import { judge } from '../verdict/verdict.js';
import { ANALYZE_JSON_VERSION, formatAnalyzeJson } from './analyze-json.js';

const ALLOWLIST = `allow:
  - {host: "*.xiaomi.net", reason: Mi Push}
forbid:
  - {host: tracking.intl.miui.com, reason: OneTrack, severity: critical}
expect:
  - {host: connectivitycheck.gstatic.com, reason: captive portal check}
budget:
  - {hosts: ["*.xiaomi.net"], maxBytes: 1000, reason: small}
`;

function documented(): Set<string> {
  const md = readFileSync('docs/analyze-json.md', 'utf8');
  const paths = new Set<string>();
  for (const m of md.matchAll(/^\| `([^`]+)` +\|/gm)) paths.add(m[1]!);
  return paths;
}

/** Every field path in a JSON value, arrays written as "[]": "flows[].orig.addr". */
function fieldPaths(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) fieldPaths(v, `${prefix}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const p = prefix ? `${prefix}.${k}` : k;
      out.add(p);
      // A rule is documented once under "rule.*", wherever it appears.
      fieldPaths(v, /\.rule$/.test(p) ? 'rule' : p, out);
    }
  }
  return out;
}

function doc(withVerdict: boolean) {
  const a = testAnalysis();
  a.capture.truncated = { offset: 47000, message: 'record header needs 16 bytes, 3 left' };
  const v = withVerdict
    ? judge(
        a.flows,
        loadAllowlist('idle.yaml', () => ALLOWLIST),
      )
    : undefined;
  return JSON.parse(formatAnalyzeJson('metadata.pcap', a, v));
}

test('every field the document holds is documented in docs/analyze-json.md', () => {
  const known = documented();
  const undocumented = [...fieldPaths(doc(true))].filter((p) => !known.has(p));
  assert.deepEqual(undocumented, []);
});

test('the document carries its version, the capture, the device and the flows as documented', () => {
  const d = doc(false);
  assert.equal(d.formatVersion, ANALYZE_JSON_VERSION);
  assert.equal(d.formatVersion, 2);
  assert.deepEqual(d.capture, {
    file: 'metadata.pcap',
    format: 'pcap',
    frames: 120,
    bytes: 123456,
    linkTypes: [1],
    truncated: { offset: 47000, message: 'record header needs 16 bytes, 3 left' },
  });
  assert.deepEqual(d.device, { addrs: ['192.168.1.10'], inferred: true });
  assert.equal(d.flows.length, 7);
  assert.deepEqual(Object.keys(d.flows[1]), [
    'uid',
    'proto',
    'orig',
    'resp',
    'tsStart',
    'tsEnd',
    'origBytes',
    'respBytes',
    'origPkts',
    'respPkts',
    'service',
    'names',
    'connState',
    'app',
    'tls',
  ]);
  assert.equal(d.flows[4].service, null, 'service is always present, null when unknown');
  assert.equal('connState' in d.flows[4], false, 'optional fields are absent, not null');
  assert.deepEqual(d.flows[2].http, {
    method: 'POST',
    target: '/track/v4?x=1',
    version: 'HTTP/1.1',
    host: 'tracking.intl.miui.com',
  });
  assert.equal(d.flows[3].names[0].name, HOSTILE_NAME, 'JSON keeps the raw text, escaped by JSON itself');
  assert.equal(d.dns[0].query, 'resolver.msg.global.xiaomi.net');
  assert.deepEqual(d.skipped, [{ reason: 'ip-version-0', count: 2, firstFrame: 17 }]);
  assert.equal('verdict' in d, false, 'no verdict without an allowlist');
});

test('with an allowlist the document holds the verdict, judgements in flow order and rule positions', () => {
  const d = doc(true);
  const v = d.verdict;
  assert.equal(v.outcome, 'violations');
  assert.deepEqual(v.allowlistFiles, ['idle.yaml']);
  assert.deepEqual(
    v.judgements.map((j: { uid: string }) => j.uid),
    d.flows.map((f: { uid: string }) => f.uid),
  );
  const forbidden = v.violations.find((x: { rule: { kind: string } | null }) => x.rule?.kind === 'forbid');
  assert.deepEqual(forbidden.rule, {
    kind: 'forbid',
    match: 'tracking.intl.miui.com',
    reason: 'OneTrack',
    severity: 'critical',
    file: 'idle.yaml',
    line: 4,
    column: 5,
  });
  assert.equal(v.unmetExpectations[0].rule.kind, 'expect');
  assert.deepEqual(
    [v.budgets[0].bytes, v.budgets[0].connections, v.budgets[0].exceeded],
    [5000 + 90000 + 1000 + 1000, 2, true],
  );
});

test('the JSON written piece by piece is the same text as the whole document', async () => {
  const { analyzeJsonChunks, analyzeJson } = await import('./analyze-json.js');
  const { analyzeFile } = await import('../analyze.js');
  for (const f of [
    '../shared/captures/pcapdroid/metadata.pcap',
    '../shared/captures/pcapdroid/two_flows.pcap',
  ]) {
    const a = await analyzeFile(f);
    const whole = `${JSON.stringify(analyzeJson(f, a), null, 2)}\n`;
    assert.equal([...analyzeJsonChunks(f, a)].join(''), whole);
    const empty = { ...a, flows: [], dns: [] };
    assert.equal(
      [...analyzeJsonChunks(f, empty)].join(''),
      `${JSON.stringify(analyzeJson(f, empty), null, 2)}\n`,
    );
    // Lists longer than one batch of pieces (256 items), and one exactly a batch long.
    for (const n of [256, 700]) {
      const many = {
        ...a,
        flows: Array.from({ length: n }, (_, i) => ({ ...a.flows[i % a.flows.length]!, uid: `C${i}` })),
        dns: Array.from({ length: n + 1 }, (_, i) => ({
          ts: 1700000000 + i,
          uid: `D${i}`,
          client: '10.0.0.2',
          server: '10.0.0.1',
          query: `h${i}.example`,
          type: 'A',
          rcode: 0,
          answers: [`A 192.0.2.${i % 250}`],
        })),
      };
      assert.equal(
        [...analyzeJsonChunks(f, many)].join(''),
        `${JSON.stringify(analyzeJson(f, many), null, 2)}\n`,
      );
    }
  }
});
