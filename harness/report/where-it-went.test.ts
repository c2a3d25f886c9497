import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointGeo, Flow } from '../flows/flow.js';
import { htmlPage } from './html-page.js';
import { whereItWent } from './where-it-went.js';

let n = 0;
function flow(addr: string, name: string | undefined, up: number, down: number, geo?: EndpointGeo): Flow {
  n += 1;
  return {
    uid: `C${n}`,
    proto: 'tcp',
    orig: { addr: '10.213.1.10', port: 40000 + n },
    resp: { addr, port: 443, ...(geo ? { geo } : {}) },
    tsStart: n,
    tsEnd: n + 1,
    origBytes: up,
    respBytes: down,
    origPkts: 1,
    respPkts: 1,
    names: name ? [{ name, source: 'sni' }] : [],
  } as Flow;
}

const geo = (country: string | undefined, org: string, extra: Partial<EndpointGeo> = {}): EndpointGeo => ({
  ...(country ? { country } : {}),
  countries: [],
  org,
  party: 'third',
  partyWhy: 'x',
  ...extra,
});

test('totals per country and per organisation, with their hosts, most bytes first', () => {
  const flows = [
    flow(
      '10.213.144.5',
      'data.mistat.intl.xiaomi.com',
      1800,
      200,
      geo('SG', 'Xiaomi (simulated)', { override: { cidr: 'c', note: 'n', file: 'f', line: 1 } }),
    ),
    flow('10.213.144.6', 'tracking.intl.miui.com', 2400, 300, geo('SG', 'Xiaomi (simulated)')),
    flow('10.213.176.9', 't.unlisted-collector.net', 9000, 100, geo('CN', 'unlisted collector (simulated)')),
    flow(
      '192.168.1.1',
      undefined,
      60,
      60,
      geo(undefined, '', {
        special: 'private',
        org: undefined,
      }),
    ),
    flow('8.8.8.8', 'dns.google', 1, 1, {
      countries: [
        { db: 'a', country: 'CN' },
        { db: 'b', country: 'US' },
      ],
      country: 'CN',
      disagree: true,
      org: 'Google LLC',
      party: 'platform',
      partyWhy: 'x',
    }),
    flow('9.9.9.9', 'nowhere.example', 5, 5),
  ];
  const { countries, orgs } = whereItWent(flows);
  assert.deepEqual(
    countries.map((r) => [r.place, r.connections, r.bytesUp, r.bytesDown]),
    [
      ['CN', 2, 9001, 101],
      ['SG', 2, 4200, 500],
      ['private', 1, 60, 60],
      ['unknown', 1, 5, 5],
    ],
  );
  assert.deepEqual(countries[1]?.hosts, ['tracking.intl.miui.com', 'data.mistat.intl.xiaomi.com']);
  assert.equal(countries[1]?.override, true);
  assert.equal(countries[0]?.disagree, true);
  assert.deepEqual(
    orgs.map((r) => r.place),
    ['unlisted collector (simulated)', 'Xiaomi (simulated)', '(private network)', 'unknown', 'Google LLC'],
  );
});

test('notes under a page link only to http(s) URLs', () => {
  const page = htmlPage(
    't',
    [],
    [
      { text: 'IP Geolocation by DB-IP', href: 'https://db-ip.com' },
      { text: 'x', href: 'javascript:alert(1)' },
    ],
  );
  assert.match(page, /<a href="https:\/\/db-ip\.com">IP Geolocation by DB-IP<\/a>/);
  assert.doesNotMatch(page, /javascript:/);
});

test('the country rows name the cities the city database gives', () => {
  const beijing = geo('CN', 'China Unicom', {
    city: { name: 'Beijing', region: 'Beijing', country: 'CN', db: 'dbip-city' },
  });
  const { countries } = whereItWent([
    flow('123.125.1.1', 'x.example', 10, 10, beijing),
    flow('123.125.1.2', 'y.example', 10, 10, beijing),
  ]);
  assert.deepEqual(countries[0]?.cities, ['Beijing (Beijing), CN']);
});
