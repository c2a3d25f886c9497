/**
 * Where a run's traffic went: connections and bytes each way per country and per organisation, with
 * the hosts under each, and the databases (with the attribution their licences ask for) that said
 * so. Pure: an analysis (flows.json) in, tables and a chart's data out.
 */
import type { Analysis } from '../analyze.js';
import type { Flow } from '../flows/flow.js';
import { mainSubject } from '../format/analyze-table.js';
import type { HtmlTable } from './html-page.js';

/** One country's or organisation's totals. */
export interface PlaceRow {
  /** "SG", "CN", "private (RFC 1918)", "unknown"; or the organisation's name. */
  place: string;
  connections: number;
  bytesUp: number;
  bytesDown: number;
  /** Host names (or addresses) under it, most bytes first. Untrusted text from the wire. */
  hosts: string[];
  /** True when an override (the lab's own answer) decided for some of its flows. */
  override: boolean;
  /** True when the country sources disagree for some of its flows. */
  disagree: boolean;
  /** Cities the city database gives for its flows' addresses ("Beijing (Beijing), CN"). */
  cities: string[];
}

/** The host a flow is listed under, as in the analyze table (a DNS flow under its resolver). */
function hostOf(f: Flow): string {
  return mainSubject(f).subject;
}

/** The country a row is filed under. */
export function countryKey(f: Flow): string {
  const g = f.resp.geo;
  if (!g) return 'unknown';
  if (g.country) return g.country;
  if (g.override) return 'none (lab override)';
  if (g.special) return g.special;
  return 'unknown';
}

function orgKey(f: Flow): string {
  const g = f.resp.geo;
  if (g?.org) return g.org;
  if (g?.override) return 'none (lab override)';
  if (g?.special) return `(${g.special} network)`;
  return 'unknown';
}

function group(flows: readonly Flow[], key: (f: Flow) => string): PlaceRow[] {
  const rows = new Map<string, PlaceRow & { byHost: Map<string, number> }>();
  for (const f of flows) {
    const k = key(f);
    let r = rows.get(k);
    if (!r) {
      r = {
        place: k,
        connections: 0,
        bytesUp: 0,
        bytesDown: 0,
        hosts: [],
        override: false,
        disagree: false,
        cities: [],
        byHost: new Map(),
      };
      rows.set(k, r);
    }
    r.connections += 1;
    r.bytesUp += f.origBytes;
    r.bytesDown += f.respBytes;
    const h = hostOf(f);
    r.byHost.set(h, (r.byHost.get(h) ?? 0) + f.origBytes + f.respBytes);
    if (f.resp.geo?.override) r.override = true;
    if (f.resp.geo?.disagree) r.disagree = true;
    const city = f.resp.geo?.city;
    if (city) {
      const text = city.region
        ? `${city.name} (${city.region}), ${city.country}`
        : `${city.name}, ${city.country}`;
      if (!r.cities.includes(text)) r.cities.push(text);
    }
  }
  return [...rows.values()]
    .map(({ byHost, ...r }) => ({
      ...r,
      hosts: [...byHost].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([h]) => h),
    }))
    .sort(
      (a, b) =>
        b.bytesUp + b.bytesDown - (a.bytesUp + a.bytesDown) ||
        (a.place < b.place ? -1 : a.place > b.place ? 1 : 0),
    );
}

/** Totals per country and per organisation. */
export function whereItWent(flows: readonly Flow[]): { countries: PlaceRow[]; orgs: PlaceRow[] } {
  return { countries: group(flows, countryKey), orgs: group(flows, orgKey) };
}

/** Most hosts listed in a cell before "… and N more". */
const HOSTS_SHOWN = 8;

function hostsCell(hosts: string[]): string {
  const shown = hosts.slice(0, HOSTS_SHOWN).join(', ');
  return hosts.length > HOSTS_SHOWN ? `${shown} … and ${hosts.length - HOSTS_SHOWN} more` : shown;
}

function notes(r: PlaceRow): string {
  return [r.override ? 'lab override' : '', r.disagree ? 'sources disagree' : ''].filter(Boolean).join('; ');
}

/** The "where it went" tables: per country, per organisation, and the sources. */
export function whereTables(analysis: Analysis): HtmlTable[] {
  const { countries, orgs } = whereItWent(analysis.flows);
  const head = ['connections', 'bytes up', 'bytes down', 'hosts', 'notes'];
  const geo = analysis.geo;
  return [
    {
      caption: 'Where it went: by country',
      head: ['country', 'cities (DB-IP)', ...head],
      rows: countries.map((r) => [
        r.place,
        r.cities.join('; '),
        r.connections,
        r.bytesUp,
        r.bytesDown,
        hostsCell(r.hosts),
        notes(r),
      ]),
      empty: 'no flows in the capture',
    },
    {
      caption: 'Where it went: by organisation',
      head: ['organisation', ...head],
      rows: orgs.map((r) => [r.place, r.connections, r.bytesUp, r.bytesDown, hostsCell(r.hosts), notes(r)]),
      empty: 'no flows in the capture',
    },
    {
      caption: 'Sources',
      head: ['database', 'version', 'built', 'licence', 'attribution'],
      rows: [
        ...(geo?.databases ?? []).map((d) => [
          `${d.name} (${d.role})`,
          d.version,
          d.builtAt.slice(0, 10),
          d.licence,
          d.attribution || 'none required',
        ]),
        ...(geo?.problems ?? []).map((p) => [`${p.name}`, 'not used', '', '', p.problem]),
        ...(geo && geo.overrides > 0
          ? [[`${geo.overrides} lab overrides`, '', '', '', 'the lab’s own answers win over the databases']]
          : []),
      ],
      empty: 'the flows were not located (no location lookups in this run)',
    },
  ];
}
