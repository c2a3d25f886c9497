/**
 * Consent twins: the same steps run twice on one phone, one consent toggled (backup-enabled and
 * backup-disabled). Side by side: per host, the connections and bytes with the consent on and off,
 * and what only the consent-on run has (hosts, countries, organisations, identifier leaks). Pure.
 */
import type { RunSummary } from './summary.js';

export const TWIN_FORMAT_VERSION = 1;

/** One host of the pair. */
export interface TwinRow {
  host: string;
  on?: { connections: number; bytesUp: number; bytesDown: number };
  off?: { connections: number; bytesUp: number; bytesDown: number };
}

/** The pair, as twin.json keeps it (in the folder of whichever run came second). */
export interface TwinComparison {
  formatVersion: typeof TWIN_FORMAT_VERSION;
  /** The consent the twins differ in ("cloud backup"). */
  consent: string;
  on: { scenario: string; runId: string; dir: string };
  off: { scenario: string; runId: string; dir: string };
  /** Hosts either run contacted: the consent-on run's only ones first, then by bytes with consent on. */
  rows: TwinRow[];
  onlyOn: { hosts: string[]; countries: string[]; orgs: string[]; leaks: string[] };
  onlyOff: { hosts: string[] };
}

const minus = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x));

/** The comparison of a consent-on run with its consent-off twin. */
export function compareTwins(
  consent: string,
  on: RunSummary & { dir: string },
  off: RunSummary & { dir: string },
): TwinComparison {
  const hosts = [...new Set([...Object.keys(on.hosts), ...Object.keys(off.hosts)])];
  const pick = (h: RunSummary['hosts'][string] | undefined) =>
    h ? { connections: h.connections, bytesUp: h.bytesUp, bytesDown: h.bytesDown } : undefined;
  const rows: TwinRow[] = hosts.map((host) => {
    const a = pick(on.hosts[host]);
    const b = pick(off.hosts[host]);
    return { host, ...(a ? { on: a } : {}), ...(b ? { off: b } : {}) };
  });
  const bytes = (r: TwinRow) => (r.on ? r.on.bytesUp + r.on.bytesDown : 0);
  rows.sort(
    (x, y) =>
      Number(x.off !== undefined) - Number(y.off !== undefined) ||
      bytes(y) - bytes(x) ||
      x.host.localeCompare(y.host),
  );
  const onHosts = Object.keys(on.hosts);
  const offHosts = Object.keys(off.hosts);
  return {
    formatVersion: TWIN_FORMAT_VERSION,
    consent,
    on: { scenario: on.scenario, runId: on.runId, dir: on.dir },
    off: { scenario: off.scenario, runId: off.runId, dir: off.dir },
    rows,
    onlyOn: {
      hosts: minus(onHosts, offHosts).sort(),
      countries: minus(on.countries, off.countries),
      orgs: minus(on.orgs, off.orgs),
      leaks: minus(on.leaks, off.leaks),
    },
    onlyOff: { hosts: minus(offHosts, onHosts).sort() },
  };
}
