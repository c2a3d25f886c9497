import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testAnalysis } from '../../testing/analysis-fixtures.js';
import { loadAllowlist } from '../verdict/allowlist.js';
import { judge } from '../verdict/verdict.js';
import { formatAnalyzeTable, formatBytes, nameRows, wrap } from './analyze-table.js';

const ALLOWLIST = `allow:
  - {host: "*.xiaomi.net", reason: Mi Push}
  - {ip: 192.168.1.1, port: 53, reason: lab resolver}
forbid:
  - {host: tracking.intl.miui.com, reason: OneTrack after opt-out, severity: critical}
expect:
  - {host: connectivitycheck.gstatic.com, reason: captive portal check}
unattributed: warn
`;

function verdict() {
  const list = loadAllowlist('idle.yaml', () => ALLOWLIST);
  return judge(testAnalysis().flows, list);
}

test('one row per name, largest first, with summed connections and bytes', () => {
  const rows = nameRows(testAnalysis().flows);
  assert.deepEqual(
    rows.map((r) => [r.subject, r.connections, r.bytesUp, r.bytesDown]),
    [
      ['resolver.msg.global.xiaomi.net', 2, 6000, 91000],
      ['tracking.intl.miui.com', 1, 12000, 300],
      ['=cmd|calc!A1', 1, 100, 200],
      ['evil.example\x1b[2J\x1b]0;owned\x07\n\u202emoc.elgoog', 1, 100, 200],
      ['192.168.1.1', 1, 80, 160],
      ['198.51.100.9', 1, 64, 64],
    ],
  );
  assert.deepEqual(rows[0]!.sources, ['sni', 'dns']);
  assert.deepEqual(rows[4]!.sources, ['address'], 'a DNS flow is listed under its resolver');
  const a = testAnalysis();
  // The resolver's address also answered for a name: the DNS flow still belongs to the resolver.
  a.flows[0]!.names.unshift({ name: 'lab.example', source: 'dns' });
  assert.equal(
    nameRows(a.flows).find((r) => r.subject === 'lab.example'),
    undefined,
  );
  assert.equal(nameRows(a.flows).find((r) => r.subject === '192.168.1.1')?.connections, 1);
});

test('the table shows rows, the device line, warnings and skips; nothing hostile reaches the terminal', () => {
  const text = formatAnalyzeTable('metadata.pcap', testAnalysis());
  const lines = text.split('\n');
  assert.match(lines[0]!, /^metadata\.pcap: pcap, 120 frames, 123 kB, 2019-03-04 10:00:01 UTC – 10:00:08$/);
  assert.match(lines[2]!, /^NAME\s+CONNS\s+UP\s+DOWN\s+FIRST\s+LAST\s+PORTS\s+SOURCE\s+APP$/);
  assert.match(
    lines[3]!,
    /^resolver\.msg\.global\.xiaomi\.net\s+2\s+6\.0 kB\s+91 kB\s+10:00:02\s+10:00:07\s+tcp\/443\s+sni,dns\s+com\.xiaomi\.xmsf$/,
  );
  assert.doesNotMatch(text, /VERDICT/, 'no verdict column without an allowlist');
  assert.match(text, /evil\.example\\x1b\[2J\\x1b\]0;owned\\x07\\n\\u202emoc\.elgoog/);
  assert.doesNotMatch(
    text,
    /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/,
    'only newlines of our own',
  );
  assert.match(text, /Warnings \(1\)\n {2}! frame 40: TCP payload after FIN/);
  assert.match(text, /Skipped 2 frames\n {2}ip-version-0 {2}×2 {2}first at frame 17/);
  assert.equal(lines[10], 'DNS: 2 answers from 192.168.1.1; 1 name looked up but never contacted:');
  assert.equal(lines[11], '  sdkconfig.ad.intl.xiaomi.com (NXDOMAIN)');
  assert.equal(
    lines[13],
    'device 192.168.1.10 (inferred: the address that originates most flows, private addresses first)',
  );
  assert.equal(lines.length, 3 + 6 + 3 + 2 + 3 + 3 + 1, 'every row is one line');
});

test('with an allowlist: a verdict column, violations with evidence, unmet expectations, the outcome', () => {
  const text = formatAnalyzeTable('metadata.pcap', testAnalysis(), verdict());
  assert.match(text, /^tracking\.intl\.miui\.com\s.*\sFORBIDDEN$/m);
  assert.match(text, /^resolver\.msg\.global\.xiaomi\.net\s.*\sallowed$/m);
  assert.match(text, /^192\.168\.1\.1\s.*\sFORBIDDEN$/m, 'the resolver was asked for a forbidden name');
  assert.match(text, /^198\.51\.100\.9\s.*\stolerated$/m);
  assert.match(
    text,
    /✗ tracking\.intl\.miui\.com \(dns-query\) is forbidden \[critical\]: forbid tracking\.intl\.miui\.com \(OneTrack after opt-out\) from idle\.yaml:5\n {6}1 connection, 80 B up, 160 B down, first 10:00:01, last 10:00:02; to 192\.168\.1\.1; flows C1\n {6}evidence: DNS query for resolver\.msg\.global\.xiaomi\.net, tracking\.intl\.miui\.com/,
  );
  assert.match(text, /evidence: POST \/track\/v4\?x=1 HTTP\/1\.1 Host: tracking\.intl\.miui\.com/);
  assert.match(text, /✗ .*evil\.example\\x1b.* \(sni\) is not allowed by idle\.yaml \(no rule matched\)/);
  assert.match(text, /Unmet expectations \(1\)\n {2}✗ never seen: expect connectivitycheck\.gstatic\.com/);
  assert.match(text, /verdict: VIOLATIONS against idle\.yaml: 4 violations, 1 unmet expectation\n/);
  assert.match(
    text,
    /! 198\.51\.100\.9 \(icmp\/0, 1 flow\) has no name and no IP rule; tolerated because unattributed: warn/,
  );
  assert.doesNotMatch(text, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/);
});

test('an allowed capture says so; a device given by hand is labelled as such', () => {
  const a = testAnalysis();
  a.flows = a.flows.filter((f) => f.uid === 'C2' || f.uid === 'C6');
  a.device = { addrs: ['192.168.1.10', '2001:db8:1234::1'], inferred: false };
  const list = loadAllowlist('idle.yaml', () => 'allow:\n  - {host: "*.xiaomi.net", reason: push}\n');
  const text = formatAnalyzeTable('-', a, judge(a.flows, list));
  assert.match(text, /^stdin: /);
  assert.match(text, /\ndevice 192\.168\.1\.10, 2001:db8:1234::1 \(given with --device\)\n/);
  assert.match(text, /\nverdict: allowed by idle\.yaml\n/);
  assert.doesNotMatch(text, /Violations/);
});

test('an empty capture reads as such', () => {
  const a = testAnalysis();
  a.flows = [];
  a.device = { addrs: [], inferred: true };
  const text = formatAnalyzeTable('empty.pcap', a);
  assert.match(text, /\ndevice unknown/);
  assert.match(text, /\nno flows\n/);
});

test('byte counts read naturally', () => {
  assert.deepEqual([0, 999, 1000, 38_200, 999_999, 1_500_000, 12_000_000_000].map(formatBytes), [
    '0 B',
    '999 B',
    '1.0 kB',
    '38 kB',
    '1000 kB',
    '1.5 MB',
    '12 GB',
  ]);
});

test('long lists wrap at spaces within the width', () => {
  const words = Array.from({ length: 40 }, (_, i) => `n${i}.tracking.example,`).join(' ');
  const lines = wrap(words, 100, '  ');
  assert.ok(lines.length > 1);
  for (const l of lines) assert.ok(l.length <= 100 && l.startsWith('  '), l);
  assert.equal(lines.map((l) => l.trim()).join(' '), words);
  assert.deepEqual(wrap(`${'x'.repeat(150)} y`, 100, '  '), [`  ${'x'.repeat(150)}`, '  y']);
});
