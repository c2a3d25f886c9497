import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointGeo, Flow } from '../flows/flow.js';
import type { Leak } from '../identifiers/find-leaks.js';
import { drift, driftSection, findingLine } from './drift.js';
import { type RunSummary, summarizeRun } from './summary.js';

let n = 0;
function flow(
  host: string | undefined,
  addr: string,
  up: number,
  down: number,
  geo?: Partial<EndpointGeo>,
): Flow {
  n += 1;
  return {
    uid: `C${n}`,
    proto: 'tcp',
    orig: { addr: '10.213.1.10', port: 40000 + n },
    resp: {
      addr,
      port: 443,
      ...(geo ? { geo: { countries: [], party: 'third', partyWhy: 'x', ...geo } } : {}),
    },
    tsStart: 1000 + n,
    tsEnd: 1001 + n,
    origBytes: up,
    respBytes: down,
    origPkts: 1,
    respPkts: 1,
    names: host ? [{ name: host, source: 'sni' }] : [],
  } as Flow;
}

const SG = { country: 'SG', org: 'Xiaomi (simulated)' };
const US = { country: 'US', org: 'Google LLC (simulated)' };
const CN = { country: 'CN', org: 'unlisted collector (simulated)' };

function night(runId: string, extra: Flow[] = [], leaks: Leak[] = [], scale = 1): RunSummary {
  const flows = [
    flow('resolver.msg.global.xiaomi.net', '10.213.150.1', 2000 * scale, 3000 * scale, SG),
    flow('api.ad.intl.xiaomi.com', '10.213.151.2', 900, 6000, SG),
    flow('connectivitycheck.gstatic.com', '10.213.161.3', 300, 400, US),
    flow('start-x.canary.phonehome.test', '10.213.130.4', 60, 60),
    ...extra,
  ];
  return summarizeRun({ flows }, leaks, {
    runId,
    scenario: 'idle',
    exclude: (h) => h.endsWith('.canary.phonehome.test'),
  });
}

describe('run summaries', () => {
  it('sums hosts with provenance, countries and organisations, leaving the canaries out', () => {
    const s = night('n1', [flow('resolver.msg.global.xiaomi.net', '10.213.150.1', 100, 200, SG)]);
    assert.deepEqual(Object.keys(s.hosts), [
      'api.ad.intl.xiaomi.com',
      'connectivitycheck.gstatic.com',
      'resolver.msg.global.xiaomi.net',
    ]);
    assert.deepEqual(s.hosts['resolver.msg.global.xiaomi.net'], {
      provenance: ['sni'],
      countries: ['SG'],
      orgs: ['Xiaomi (simulated)'],
      connections: 2,
      bytesUp: 2100,
      bytesDown: 3200,
    });
    assert.deepEqual(s.countries, ['SG', 'US']);
    assert.equal(s.formatVersion, 1);
  });

  it('names leaks by kind and host', () => {
    const f = flow('data.mistat.intl.xiaomi.com', '10.213.152.5', 1800, 200, SG);
    const leak = {
      kind: 'imei',
      flow: f.uid,
      masked: '868…567',
      fingerprint: 'x',
      place: 'URL query imei',
      encoding: 'plain',
      firstSeen: 1,
      count: 1,
    } as Leak;
    const s = night('n1', [f], [leak, { ...leak }]);
    assert.deepEqual(s.leaks, ['imei → data.mistat.intl.xiaomi.com']);
  });
});

describe('drift', () => {
  it('finds nothing between two alike nights, and nothing without a baseline', () => {
    assert.deepEqual(drift([night('n1')], night('n2')), []);
    assert.deepEqual(drift([], night('n2')), []);
  });

  it('names a new host with its country and organisation, the new country and organisation', () => {
    const second = night('n2', [flow('beacon.unlisted-collector.net', '10.213.177.9', 1200, 2800, CN)]);
    const found = drift([night('n1')], second);
    assert.deepEqual(
      found.map((f) => [f.kind, f.subject]),
      [
        ['new-host', 'beacon.unlisted-collector.net'],
        ['new-country', 'CN'],
        ['new-org', 'unlisted collector (simulated)'],
      ],
    );
    assert.match(
      found[0]!.detail,
      /^first seen: 1 connection, 1\.2 kB up, 2\.8 kB down, CN, unlisted collector/,
    );
    assert.equal(found[1]!.detail, 'first seen, for beacon.unlisted-collector.net');
  });

  it('names a new identifier leak and a host every earlier night had that is gone', () => {
    const f = flow('data.mistat.intl.xiaomi.com', '10.213.152.5', 1800, 200, SG);
    const leak = {
      kind: 'imei',
      flow: f.uid,
      masked: '868…567',
      fingerprint: 'x',
      place: 'p',
      encoding: 'plain',
      firstSeen: 1,
      count: 1,
    } as Leak;
    const base = [night('n1', [f]), night('n2', [f])];
    const withLeak = night('n3', [f], [leak]);
    assert.deepEqual(
      drift(base, withLeak).map((x) => [x.kind, x.subject]),
      [['new-leak', 'imei → data.mistat.intl.xiaomi.com']],
    );
    const gone = night('n3');
    assert.deepEqual(
      drift(base, gone).map((x) => [x.kind, x.subject, x.detail]),
      [['gone-host', 'data.mistat.intl.xiaomi.com', 'not contacted; every one of the 2 earlier runs did']],
    );
    // A host only some earlier nights had is not missed.
    assert.deepEqual(drift([night('n1', [f]), night('n2')], gone), []);
  });

  it('flags volume only outside the earlier nights’ widened range, and only when it is a real amount', () => {
    const base = [night('n1', [], [], 1), night('n2', [], [], 2)];
    // 5000–10000 bytes before; 2.5× the top is inside the widened range.
    assert.deepEqual(drift(base, night('n3', [], [], 2.5)), []);
    const tenfold = drift(base, night('n3', [], [], 10));
    assert.deepEqual(
      tenfold.map((x) => [x.kind, x.subject]),
      [['volume', 'resolver.msg.global.xiaomi.net']],
    );
    assert.match(tenfold[0]!.detail, /^50 kB \(the earlier runs: 5\.0 kB–10 kB\)$/);
    // Tiny hosts never count, however many times they grow.
    const small = [night('n1'), night('n2')];
    small[0]!.hosts['connectivitycheck.gstatic.com']!.bytesUp = 1;
    assert.deepEqual(drift(small, night('n3')), []);
  });
});

describe('drift in a run', () => {
  it('names the step during which a new host was first contacted, and its country', () => {
    const base = night('n1');
    const flows = [
      flow('resolver.msg.global.xiaomi.net', '10.213.150.1', 2000, 3000, SG),
      flow('beacon.unlisted-collector.net', '10.213.190.9', 700, 100, CN),
    ];
    const second = flows[1]!.tsStart;
    const steps = (ts: number) => (ts < second ? 'join Wi-Fi' : 'open the theme store');
    const tonight = summarizeRun({ flows }, [], { runId: 'n2', scenario: 'idle', stepAt: steps });
    assert.equal(tonight.hosts['beacon.unlisted-collector.net']?.firstStep, 'open the theme store');
    assert.equal(tonight.hosts['resolver.msg.global.xiaomi.net']?.firstStep, 'join Wi-Fi');
    const found = drift([base], tonight).find((f) => f.kind === 'new-host');
    assert.deepEqual(found, {
      kind: 'new-host',
      subject: 'beacon.unlisted-collector.net',
      detail:
        'first seen during step "open the theme store": 1 connection, 700 B up, 100 B down, CN, unlisted collector (simulated)',
      step: 'open the theme store',
      countries: ['CN'],
    });
  });

  it('says why nothing was compared: policy off, no history, no accepted run but itself', () => {
    const tonight = night('n2');
    const file = 'history/xiaomi/idle.json';
    assert.deepEqual(driftSection('off', { file, label: 'x › idle', runs: [night('n1')] }, tonight), {
      policy: 'off',
      note: 'not looked for: the allowlist says drift: off',
      findings: [],
    });
    assert.match(driftSection('warn', undefined, tonight).note ?? '', /no history folder/);
    const self = driftSection('warn', { file, label: 'xiaomi › idle', runs: [tonight] }, tonight);
    assert.match(self.note ?? '', /^no baseline for xiaomi › idle yet \(history\/xiaomi\/idle\.json\)/);
    assert.equal(self.findings.length, 0);
    const changed = night('n3', [flow('new.example', '10.213.199.1', 5, 5)]);
    const d = driftSection('fail', { file, label: 'xiaomi › idle', runs: [night('n1'), tonight] }, changed);
    assert.deepEqual(d.baseline, { file, runs: ['n1', 'n2'] });
    assert.deepEqual(
      d.findings.map((f) => findingLine(f)),
      ['new-host new.example: first seen: 1 connection, 5 B up, 5 B down'],
    );
  });
});

describe('hosts without a name', () => {
  it('a special-purpose responder counts under its kind and service, a public one under its address', () => {
    const dns = { ...flow(undefined, '10.213.74.2', 60, 120), proto: 'udp', service: 'dns' } as Flow;
    dns.resp.port = 53;
    const dnsOtherNight = { ...dns, uid: 'other', resp: { ...dns.resp, addr: '10.213.67.2' } } as Flow;
    const mdns = { ...flow(undefined, '224.0.0.251', 40, 0), proto: 'udp' } as Flow;
    mdns.resp.port = 5353;
    const bare = flow(undefined, '203.0.113.9', 10, 10);
    const global = flow(undefined, '8.8.4.4', 10, 10);
    const s = summarizeRun({ flows: [dns, mdns, bare, global] }, [], { runId: 'n', scenario: 'idle' });
    assert.deepEqual(Object.keys(s.hosts), [
      '8.8.4.4',
      'documentation address, tcp/443',
      'multicast address, udp/5353',
      'private address, dns/53',
    ]);
    const t = summarizeRun({ flows: [dnsOtherNight, mdns, global] }, [], { runId: 'm', scenario: 'idle' });
    // The lab's resolver moved to another address: no news. The documentation address is gone.
    assert.deepEqual(
      drift([s], t).map((f) => `${f.kind} ${f.subject}`),
      ['gone-host documentation address, tcp/443'],
    );
  });
});
