import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../errors.js';
import { loadAllowlist, parseAllowlist } from './allowlist.js';
import { readAllowlist } from './read-allowlist.js';

/** Loads from an in-memory set of files, as if they were on disk. */
function fromFiles(files: Record<string, string>, entry: string) {
  return loadAllowlist(entry, (p) => {
    const text = files[p];
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    return text;
  });
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('no error thrown');
}

const IDLE = `# Idle Xiaomi phone, no account
description: idle, all opt-outs on
unattributed: warn
allow:
  - host: "*.xiaomi.net"
    reason: Mi Push and cloud
  - host: connectivitycheck.gstatic.com
    port: [80, 443]
    proto: tcp
    reason: captive portal check
  - cidr: 2001:db8::/32
    reason: lab IPv6 network
forbid:
  - host: tracking.intl.miui.com
    reason: OneTrack analytics after opt-out
    severity: critical
expect:
  - host: connectivitycheck.gstatic.com
    reason: every network join checks for a captive portal
budget:
  - hosts: ["*.xiaomi.net", {ip: 192.0.2.1}]
    maxBytes: 100000
    reason: push keepalives are small
`;

test('a well-formed file compiles into rules that describe themselves with file and line', () => {
  const f = parseAllowlist(IDLE, 'devices/xiaomi/allowlists/idle.yaml');
  assert.deepEqual(
    f.allow.map((r) => r.describe()),
    [
      'allow *.xiaomi.net (Mi Push and cloud) from idle.yaml:5',
      'allow connectivitycheck.gstatic.com tcp/80,443 (captive portal check) from idle.yaml:7',
      'allow 2001:db8::/32 (lab IPv6 network) from idle.yaml:11',
    ],
  );
  assert.equal(
    f.forbid[0]!.describe(),
    'forbid tracking.intl.miui.com (OneTrack analytics after opt-out) from idle.yaml:14',
  );
  assert.equal(f.forbid[0]!.info.severity, 'critical');
  assert.equal(f.expect[0]!.kind, 'expect');
  assert.equal(
    f.budgets[0]!.describe(),
    'budget at most 100000 bytes to *.xiaomi.net, 192.0.2.1 (push keepalives are small) from idle.yaml:21',
  );
  assert.equal(f.unattributed, 'warn');
  assert.equal(f.description, 'idle, all opt-outs on');
  assert.deepEqual(
    { file: f.allow[1]!.info.file, line: f.allow[1]!.info.line, column: f.allow[1]!.info.column },
    { file: 'devices/xiaomi/allowlists/idle.yaml', line: 7, column: 5 },
  );
});

test('rules test port and proto when the flow has them', () => {
  const rule = parseAllowlist(IDLE, 'idle.yaml').allow[1]!;
  const host = 'connectivitycheck.gstatic.com';
  assert.equal(rule.matches({ name: host, port: 443, proto: 'tcp' }), true);
  assert.equal(rule.matches({ name: host, port: 80, proto: 'tcp' }), true);
  assert.equal(rule.matches({ name: host, port: 443, proto: 'udp' }), false, 'QUIC is udp');
  assert.equal(rule.matches({ name: host, port: 8080, proto: 'tcp' }), false);
  assert.equal(rule.matches({ name: host }), true, 'no port given: port limits do not apply');
  assert.equal(
    rule.matches({ addr: '1.2.3.4', port: 443, proto: 'tcp' }),
    false,
    'a host rule ignores addresses',
  );
});

// Each bad file, with the exact message a user sees: file:line:column: path: what was expected.
const BAD: [string, string][] = [
  [
    'allow:\n  - host: a.example\n    reason: r\n  - cidr: 10.0.0.0/33\n    reason: lab\n',
    'bad.yaml:4:11: allow[1].cidr: "10.0.0.0/33" is not a CIDR (prefix length must be 0–32)',
  ],
  [
    'allow:\n  - host: a.example\n',
    'bad.yaml:2:5: allow[0].reason: every rule needs a reason: a sentence saying why',
  ],
  [
    'allow:\n  - host: a.example\n    reason: r\n    alow: 1\n',
    'bad.yaml:4:5: allow[0].alow: unknown key "alow"',
  ],
  ['alow:\n  - host: a.example\n', 'bad.yaml:1:1: alow: unknown key "alow"'],
  [
    'forbid:\n  - host: a.example\n    ip: 10.0.0.1\n    reason: r\n',
    'bad.yaml:3:9: forbid[0].ip: a rule takes exactly one of host, ip or cidr, not both host and ip',
  ],
  [
    'expect:\n  - port: 443\n    reason: r\n',
    'bad.yaml:2:5: expect[0]: a rule needs one of host, ip or cidr, or where the responder is (country, asn, org, party)',
  ],
  [
    'allow:\n  - host: ok.example\n    reason: r\n    port: 70000\n',
    'bad.yaml:4:11: allow[0].port: expected a port number 1–65535',
  ],
  [
    'allow:\n  - {host: "a*.example.com", reason: r}\n',
    'bad.yaml:2:12: allow[0].host: "a*.example.com" has a "*" that is not a leading "*." label (write "*.example.com")',
  ],
  [
    'allow:\n  - ip: 300.1.1.1\n    reason: r\n',
    'bad.yaml:2:9: allow[0].ip: "300.1.1.1" is not an IPv4 or IPv6 address',
  ],
  [
    'allow:\n  - host: a.example\n    proto: tls\n    reason: r\n',
    'bad.yaml:3:12: allow[0].proto: "tls" is not one of tcp, udp, icmp, icmp6, ip-N',
  ],
  ['unattributed: maybe\n', 'bad.yaml:1:15: unattributed: "maybe" is not one of "fail", "warn", "allow"'],
  [
    'openBeforeCapture: ignore\n',
    'bad.yaml:1:20: openBeforeCapture: "ignore" is not one of "fail", "warn", "allow"',
  ],
  [
    'forbid:\n  - host: a.example\n    reason: r\n    severity: urgent\n',
    'bad.yaml:4:15: forbid[0].severity: "urgent" is not one of "blocker", "critical", "normal", "minor", "trivial"',
  ],
  [
    'budget:\n  - hosts: [a.example]\n    reason: r\n',
    'bad.yaml:2:5: budget[0]: a budget needs maxBytes, maxConnections or both',
  ],
  [
    'budget:\n  - hosts: []\n    maxBytes: 1\n    reason: r\n',
    'bad.yaml:2:12: budget[0].hosts: a budget needs at least one entry in hosts',
  ],
  [
    'budget:\n  - hosts: [a.example]\n    maxBytes: -1\n    reason: r\n',
    'bad.yaml:3:15: budget[0].maxBytes: expected a whole number ≥ 0',
  ],
  ['allow: 3\n', 'bad.yaml:1:8: allow: expected a list'],
  [
    '- host: a\n',
    'bad.yaml:1:1: expected a mapping with keys such as allow, forbid, expect, budget, extends',
  ],
  ['', 'bad.yaml:1:1: the file is empty; expected a mapping with keys such as allow, forbid'],
  [
    'allow: [\n',
    'bad.yaml:2:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ],
  ['allow: []\nallow: []\n', 'bad.yaml:2:1: not valid YAML: Map keys must be unique'],
  [
    'allow:\n  - cidr: 10.1.2.3/8\n    reason: r\n',
    'bad.yaml:2:11: allow[0].cidr: "10.1.2.3/8" has host bits set past /8; did you mean 10.0.0.0/8?',
  ],
];

for (const [text, message] of BAD) {
  test(`bad file → ${message}`, () => {
    const e = configError(() => parseAllowlist(text, 'bad.yaml'));
    assert.equal(e.message, message);
    assert.equal(e.file, 'bad.yaml');
  });
}

test('of several problems, the one nearest the top of the file is reported', () => {
  const e = configError(() =>
    parseAllowlist(
      'allow:\n  - host: a.example\n    ip: 1.2.3.4\n    reason: r\nunattributed: maybe\n',
      'f.yaml',
    ),
  );
  assert.equal(e.line, 3);
  assert.equal(e.path, 'allow[0].ip');
});

test('extends layers base first; the last file to set unattributed wins', () => {
  const list = fromFiles(
    {
      'lab/idle.yaml':
        'extends: [common/base.yaml, net.yaml]\nunattributed: allow\nallow:\n  - {host: b.example, reason: idle}\n',
      'lab/common/base.yaml':
        'unattributed: warn\nallow:\n  - {host: a.example, reason: base}\nforbid:\n  - {host: t.example, reason: no}\n',
      'lab/net.yaml': 'extends: common/base.yaml\nallow:\n  - {cidr: 10.0.0.0/8, reason: lab}\n',
    },
    'lab/idle.yaml',
  );
  assert.deepEqual(list.files, ['lab/common/base.yaml', 'lab/net.yaml', 'lab/idle.yaml']);
  assert.deepEqual(
    list.allow.map((r) => r.describe()),
    [
      'allow a.example (base) from base.yaml:3',
      'allow 10.0.0.0/8 (lab) from net.yaml:3',
      'allow b.example (idle) from idle.yaml:4',
    ],
  );
  assert.equal(list.forbid.length, 1, 'a base extended twice is taken once');
  assert.equal(list.unattributed, 'allow');
  assert.equal(fromFiles({ 'x.yaml': 'allow: []\n' }, 'x.yaml').unattributed, 'fail', 'default is fail');
});

test('openBeforeCapture layers like unattributed, apart from it; default warn', () => {
  const files = {
    'idle.yaml': 'extends: base.yaml\nunattributed: warn\n',
    'base.yaml': 'openBeforeCapture: fail\nunattributed: allow\n',
  };
  const list = fromFiles(files, 'idle.yaml');
  assert.deepEqual([list.unattributed, list.openBeforeCapture], ['warn', 'fail']);
  const over = fromFiles(
    { ...files, 'idle.yaml': 'extends: base.yaml\nopenBeforeCapture: allow\n' },
    'idle.yaml',
  );
  assert.equal(over.openBeforeCapture, 'allow');
  assert.equal(fromFiles({ 'x.yaml': 'allow: []\n' }, 'x.yaml').openBeforeCapture, 'warn');
});

test('an extends cycle is an error that shows the cycle and points at the extends entry', () => {
  const e = configError(() =>
    fromFiles(
      {
        'a.yaml': 'extends: [b.yaml]\n',
        'b.yaml': 'allow: []\nextends:\n  - c.yaml\n',
        'c.yaml': 'extends: a.yaml\n',
      },
      'a.yaml',
    ),
  );
  assert.equal(
    e.message,
    'c.yaml:1:10: extends[0]: "a.yaml" makes a cycle: a.yaml → b.yaml → c.yaml → a.yaml',
  );
  const self = configError(() => fromFiles({ 's.yaml': 'extends: [./s.yaml]\n' }, 's.yaml'));
  assert.match(self.message, /^s\.yaml:1:11: extends\[0\]: "\.\/s\.yaml" makes a cycle/);
});

test('a missing extended file is reported where it is named; errors in it point into it', () => {
  const missing = configError(() => fromFiles({ 'a.yaml': 'allow: []\nextends: [gone.yaml]\n' }, 'a.yaml'));
  assert.equal(
    missing.message,
    'a.yaml:2:11: extends[0]: "gone.yaml" cannot be read: no such file (looked for gone.yaml)',
  );
  const inner = configError(() =>
    fromFiles({ 'a.yaml': 'extends: [b.yaml]\n', 'b.yaml': 'allow:\n  - {host: x.example}\n' }, 'a.yaml'),
  );
  assert.equal(inner.file, 'b.yaml');
  assert.equal(inner.line, 2);
});

test('readAllowlist reads real files relative to each other', () => {
  const dir = mkdtempSync(join(tmpdir(), 'phonehome-allowlist-'));
  try {
    writeFileSync(join(dir, 'base.yaml'), 'allow:\n  - {ip: 192.168.1.1, port: 53, reason: lab resolver}\n');
    writeFileSync(
      join(dir, 'idle.yaml'),
      'extends: base.yaml\nallow:\n  - {host: "*.xiaomi.net", reason: push}\n',
    );
    const list = readAllowlist(join(dir, 'idle.yaml'));
    assert.equal(list.allow.length, 2);
    assert.equal(list.allow[0]!.matches({ addr: '192.168.1.1', port: 53, proto: 'udp' }), true);
    writeFileSync(join(dir, 'abs.yaml'), `extends: ${JSON.stringify(join(dir, 'base.yaml'))}\n`);
    assert.equal(
      readAllowlist(join(dir, 'abs.yaml')).allow.length,
      1,
      'an absolute extends path is taken as is',
    );
    const e = configError(() => readAllowlist(join(dir, 'nope.yaml')));
    assert.equal(e.message, `${join(dir, 'nope.yaml')}: cannot read the allowlist: no such file`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the example allowlist in docs/analyze-json.md is valid and says what its comments say', () => {
  const md = readFileSync('docs/analyze-json.md', 'utf8');
  const yaml = /```yaml\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(yaml, 'the doc has a yaml example');
  const f = parseAllowlist(yaml, 'devices/xiaomi/allowlists/idle.yaml');
  assert.deepEqual(
    f.extends.map((e) => e.path),
    ['../../common/lab.yaml'],
  );
  const push = f.allow[0]!;
  assert.equal(push.matches({ name: 'a.b.xiaomi.net' }), true);
  assert.equal(push.matches({ name: 'xiaomi.net' }), false, 'NOT xiaomi.net itself');
  assert.equal(f.forbid[0]!.info.severity, 'critical');
  assert.equal(f.budgets[0]!.info.maxConnections, 50);
  assert.equal(f.unattributed, 'warn');
});
