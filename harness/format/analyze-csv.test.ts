import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { HOSTILE_NAME, testAnalysis } from '../../testing/analysis-fixtures.js';
import { loadAllowlist } from '../verdict/allowlist.js';
import { judge } from '../verdict/verdict.js';
import { CSV_COLUMNS, csvField, csvRecord, defuseFormula, formatAnalyzeCsv } from './analyze-csv.js';

/** Python's csv module, a real RFC 4180 reader, as the oracle: rows as lists of strings. */
function parseWithPython(text: string): string[][] {
  const r = spawnSync(
    'python3',
    ['-c', 'import csv,json,sys; print(json.dumps(list(csv.reader(sys.stdin, strict=True))))'],
    { input: text, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('fields are quoted as RFC 4180 says', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(csvField('cr\r'), '"cr\r"');
  assert.equal(csvField(undefined), '');
  assert.equal(csvField(0), '0');
  assert.equal(csvRecord(['a', 1, undefined, 'b,c']), 'a,1,,"b,c"');
});

test('cells that a spreadsheet would run as a formula get a leading quote; numbers do not', () => {
  for (const s of ['=cmd|calc!A1', '+1+1', '-2+3', '@SUM(A1)', '\t=1', '\r=1']) {
    assert.equal(defuseFormula(s).startsWith("'"), true, JSON.stringify(s));
  }
  for (const s of ['api.xiaomi.com', '10.0.0.1', "'already"]) assert.equal(defuseFormula(s), s);
  assert.equal(csvField(-1), '-1', 'a number is data, not a formula');
  assert.equal(csvField('=HYPERLINK("http://x","y")'), `"'=HYPERLINK(""http://x"",""y"")"`);
});

test('one row per flow that a real CSV reader reads back field for field, hostile names included', () => {
  const a = testAnalysis();
  const v = judge(
    a.flows,
    loadAllowlist('l.yaml', () => 'allow:\n  - {host: "*.xiaomi.net", reason: push}\n'),
  );
  const text = formatAnalyzeCsv(a, v);
  assert.match(text, /\r\n$/);
  const rows = parseWithPython(text);
  assert.deepEqual(rows[0], [...CSV_COLUMNS]);
  assert.equal(rows.length, 1 + a.flows.length);
  const col = (name: (typeof CSV_COLUMNS)[number]) => CSV_COLUMNS.indexOf(name);
  for (const row of rows.slice(1)) assert.equal(row.length, CSV_COLUMNS.length);

  const tls = rows[2]!;
  assert.equal(tls[col('uid')], 'C2');
  assert.equal(tls[col('resp_addr')], '10.0.0.2');
  assert.equal(tls[col('resp_port')], '443');
  assert.equal(tls[col('ts_start')], '2019-03-04T10:00:02.000Z');
  assert.equal(tls[col('orig_bytes')], '5000');
  assert.equal(tls[col('names')], 'resolver.msg.global.xiaomi.net resolver.msg.global.xiaomi.net');
  assert.equal(tls[col('name_sources')], 'sni dns');
  assert.equal(tls[col('tls_alpn')], 'h2 http/1.1');
  assert.equal(tls[col('app_uid')], '10123');
  assert.equal(tls[col('verdict')], 'allowed');
  assert.equal(tls[col('rule')], 'allow *.xiaomi.net (push) from l.yaml:2');

  assert.equal(rows[4]![col('names')], HOSTILE_NAME, 'newlines and escapes survive quoting intact');
  assert.equal(rows[7]![col('names')], "'=cmd|calc!A1");
  assert.equal(rows[7]![col('verdict')], 'unlisted');
  assert.equal(rows[5]![col('conn_state')], '', 'absent fields are empty');
});

test('without an allowlist the verdict columns are empty', () => {
  const rows = parseWithPython(formatAnalyzeCsv(testAnalysis()));
  assert.deepEqual(
    rows.slice(1).map((r) => r.slice(-3)),
    Array.from({ length: 7 }, () => ['', '', '']),
  );
});
