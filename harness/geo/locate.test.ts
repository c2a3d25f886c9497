import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../errors.js';
import type { Flow } from '../flows/flow.js';
import { GeoDatabases } from './databases.js';
import { Locator } from './locate.js';
import { addOverrideFile } from './override-file.js';
import { OverrideTable } from './overrides.js';
import { type Owner, PartyLabeller } from './parties.js';

/** As the Xiaomi device profile gives its maker. */
const xiaomi: Owner = { name: 'Xiaomi', domains: ['xiaomi.com', 'xiaomi.net', 'miui.com'], asns: [63855] };

function flow(addr: string, names: string[] = [], extra: Partial<Flow> = {}): Flow {
  return {
    uid: `C${addr}`,
    proto: 'tcp',
    orig: { addr: '10.0.0.5', port: 40000 },
    resp: { addr, port: 443 },
    tsStart: 1,
    tsEnd: 2,
    origBytes: 100,
    respBytes: 200,
    origPkts: 1,
    respPkts: 1,
    names: names.map((name) => ({ name, source: 'sni' as const })),
    ...extra,
  } as Flow;
}

describe('Locator with the shipped databases', () => {
  const dbs = GeoDatabases.openInstalled();
  after(() => dbs.close());

  function locate(flows: Flow[], overrides = new OverrideTable(), maker = xiaomi) {
    return new Locator(dbs, overrides, new PartyLabeller(maker)).locate(flows);
  }

  it('gives country, AS, organisation, city and the sources for a public address', () => {
    const f = flow('8.8.8.8', ['dns.google']);
    const summary = locate([f]);
    const g = f.resp.geo!;
    assert.equal(g.country, 'US');
    assert.equal(g.asn, 15169);
    assert.equal(g.org, 'Google LLC');
    assert.equal(g.city?.country, 'US');
    assert.deepEqual(
      g.countries!.map((c) => c.db),
      ['geo-whois-asn-country', 'iptoasn-country'],
    );
    assert.equal(g.disagree, undefined);
    assert.equal(g.party, 'platform');
    assert.match(g.partyWhy, /AS15169/);
    assert.equal(summary.databases.length, 4);
    assert.deepEqual(summary.warnings, []);
  });

  it('keeps mainland China apart from Hong Kong', () => {
    const cn = flow('223.5.5.5');
    const hk = flow('202.181.1.1');
    locate([cn, hk]);
    assert.equal(cn.resp.geo?.country, 'CN');
    assert.equal(hk.resp.geo?.country, 'HK');
  });

  it('flags a disagreement between the country sources and shows both answers', () => {
    const f = flow('114.114.114.114');
    const summary = locate([f]);
    const g = f.resp.geo!;
    assert.equal(g.disagree, true);
    assert.equal(g.country, 'CN', 'the first source is the primary one');
    assert.deepEqual(
      g.countries!.map((c) => c.country),
      ['CN', 'US'],
    );
    assert.match(
      summary.warnings.join('\n'),
      /disagree about 114\.114\.114\.114: geo-whois-asn-country says CN, iptoasn-country says US/,
    );
  });

  it('names special addresses for what they are and asks no database about them', () => {
    for (const [addr, kind] of [
      ['192.168.1.1', 'private'],
      ['100.64.1.1', 'shared'],
      ['169.254.1.1', 'link-local'],
      ['127.0.0.1', 'loopback'],
      ['224.0.0.251', 'multicast'],
      ['192.0.2.1', 'documentation'],
      ['fe80::1', 'link-local'],
      ['fd00::1', 'unique-local'],
      ['ff02::fb', 'multicast'],
      ['2001:db8::1', 'documentation'],
      ['::ffff:10.1.2.3', 'private'],
    ] as const) {
      const f = flow(addr);
      locate([f]);
      const g = f.resp.geo!;
      assert.equal(g.special, kind, addr);
      assert.equal(g.country, undefined, addr);
      assert.equal(g.countries, undefined, addr);
      assert.equal(g.party, 'local', addr);
    }
  });

  it('looks up an IPv4-mapped or NAT64 address as the IPv4 address it carries', () => {
    const f = flow('64:ff9b::808:808');
    locate([f]);
    assert.equal(f.resp.geo?.country, 'US');
    assert.equal(f.resp.geo?.asn, 15169);
  });

  it('lets an override win over the databases and say so; the longest prefix decides', () => {
    const table = new OverrideTable();
    table.add(
      [
        { cidr: '8.8.0.0/16', country: 'DE', org: 'Lab VPN egress', note: 'our VPN leaves in Frankfurt' },
        { cidr: '8.8.8.0/24', country: 'NL', org: 'Lab VPN (NL)', note: 'the Amsterdam exit' },
        { cidr: '10.213.200.0/24', country: 'SG', org: 'Xiaomi (simulated)', asn: 63855, note: 'simulated' },
      ],
      (i) => ({ file: 'overrides.yaml', line: 3 + i * 2 }),
    );
    const a = flow('8.8.8.8');
    const b = flow('8.8.4.4');
    const c = flow('10.213.200.7', ['tracking.intl.miui.com']);
    locate([a, b, c], table);
    assert.equal(a.resp.geo?.country, 'NL');
    assert.deepEqual(a.resp.geo?.override, {
      cidr: '8.8.8.0/24',
      note: 'the Amsterdam exit',
      file: 'overrides.yaml',
      line: 5,
    });
    assert.equal(a.resp.geo?.org, 'Lab VPN (NL)');
    // The databases' answers are still shown beside the override's.
    assert.deepEqual(
      a.resp.geo?.countries?.map((x) => x.country),
      ['US', 'US'],
    );
    assert.equal(b.resp.geo?.country, 'DE');
    // A private address the lab says is elsewhere: the override's country, the block still named.
    assert.equal(c.resp.geo?.country, 'SG');
    assert.equal(c.resp.geo?.special, 'private');
    assert.equal(c.resp.geo?.asn, 63855);
    assert.equal(c.resp.geo?.party, 'first');
  });

  it('labels parties by name first, then network, with the reason', () => {
    const maker = flow('203.0.113.9', ['tracking.intl.miui.com']);
    const platform = flow('142.250.180.131', ['play.googleapis.com']);
    const support = flow('1.1.1.1', ['example.net']);
    const third = flow('146.112.255.155', ['www.internetbadguys.com']);
    const table = new OverrideTable();
    table.add([{ cidr: '203.0.113.0/24', country: 'SG', note: 'test' }], () => ({ file: 'x', line: 1 }));
    locate([maker, platform, support, third], table);
    assert.deepEqual(
      [maker, platform, support, third].map((f) => f.resp.geo?.party),
      ['first', 'platform', 'support', 'third'],
    );
    assert.match(maker.resp.geo!.partyWhy, /tracking\.intl\.miui\.com is under miui\.com, Xiaomi's domain/);
    assert.match(support.resp.geo!.partyWhy, /AS13335 is Cloudflare/);
    // Without a maker, the maker's host is not first party.
    const again = flow('203.0.113.9', ['tracking.intl.miui.com']);
    new Locator(dbs, table, new PartyLabeller()).locate([again]);
    assert.equal(again.resp.geo?.party, 'third');
  });
});

describe('Locator without databases', () => {
  it('says no database is installed, and still applies overrides and special ranges', () => {
    const table = new OverrideTable();
    table.add([{ cidr: '198.51.100.0/24', country: 'CN', note: 'test' }], () => ({ file: 'x', line: 1 }));
    const a = flow('8.8.8.8');
    const b = flow('198.51.100.1');
    const summary = new Locator(undefined, table, new PartyLabeller()).locate([a, b]);
    assert.equal(a.resp.geo?.country, undefined);
    assert.equal(b.resp.geo?.country, 'CN');
    assert.match(summary.warnings.join('\n'), /no location database is installed/);
  });
});

describe('override files', () => {
  it('names the file, line and field of a bad entry', () => {
    const t = new OverrideTable();
    assert.throws(
      () =>
        addOverrideFile(t, 'overrides:\n  - cidr: 10.0.0.0/8\n    country: China\n    note: x\n', 'lab.yaml'),
      (e: unknown) =>
        e instanceof ConfigError && /^lab\.yaml:3:14: overrides\[0\]\.country: a two-letter/.test(e.message),
    );
    assert.throws(
      () => addOverrideFile(t, 'overrides:\n  - cidr: 10.0.0.1/8\n    note: x\n', 'lab.yaml'),
      (e: unknown) => e instanceof ConfigError && /lab\.yaml:2:.*cidr/.test(e.message),
    );
    assert.throws(
      () => addOverrideFile(t, 'overrides:\n  - cidr: 10.0.0.0/8\n    country: SG\n', 'lab.yaml'),
      /every override needs a note/,
    );
    assert.equal(t.size, 0, 'nothing half-read is kept');
  });
});
