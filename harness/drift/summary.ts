/**
 * What a run did, reduced to what night-to-night comparison needs: the hosts it contacted (with how
 * their names were learnt, their countries and organisations, connections and bytes), the
 * countries and organisations overall, the identifier leaks (kind → host), and the apps. Plain,
 * versioned JSON. Pure: an analysis (flows.json) and its leaks in, a summary out.
 */
import type { Analysis } from '../analyze.js';
import type { Flow } from '../flows/flow.js';
import { specialRange } from '../geo/special-ranges.js';
import type { Leak } from '../identifiers/find-leaks.js';

export const SUMMARY_FORMAT_VERSION = 1;

/**
 * A run folder's baseline.json: the baseline's runs the run was compared with (`earlier`, oldest
 * first), and the run's own summary.
 */
export const BASELINE_COPY_FORMAT_VERSION = 1;

export interface BaselineCopy {
  formatVersion: typeof BASELINE_COPY_FORMAT_VERSION;
  /** The history file they came from. */
  file: string;
  earlier: RunSummary[];
  run: RunSummary;
}

/** One host's part of a run. */
export interface HostSummary {
  /** How its names were learnt (sni, dns, http-host …; address for an unnamed responder). */
  provenance: string[];
  countries: string[];
  orgs: string[];
  connections: number;
  bytesUp: number;
  bytesDown: number;
  /** The scenario step during which it was first contacted, when the run knew its steps. */
  firstStep?: string;
}

/** A run's summary. */
export interface RunSummary {
  formatVersion: typeof SUMMARY_FORMAT_VERSION;
  runId: string;
  scenario: string;
  /** The device profile, when the run knew it. */
  profile?: string;
  /** Start of the capture's first flow, seconds since the epoch. */
  started: number;
  /** By host name (or responder address for a flow with no name), sorted. Untrusted names. */
  hosts: Record<string, HostSummary>;
  countries: string[];
  orgs: string[];
  /** "imei → data.mistat.intl.xiaomi.com", one per identifier kind and host, sorted. */
  leaks: string[];
  /** Apps (PCAPdroid's attribution), sorted. */
  apps: string[];
}

/**
 * The host a flow counts under: its most direct name, else its responder address. DNS flows count
 * under their resolver. An unnamed responder in a special-purpose block (the lab's gateway and
 * resolver, multicast) counts under its kind and service, "private address, dns/53": such addresses
 * change with the lab's network from night to night, and are no news when they do.
 */
export function hostOf(f: Flow): { host: string; provenance: string } {
  const dns = f.service === 'dns' || f.names.some((n) => n.source === 'dns-query');
  const n = dns ? undefined : f.names.find((x) => x.source !== 'dns-query' && !x.invalid);
  if (n) return { host: n.name, provenance: n.source };
  let special: string | undefined;
  try {
    special = specialRange(f.resp.addr)?.kind;
  } catch {
    special = undefined;
  }
  return special
    ? { host: `${special} address, ${f.service ?? f.proto}/${f.resp.port}`, provenance: 'address' }
    : { host: f.resp.addr, provenance: 'address' };
}

function add(list: string[], x: string | undefined): void {
  if (x !== undefined && x !== '' && !list.includes(x)) list.push(x);
}

/**
 * The summary of a run. `exclude` drops the run's own canary names (they differ every night);
 * leaks are matched to hosts by their flow.
 */
export function summarizeRun(
  analysis: Pick<Analysis, 'flows'>,
  leaks: readonly Leak[],
  run: {
    runId: string;
    scenario: string;
    profile?: string;
    exclude?: (host: string) => boolean;
    /** The scenario step under way at a time (record/run-record.ts's stepAt over the run's steps). */
    stepAt?: (ts: number) => string;
  },
): RunSummary {
  const hosts = new Map<string, HostSummary>();
  const countries: string[] = [];
  const orgs: string[] = [];
  const apps: string[] = [];
  const hostByFlow = new Map<string, string>();
  const firstSeen = new Map<string, number>();
  let started = Number.POSITIVE_INFINITY;
  for (const f of analysis.flows) {
    const { host, provenance } = hostOf(f);
    if (run.exclude?.(host) || f.names.some((n) => run.exclude?.(n.name))) continue;
    hostByFlow.set(f.uid, host);
    started = Math.min(started, f.tsStart);
    let h = hosts.get(host);
    if (!h) {
      h = { provenance: [], countries: [], orgs: [], connections: 0, bytesUp: 0, bytesDown: 0 };
      hosts.set(host, h);
    }
    add(h.provenance, provenance);
    if (f.tsStart < (firstSeen.get(host) ?? Number.POSITIVE_INFINITY)) firstSeen.set(host, f.tsStart);
    const g = f.resp.geo;
    const country = g?.country ?? (g?.special ? g.special : undefined);
    add(h.countries, country);
    add(h.orgs, g?.org);
    add(countries, g?.country);
    add(orgs, g?.org);
    h.connections += 1;
    h.bytesUp += f.origBytes;
    h.bytesDown += f.respBytes;
    add(apps, f.app?.package ?? f.app?.name);
  }
  const leakKeys: string[] = [];
  for (const l of leaks) add(leakKeys, `${l.kind} → ${hostByFlow.get(l.flow) ?? 'unknown host'}`);
  const sortedHosts: Record<string, HostSummary> = {};
  for (const k of [...hosts.keys()].sort()) {
    const h = hosts.get(k)!;
    const step = run.stepAt ? run.stepAt(firstSeen.get(k)!) : undefined;
    sortedHosts[k] = {
      ...h,
      countries: h.countries.sort(),
      orgs: h.orgs.sort(),
      ...(step ? { firstStep: step } : {}),
    };
  }
  return {
    formatVersion: SUMMARY_FORMAT_VERSION,
    runId: run.runId,
    scenario: run.scenario,
    ...(run.profile ? { profile: run.profile } : {}),
    started: Number.isFinite(started) ? started : 0,
    hosts: sortedHosts,
    countries: countries.sort(),
    orgs: orgs.sort(),
    leaks: leakKeys.sort(),
    apps: apps.sort(),
  };
}
