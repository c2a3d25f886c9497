import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Flow, FlowName } from '../flows/flow.js';
import type { Leak } from '../identifiers/find-leaks.js';
import { loadAllowlist } from './allowlist.js';
import { DEFAULT_CANARY_DOMAIN, judgedFlows } from './judged-flows.js';
import { judge, unmetText } from './verdict.js';

const PHONE = '192.168.1.10';
let counter = 0;

/** A flow from the phone, with the fields judging looks at; everything else plausible. */
function flow(
  resp: string,
  port: number,
  names: [string, FlowName['source']][] = [],
  extra: Partial<Flow> = {},
): Flow {
  counter += 1;
  const t = 1_700_000_000 + counter;
  return {
    uid: `C${counter.toString(36)}`,
    proto: 'tcp',
    orig: { addr: PHONE, port: 40000 + counter },
    resp: { addr: resp, port },
    tsStart: t,
    tsEnd: t + 2,
    origBytes: 1000,
    respBytes: 5000,
    origPkts: 10,
    respPkts: 12,
    names: names.map(([name, source]) => ({ name, source })),
    ...extra,
  };
}

function allowlist(text: string, files: Record<string, string> = {}) {
  const all: Record<string, string> = { 'idle.yaml': text, ...files };
  return loadAllowlist('idle.yaml', (p) => {
    const t = all[p];
    if (t === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return t;
  });
}

const LIST = allowlist(`
allow:
  - {host: "*.xiaomi.net", reason: Mi Push}
  - {host: connectivitycheck.gstatic.com, port: 443, proto: tcp, reason: captive portal}
  - {ip: 192.168.1.1, port: 53, proto: udp, reason: lab resolver}
  - {cidr: "2001:db8:1234::/48", reason: lab IPv6}
forbid:
  - {host: tracking.intl.miui.com, port: 443, reason: OneTrack after opt-out, severity: critical}
  - {cidr: 203.0.113.0/24, reason: known tracker network}
`);

test('flows matched by allow rules pass; the verdict is allowed', () => {
  const flows = [
    flow('10.1.1.1', 443, [['resolver.msg.global.xiaomi.net', 'sni']]),
    flow('10.1.1.2', 443, [['connectivitycheck.gstatic.com', 'sni']]),
    flow('192.168.1.1', 53, [['resolver.msg.global.xiaomi.net', 'dns-query']], {
      proto: 'udp',
      service: 'dns',
    }),
    flow('2001:db8:1234::99', 80),
  ];
  const v = judge(flows, LIST);
  assert.equal(v.outcome, 'allowed');
  assert.deepEqual(v.violations, []);
  assert.deepEqual(
    v.judgements.map((j) => [j.status, j.subject, j.provenance]),
    [
      ['allowed', 'resolver.msg.global.xiaomi.net', 'sni'],
      ['allowed', 'connectivitycheck.gstatic.com', 'sni'],
      ['allowed', '192.168.1.1', 'address'],
      ['allowed', '2001:db8:1234::99', 'address'],
    ],
  );
  assert.equal(v.judgements[0]!.ruleText, 'allow *.xiaomi.net (Mi Push) from idle.yaml:3');
  assert.deepEqual(v.allowlistFiles, ['idle.yaml']);
});

test('port and proto limits apply: the same host over QUIC or on another port is a violation', () => {
  const v = judge(
    [
      flow('10.1.1.2', 443, [['connectivitycheck.gstatic.com', 'quic-sni']], { proto: 'udp' }),
      flow('10.1.1.2', 80, [['connectivitycheck.gstatic.com', 'http-host']]),
    ],
    LIST,
  );
  assert.equal(v.outcome, 'violations');
  assert.equal(v.violations.length, 1, 'one group per name');
  const [only] = v.violations;
  assert.equal(only!.subject, 'connectivitycheck.gstatic.com');
  assert.equal(only!.rule, null);
  assert.equal(only!.ruleText, 'no rule matched');
  assert.equal(only!.connections, 2);
});

test('forbid wins over allow, by any name or by address, and groups per name with evidence', () => {
  const a = flow('10.9.9.9', 443, [
    ['tracking.intl.miui.com', 'sni'],
    ['cdn.xiaomi.net', 'dns'],
  ]);
  const b = flow('10.9.9.8', 443, [['tracking.intl.miui.com', 'sni']], { origBytes: 300, respBytes: 700 });
  const c = flow('203.0.113.5', 443, [['api.xiaomi.net', 'sni']]);
  const v = judge([a, b, c], LIST);
  assert.equal(v.outcome, 'violations');
  assert.equal(v.violations.length, 2);
  const [tracking, byAddr] = v.violations;
  assert.equal(tracking!.subject, 'tracking.intl.miui.com');
  assert.equal(tracking!.provenance, 'sni');
  assert.equal(tracking!.severity, 'critical');
  assert.equal(
    tracking!.ruleText,
    'forbid tracking.intl.miui.com port 443 (OneTrack after opt-out) from idle.yaml:8',
  );
  assert.deepEqual(tracking!.flows, [a.uid, b.uid]);
  assert.deepEqual(tracking!.addrs, ['10.9.9.9', '10.9.9.8']);
  assert.equal(tracking!.connections, 2);
  assert.equal(tracking!.bytesUp, 1300);
  assert.equal(tracking!.bytesDown, 5700);
  assert.equal(tracking!.firstSeen, a.tsStart);
  assert.equal(tracking!.lastSeen, b.tsEnd);
  assert.equal(byAddr!.subject, '203.0.113.5');
  assert.equal(byAddr!.provenance, 'address');
  assert.equal(byAddr!.rule?.kind, 'forbid');
  assert.equal(byAddr!.severity, 'normal');
});

test('asking a resolver for a forbidden name is a violation, whatever port the rule names', () => {
  const dns = flow('192.168.1.1', 53, [['tracking.intl.miui.com', 'dns-query']], {
    proto: 'udp',
    service: 'dns',
  });
  const v = judge([dns], LIST);
  assert.equal(v.outcome, 'violations');
  assert.equal(v.violations[0]!.subject, 'tracking.intl.miui.com');
  assert.equal(v.violations[0]!.provenance, 'dns-query');
  assert.equal(v.violations[0]!.rule?.kind, 'forbid');
});

test('a DNS flow to an unlisted resolver passes only when every name it asked for is allowed', () => {
  const ok = flow(
    '8.8.8.8',
    53,
    [
      ['a.xiaomi.net', 'dns-query'],
      ['b.xiaomi.net', 'dns-query'],
    ],
    { proto: 'udp' },
  );
  const mixed = flow(
    '8.8.8.8',
    53,
    [
      ['a.xiaomi.net', 'dns-query'],
      ['ads.example', 'dns-query'],
    ],
    { proto: 'udp' },
  );
  const v = judge([ok, mixed], LIST);
  assert.deepEqual(
    v.judgements.map((j) => [j.status, j.subject]),
    [
      ['allowed', 'a.xiaomi.net'],
      ['unlisted', 'ads.example'],
    ],
  );
});

test('flows without names follow the unattributed policy; IP rules still apply to them', () => {
  const flows = [flow('198.51.100.7', 443), flow('198.51.100.7', 8443), flow('2001:db8:1234::5', 443)];
  const fail = judge(flows, LIST);
  assert.equal(fail.outcome, 'violations');
  assert.equal(fail.violations.length, 1);
  assert.equal(fail.violations[0]!.subject, '198.51.100.7');
  assert.equal(fail.violations[0]!.connections, 2);
  assert.equal(fail.judgements[2]!.status, 'allowed');

  const warn = judge(flows, LIST, { unattributed: 'warn' });
  assert.equal(warn.outcome, 'allowed');
  assert.equal(warn.judgements[0]!.status, 'tolerated');
  assert.deepEqual(warn.warnings, [
    '198.51.100.7 (tcp/443, tcp/8443, 2 flows) has no name and no IP rule; tolerated because unattributed: warn',
  ]);

  const allow = judge(flows, allowlist('unattributed: allow\n'));
  assert.equal(allow.outcome, 'allowed');
  assert.deepEqual(allow.warnings, []);

  const forbidden = judge(
    [flow('203.0.113.1', 443)],
    allowlist('unattributed: allow\nforbid:\n  - {cidr: 203.0.113.0/24, reason: r}\n'),
  );
  assert.equal(forbidden.outcome, 'violations', 'a forbid by address beats unattributed: allow');
});

test('an unnamed connection already open when the capture began follows openBeforeCapture (default warn)', () => {
  const open = (extra: Partial<Flow> = {}) => flow('198.51.100.9', 443, [], { midstream: true, ...extra });
  const flows = [
    open(),
    open(),
    // Began inside the capture (its SYN is there) but got no name: unattributed as ever.
    flow('198.51.100.10', 443),
    // Named midstream flows are judged by their names as usual.
    open({ names: [{ name: 'unknown.example', source: 'dns' }] }),
  ];
  const complete = { captureComplete: true };
  const warn = judge(flows, LIST, complete);
  assert.deepEqual(
    warn.judgements.map((j) => [j.status, j.ruleText]),
    [
      ['tolerated', 'open before the capture began: warn'],
      ['tolerated', 'open before the capture began: warn'],
      ['unlisted', 'no rule matched'],
      ['unlisted', 'no rule matched'],
    ],
  );
  assert.deepEqual(
    warn.violations.map((v) => v.subject),
    ['198.51.100.10', 'unknown.example'],
  );
  assert.deepEqual(warn.warnings, [
    '198.51.100.9 (tcp/443, 2 flows) was already open when the capture began (no handshake in it), so no name for it was captured; tolerated because openBeforeCapture: warn',
  ]);

  const onlyOpen = flows.slice(0, 2);
  assert.equal(judge(onlyOpen, LIST, complete).outcome, 'allowed');
  // A capture that may have lost packets cannot tell a connection open before it from one whose SYN it lost.
  assert.equal(judge(onlyOpen, LIST).outcome, 'violations');
  assert.equal(judge(onlyOpen, LIST, { captureComplete: false }).outcome, 'violations');
  // unattributed: allow does not reach it; its own policy does.
  assert.equal(judge(onlyOpen, allowlist('unattributed: allow\n'), complete).warnings.length, 1);
  const fail = judge(onlyOpen, allowlist('openBeforeCapture: fail\n'), complete);
  assert.equal(fail.outcome, 'violations');
  assert.equal(fail.violations[0]!.ruleText, 'open before the capture began: fail');
  const allow = judge(onlyOpen, allowlist('openBeforeCapture: allow\n'), complete);
  assert.deepEqual([allow.outcome, allow.warnings], ['allowed', []]);
  const forbidden = allowlist('forbid:\n  - {cidr: 198.51.100.0/24, reason: r}\n');
  assert.equal(judge(onlyOpen, forbidden, complete).outcome, 'violations', 'a forbid by address still holds');
});

test('a named flow that no rule allows is a violation even when unattributed is allow', () => {
  const v = judge([flow('10.0.0.1', 443, [['unknown.example', 'sni']])], allowlist('unattributed: allow\n'));
  assert.equal(v.outcome, 'violations');
  assert.equal(v.violations[0]!.subject, 'unknown.example');
});

test('expectations: an empty capture can never pass an allowlist with expect rules', () => {
  const list = allowlist(`
allow:
  - {host: "*.gstatic.com", reason: google static}
expect:
  - {host: connectivitycheck.gstatic.com, reason: captive portal check on join}
  - {ip: 192.168.1.1, port: 53, reason: DNS goes to the lab resolver}
`);
  const empty = judge([], list);
  assert.equal(empty.outcome, 'violations');
  assert.deepEqual(
    empty.unmetExpectations.map((u) => u.ruleText),
    [
      'expect connectivitycheck.gstatic.com (captive portal check on join) from idle.yaml:5',
      'expect 192.168.1.1 port 53 (DNS goes to the lab resolver) from idle.yaml:6',
    ],
  );
  const seen = judge(
    [
      flow('142.250.1.1', 443, [['connectivitycheck.gstatic.com', 'sni']]),
      flow('192.168.1.1', 53, [['connectivitycheck.gstatic.com', 'dns-query']], { proto: 'udp' }),
    ],
    list,
  );
  assert.deepEqual(seen.unmetExpectations, []);
  const onlyAsked = judge(
    [flow('192.168.1.1', 5353, [['connectivitycheck.gstatic.com', 'dns-query']], { proto: 'udp' })],
    list,
  );
  assert.equal(onlyAsked.unmetExpectations.length, 2, 'asking DNS for a name is not contacting it');
});

test('budgets sum bytes and connections over every matching flow', () => {
  const list = allowlist(`
allow:
  - {host: "*.xiaomi.net", reason: push}
budget:
  - hosts: ["*.xiaomi.net"]
    maxBytes: 12000
    reason: push keepalives are small
  - hosts: ["*.xiaomi.net", {ip: 10.0.0.1}]
    maxConnections: 2
    reason: few connections
`);
  const flows = [
    flow('10.0.0.2', 443, [['a.xiaomi.net', 'sni']]),
    flow('10.0.0.3', 443, [['b.xiaomi.net', 'dns']]),
    flow('10.0.0.1', 443, [['other.example', 'sni']]),
  ];
  const v = judge(flows, list);
  assert.deepEqual(
    v.budgets.map((b) => [b.bytes, b.connections, b.exceeded]),
    [
      [12000, 2, false],
      [18000, 3, true],
    ],
  );
  assert.deepEqual(
    v.budgets[1]!.flows,
    flows.map((f) => f.uid),
  );
  assert.equal(v.outcome, 'violations');
  const under = judge(flows.slice(0, 2), list);
  assert.equal(
    under.budgets.some((b) => b.exceeded),
    false,
  );
  assert.equal(under.outcome, 'allowed');
});

test('encrypted DNS is a warning that names the resolver and the flows', () => {
  const list = allowlist('allow:\n  - {ip: 8.8.8.8, reason: google dns}\n');
  const v = judge(
    [
      flow('8.8.8.8', 853, [], { encryptedDns: 'dot' }),
      flow('8.8.8.8', 853, [], { encryptedDns: 'dot' }),
      flow('2001:4860:4860::8888', 443, [['dns.google', 'sni']], { encryptedDns: 'doh' }),
    ],
    list,
  );
  assert.equal(v.warnings.length, 2);
  assert.match(
    v.warnings[0]!,
    /^encrypted DNS \(dot to 8\.8\.8\.8:853\) in 2 flows \(C\w+, C\w+\): the names it resolved are hidden$/,
  );
  assert.match(v.warnings[1]!, /doh to \[2001:4860:4860::8888\]:443/);
});

test('violations come in a stable order: first seen, then name', () => {
  const flows = [
    flow('10.0.0.1', 443, [['zz.example', 'sni']]),
    flow('10.0.0.2', 443, [['aa.example', 'sni']]),
    flow('10.0.0.3', 443, [['mm.example', 'sni']]),
  ];
  flows[1]!.tsStart = flows[0]!.tsStart;
  const once = judge(flows, LIST).violations.map((v) => v.subject);
  assert.deepEqual(once, ['aa.example', 'zz.example', 'mm.example']);
  assert.deepEqual(
    judge([...flows].reverse(), LIST).violations.map((v) => v.subject),
    once,
  );
});

test('a DNS flow is not judged by names the resolver address happens to answer to', () => {
  // In a lab, the resolver is often also the server every name resolves to.
  const dns = flow(
    '192.168.1.1',
    53,
    [
      ['api.xiaomi.net', 'dns'],
      ['unknown.example', 'dns-query'],
    ],
    {
      proto: 'udp',
      service: 'dns',
    },
  );
  const list = allowlist(
    'allow:\n  - {host: "*.xiaomi.net", reason: push}\nexpect:\n  - {host: api.xiaomi.net, reason: r}\n',
  );
  const v = judge([dns], list);
  assert.equal(
    v.judgements[0]!.status,
    'unlisted',
    'an allowed alias of the resolver does not let the query pass',
  );
  assert.equal(v.judgements[0]!.subject, 'unknown.example');
  assert.equal(v.unmetExpectations.length, 1, 'nor does it count as contacting the name');
  const forbid = allowlist(
    'forbid:\n  - {host: api.xiaomi.net, reason: r}\nallow:\n  - {ip: 192.168.1.1, reason: resolver}\n',
  );
  const asked = flow(
    '192.168.1.1',
    53,
    [
      ['api.xiaomi.net', 'dns'],
      ['ok.example', 'dns-query'],
    ],
    { proto: 'udp', service: 'dns' },
  );
  assert.equal(judge([asked], forbid).outcome, 'allowed');
});

test('a name no host can have is a violation of its own: no allow rule takes it, a forbid rule still does', () => {
  const list = allowlist(`
allow:
  - {host: "*.evil.test", reason: the lab's own}
  - {cidr: 203.0.113.0/24, reason: the lab's network}
forbid:
  - {host: "*.tracker.test", reason: tracking}
`);
  const odd = flow('203.0.113.5', 443, []);
  odd.names = [
    { name: 'a\\x00b.evil.test', source: 'sni', invalid: true },
    { name: 'x.evil.test', source: 'dns' },
  ];
  const forbidden = flow('203.0.113.6', 443, []);
  forbidden.names = [{ name: 'q"x.tracker.test', source: 'http-host', invalid: true }];
  const fine = flow('203.0.113.7', 443, [['y.evil.test', 'sni']]);
  const v = judge([odd, forbidden, fine], list);
  assert.deepEqual(
    v.violations.map((x) => [x.subject, x.ruleText]),
    [
      ['a\\x00b.evil.test', 'not a valid host name: no rule can allow it'],
      ['q"x.tracker.test', 'forbid *.tracker.test (tracking) from idle.yaml:6'],
    ],
  );
  assert.equal(v.judgements.find((j) => j.uid === fine.uid)?.status, 'allowed');
});

/** A leak of `kind` in the flow, values masked as the search gives them. */
function leak(f: Flow, kind: Leak['kind']): Leak {
  return {
    kind,
    masked: 'abc…xyz',
    fingerprint: '0123456789ab',
    flow: f.uid,
    place: 'URL query id',
    encoding: 'plain',
    firstSeen: f.tsStart,
    count: 1,
  };
}

test('identifier leaks: forbid wins over allow, allow needs the host, the rest follows identifierLeaks', () => {
  const ads = flow('198.51.100.1', 443, [['ads.googleapis.com', 'sni']]);
  const stats = flow('198.51.100.2', 80, [['data.mistat.intl.xiaomi.com', 'http-host']]);
  const list = allowlist(`
allow:
  - {host: "*.googleapis.com", reason: Play services}
  - {host: "*.xiaomi.com", reason: Xiaomi services}
identifiers:
  allow:
    - {id: advertising-id, host: "*.googleapis.com", reason: the ad ID is for ads}
    - {id: imei, host: "*.xiaomi.com", reason: "never reached: the forbid below wins"}
  forbid:
    - {id: imei, reason: no device ID leaves the phone, severity: critical}
`);
  const v = judge([ads, stats], list, {
    leaks: [leak(ads, 'advertising-id'), leak(stats, 'imei'), leak(stats, 'android-id'), leak(ads, 'serial')],
  });
  assert.deepEqual(
    v.identifierLeaks?.map((j) => [j.leak.kind, j.subject, j.status, j.severity, j.ruleText]),
    [
      [
        'advertising-id',
        'ads.googleapis.com',
        'allowed',
        'normal',
        'allow identifier advertising-id to *.googleapis.com (the ad ID is for ads) from idle.yaml:7',
      ],
      [
        'imei',
        'data.mistat.intl.xiaomi.com',
        'forbidden',
        'critical',
        'forbid identifier imei to any host (no device ID leaves the phone) from idle.yaml:10',
      ],
      [
        'android-id',
        'data.mistat.intl.xiaomi.com',
        'unlisted',
        'normal',
        'no identifiers rule mentions it: identifierLeaks: fail',
      ],
      [
        'serial',
        'ads.googleapis.com',
        'unlisted',
        'normal',
        'no identifiers rule mentions it: identifierLeaks: fail',
      ],
    ],
  );
  assert.equal(v.outcome, 'violations');

  const w = judge(
    [ads],
    loadAllowlist('top.yaml', (p) =>
      p === 'top.yaml'
        ? 'extends: idle.yaml\nidentifierLeaks: warn\n'
        : 'allow:\n  - {host: "*.googleapis.com", reason: Play services}\n',
    ),
    { leaks: [leak(ads, 'serial')] },
  );
  assert.equal(w.outcome, 'allowed');
  assert.deepEqual(
    w.identifierLeaks?.map((j) => j.status),
    ['tolerated'],
  );
  assert.ok(
    w.warnings.some((x) =>
      x.startsWith('serial abc…xyz sent to ads.googleapis.com (URL query id, plain): tolerated'),
    ),
  );
});

test('identifier rules are checked where they are written', () => {
  assert.throws(
    () => allowlist('identifiers:\n  allow:\n    - {id: imei, reason: no host}\n'),
    /idle\.yaml:3:7: identifiers\.allow\[0\]\.host/,
  );
  assert.throws(
    () => allowlist('identifiers:\n  forbid:\n    - {id: shoe-size, reason: nope}\n'),
    /idle\.yaml:3:\d+: identifiers\.forbid\[0\]\.id: expected an identifier kind/,
  );
});

// --- Place rules: country, asn, org, party (harness/geo fills resp.geo) ---

function placed(resp: string, name: string, geo: NonNullable<Flow['resp']['geo']>): Flow {
  const f = flow(resp, 443, [[name, 'sni']]);
  f.resp.geo = geo;
  return f;
}

const GEO_SUMMARY = { databases: [], problems: [], overrides: 1, warnings: [] };
const sg = {
  country: 'SG',
  countries: [
    { db: 'a', country: 'SG' },
    { db: 'b', country: 'SG' },
  ],
  party: 'first' as const,
  partyWhy: 'x',
  asn: 63855,
  org: 'XIAOMI H.K. Limited',
};
const cn = {
  country: 'CN',
  countries: [
    { db: 'a', country: 'CN' },
    { db: 'b', country: 'CN' },
  ],
  party: 'third' as const,
  partyWhy: 'x',
  asn: 4134,
  org: 'CHINANET',
};
const split = {
  country: 'CN',
  countries: [
    { db: 'a', country: 'CN' },
    { db: 'b', country: 'US' },
  ],
  disagree: true as const,
  party: 'third' as const,
  partyWhy: 'x',
};

test('forbid country: CN catches a flow in mainland China whatever its name, before any allow rule', () => {
  const list = allowlist(`
forbid:
  - {country: CN, reason: no traffic to mainland China before consent, severity: critical}
allow:
  - {host: "*.intl.xiaomi.com", reason: Xiaomi international services}
  - {host: "*.unlisted-collector.net", reason: even if a host rule allowed it}
`);
  const flows = [
    placed('10.213.200.5', 'data.mistat.intl.xiaomi.com', sg),
    placed('10.213.202.9', 't.unlisted-collector.net', cn),
  ];
  const v = judge(flows, list, { geo: GEO_SUMMARY });
  assert.equal(v.outcome, 'violations');
  assert.deepEqual(
    v.judgements.map((j) => j.status),
    ['allowed', 'forbidden'],
  );
  assert.equal(v.violations[0]?.rule?.match, 'in CN');
  assert.match(
    v.violations[0]!.ruleText,
    /^forbid in CN \(no traffic to mainland China before consent\) from idle\.yaml:3$/,
  );
  assert.equal(v.violations[0]?.severity, 'critical');
});

test('a host with a country: both must hold', () => {
  const list = allowlist(`
allow:
  - {host: "*.intl.xiaomi.com", country: SG, reason: Xiaomi's international services are in Singapore}
`);
  const home = placed('10.213.200.5', 'api.ad.intl.xiaomi.com', sg);
  const away = placed('10.213.202.5', 'api.ad.intl.xiaomi.com', cn);
  const v = judge([home, away], list, { geo: GEO_SUMMARY });
  assert.deepEqual(
    v.judgements.map((j) => j.status),
    ['allowed', 'unlisted'],
  );
  assert.equal(v.judgements[0]?.rule?.match, '*.intl.xiaomi.com in SG');
});

test('sources that disagree: one saying CN is enough to forbid, and not enough to allow', () => {
  const forbid = allowlist('forbid:\n  - {country: CN, reason: no mainland China}\n');
  assert.equal(
    judge([placed('1.2.3.4', 'x.example', split)], forbid, { geo: GEO_SUMMARY }).judgements[0]?.status,
    'forbidden',
  );
  const allowUs = allowlist('allow:\n  - {country: US, reason: US is fine}\n');
  assert.equal(
    judge([placed('1.2.3.4', 'x.example', split)], allowUs, { geo: GEO_SUMMARY }).judgements[0]?.status,
    'unlisted',
  );
  const allowBoth = allowlist('allow:\n  - {country: [US, CN], reason: either}\n');
  assert.equal(
    judge([placed('1.2.3.4', 'x.example', split)], allowBoth, { geo: GEO_SUMMARY }).judgements[0]?.status,
    'allowed',
  );
});

test('asn, org and party matchers, and a party budget', () => {
  const list = allowlist(`
allow:
  - {asn: AS63855, reason: Xiaomi's own network}
  - {org: chinanet, reason: by organisation}
budget:
  - {hosts: [{party: third}], maxBytes: 5000, reason: little to third parties}
expect:
  - {party: first, reason: the maker is contacted}
`);
  const flows = [placed('10.213.200.5', 'a.example', sg), placed('10.213.202.9', 'b.example', cn)];
  const v = judge(flows, list, { geo: GEO_SUMMARY });
  assert.deepEqual(
    v.judgements.map((j) => j.status),
    ['allowed', 'allowed'],
  );
  assert.equal(v.judgements[0]?.rule?.match, 'AS63855');
  assert.equal(v.judgements[1]?.rule?.match, 'org ~"chinanet"');
  assert.equal(v.budgets[0]?.connections, 1);
  assert.equal(v.budgets[0]?.bytes, 6000);
  assert.equal(v.budgets[0]?.exceeded, true);
  assert.match(v.budgets[0]!.ruleText, /^budget at most 5000 bytes to party third/);
  assert.deepEqual(v.unmetExpectations, []);
});

test('place rules with no location data fail the verdict, naming each rule', () => {
  const list = allowlist(`
allow:
  - {host: "*.xiaomi.net", reason: Mi Push}
forbid:
  - {country: CN, reason: no mainland China}
`);
  const flows = [flow('10.1.1.1', 443, [['resolver.msg.global.xiaomi.net', 'sni']])];
  const off = judge(flows, list);
  assert.equal(off.outcome, 'violations');
  assert.match(
    off.cannotJudge?.[0] ?? '',
    /^forbid in CN \(no mainland China\) from idle\.yaml:5: cannot be applied: the flows were not located/,
  );
  const none = judge(flows, list, {
    geo: {
      databases: [],
      problems: [{ name: 'asn', package: 'p', problem: 'not installed (run make setup)' }],
      overrides: 0,
      warnings: [],
    },
  });
  assert.equal(none.outcome, 'violations');
  assert.match(
    none.cannotJudge?.[0] ?? '',
    /no location database is installed and no override is set \(asn: not installed/,
  );
  // Without place rules nothing changes.
  const plain = allowlist('allow:\n  - {host: "*.xiaomi.net", reason: Mi Push}\n');
  assert.equal(judge(flows, plain).outcome, 'allowed');
  assert.equal(judge(flows, plain).cannotJudge, undefined);
});

test('place fields are checked with file, line and field', () => {
  assert.throws(
    () => allowlist('forbid:\n  - {country: china, reason: x}\n'),
    /idle\.yaml:2:.*forbid\[0\]\.country.*two-letter/,
  );
  assert.throws(
    () => allowlist('allow:\n  - {asn: AS-1, reason: x}\n'),
    /idle\.yaml:2:.*allow\[0\]\.asn.*AS number/,
  );
  assert.throws(
    () => allowlist('allow:\n  - {party: fourth, reason: x}\n'),
    /idle\.yaml:2:.*allow\[0\]\.party.*first, platform, support, third, local/,
  );
  assert.throws(
    () => allowlist('allow:\n  - {reason: x}\n'),
    /a rule needs one of host, ip or cidr, or where the responder is/,
  );
});

test('an expectation with minConnections counts the connections: fewer is unmet, with how many were seen', () => {
  const list = allowlist(`
allow:
  - {host: "*.xmpush.global.xiaomi.com", reason: push}
expect:
  - {host: "*.xmpush.global.xiaomi.com", minConnections: 3, reason: push checks in every few minutes}
`);
  const push = () => flow('10.1.1.1', 443, [['sgp-api.xmpush.global.xiaomi.com', 'sni']]);
  const two = judge([push(), push()], list);
  assert.equal(two.outcome, 'violations');
  assert.equal(two.unmetExpectations.length, 1);
  assert.equal(two.unmetExpectations[0]!.seen, 2);
  assert.equal(
    unmetText(two.unmetExpectations[0]!),
    'seen 2 of at least 3: expect at least 3 connections to *.xmpush.global.xiaomi.com (push checks in every few minutes) from idle.yaml:5',
  );
  assert.equal(
    unmetText(judge([], list).unmetExpectations[0]!).startsWith('never seen: expect at least 3'),
    true,
  );
  assert.deepEqual(judge([push(), push(), push()], list).unmetExpectations, []);
  assert.throws(
    () => allowlist('expect:\n  - {host: a.example, minConnections: 0, reason: r}\n'),
    /idle\.yaml:2:\d+.*minConnections.*whole number ≥ 1/s,
  );
});

test("phonehome's canaries and ICMP the phone only received are left out of what is judged", () => {
  const canary = flow('10.0.0.2', 53, [['start-run1.canary.phonehome.test', 'dns']], { proto: 'udp' });
  const ping = flow('10.0.0.3', 0, [['end-run1.canary.phonehome.test', 'dns']], { proto: 'icmp' });
  const unreachable = flow('10.0.0.4', 0, [], { proto: 'icmp', origPkts: 0 });
  const sentPing = flow('10.0.0.5', 0, [], { proto: 'icmp' });
  const lookalike = flow('10.0.0.6', 443, [['canary.phonehome.test.example.com', 'sni']]);
  const all = [canary, ping, unreachable, sentPing, lookalike];
  assert.deepEqual(
    judgedFlows(all, DEFAULT_CANARY_DOMAIN).map((f) => f.uid),
    [sentPing.uid, lookalike.uid],
  );
  // Another lab's canary domain: the default one is then judged like any name.
  assert.deepEqual(
    judgedFlows(all, 'canary.lab.example').map((f) => f.uid),
    [canary.uid, ping.uid, sentPing.uid, lookalike.uid],
  );
});
