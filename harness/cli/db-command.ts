/**
 * `phonehome db`: the offline location databases, their versions, build dates and ages, licences and
 * the attribution each requires; a warning for each one older than the lab allows; `--check` reads
 * every file through once (the ASN table's order, each MMDB's tree on known addresses).
 */
import { UsageError } from '../errors.js';
import type { Command } from './commander.js';

interface DbCliOptions {
  json?: boolean;
  check?: boolean;
  maxAgeDays?: string;
  /** A config file, or false for --no-config. */
  config?: string | false;
}

/** One database as listed. */
export interface DbRow {
  name: string;
  role: string;
  package: string;
  version: string;
  builtAt: string;
  /** Whole days since it was built ("unknown" build dates give undefined). */
  ageDays?: number;
  licence: string;
  attribution: string;
  /** Bytes of its files on disk. */
  bytes: number;
  /** Why it cannot be used, when it cannot. */
  problem?: string;
  /** What --check found, when asked. */
  check?: string;
}

/** Default for geo.maxAgeDays: address blocks move between countries and networks slowly, but they move. */
export const DEFAULT_MAX_AGE_DAYS = 180;

export function register(program: Command): void {
  program
    .command('db')
    .summary('list the offline location databases, their versions and ages')
    .description(
      'List the location databases phonehome reads (country, city, AS), with version, build date, age, ' +
        'licence and the attribution each requires, and warn about any older than --max-age-days ' +
        '(config geo.maxAgeDays, default 180).\n' +
        'Exit status: 0 all usable, 1 a database is missing or unreadable (run make setup), 2 bad usage.',
    )
    .option('--json', 'print JSON instead of a table')
    .option(
      '--check',
      'read every file through once: the ASN tables sorted, each database answering known addresses',
    )
    .option('--max-age-days <days>', 'warn about databases built longer ago than this')
    .option('--config <file>', 'phonehome config file (default: phonehome.config.* in this folder)')
    .option('--no-config', 'ignore any config file')
    .action(async (o: DbCliOptions) => {
      process.exitCode = await dbAction(o);
    });
}

async function dbAction(o: DbCliOptions): Promise<number> {
  let maxAge = DEFAULT_MAX_AGE_DAYS;
  if (o.config !== false) {
    const { loadConfig } = await import('../config/load-config.js');
    const { config } = await loadConfig(typeof o.config === 'string' ? o.config : undefined);
    if (config.geo?.maxAgeDays !== undefined) maxAge = config.geo.maxAgeDays;
  }
  if (o.maxAgeDays !== undefined) {
    const n = Number(o.maxAgeDays);
    if (!Number.isInteger(n) || n < 1)
      throw new UsageError(`--max-age-days: not a whole number of days ≥ 1: ${o.maxAgeDays}`);
    maxAge = n;
  }
  const rows = await listDatabases(o.check === true);
  const now = Date.now();
  const warnings: string[] = [];
  for (const r of rows) {
    if (r.problem) warnings.push(`${r.name}: ${r.problem}`);
    else if (r.ageDays !== undefined && r.ageDays > maxAge)
      warnings.push(
        `${r.name} was built ${r.ageDays} days ago (${r.builtAt.slice(0, 10)}), more than ${maxAge}: update ${r.package} (npm update, then make setup)`,
      );
    else if (r.ageDays === undefined) warnings.push(`${r.name}: its build date is unknown`);
  }
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ formatVersion: 1, checkedAt: new Date(now).toISOString(), maxAgeDays: maxAge, databases: rows, warnings }, null, 2)}\n`,
    );
  } else {
    const { columns } = await import('../format/analyze-table.js');
    const { terminalSafe } = await import('../format/terminal-text.js');
    const table = [
      ['NAME', 'GIVES', 'VERSION', 'BUILT', 'AGE', 'SIZE', 'LICENCE', ...(o.check ? ['CHECK'] : [])],
      ...rows.map((r) => [
        r.name,
        r.role,
        r.problem ? 'missing' : r.version,
        r.problem ? '-' : r.builtAt.slice(0, 10),
        r.ageDays === undefined ? '-' : `${r.ageDays} d`,
        r.bytes ? `${(r.bytes / 1e6).toFixed(1)} MB` : '-',
        r.licence,
        ...(o.check ? [terminalSafe(r.check ?? r.problem ?? '')] : []),
      ]),
    ];
    const lines = columns(table);
    const credits = [...new Set(rows.map((r) => r.attribution).filter((a) => a !== ''))];
    process.stdout.write(`${lines.join('\n')}\n\n${credits.map((c) => `${c}\n`).join('')}`);
    for (const w of warnings) process.stderr.write(`phonehome: warning: ${terminalSafe(w)}\n`);
  }
  return rows.some((r) => r.problem) ? 1 : 0;
}

/** Every database phonehome knows, installed or not, with what --check found when asked. */
export async function listDatabases(check: boolean): Promise<DbRow[]> {
  const { statSync } = await import('node:fs');
  const { join, dirname } = await import('node:path');
  const { createRequire } = await import('node:module');
  const { DATABASES, GeoDatabases } = await import('../geo/databases.js');
  const { RangeCsv } = await import('../geo/range-csv.js');
  const { parseIp } = await import('../packets/ip-text.js');
  const require = createRequire(import.meta.url);
  const dbs = GeoDatabases.openInstalled();
  try {
    const now = Date.now();
    return DATABASES.map((spec): DbRow => {
      const info = dbs.databases.find((d) => d.name === spec.name);
      const problem = dbs.problems.find((p) => p.name === spec.name)?.problem;
      let bytes = 0;
      let dir: string | undefined;
      try {
        dir = dirname(require.resolve(`${spec.package}/package.json`));
        for (const f of new Set([spec.files.v4, spec.files.v6])) bytes += statSync(join(dir, f)).size;
      } catch {
        // not installed: the problem says so
      }
      const built = info ? Date.parse(info.builtAt) : Number.NaN;
      const row: DbRow = {
        name: spec.name,
        role: spec.role,
        package: spec.package,
        version: info?.version ?? '',
        builtAt: info?.builtAt ?? '',
        ...(Number.isFinite(built) ? { ageDays: Math.floor((now - built) / 86_400_000) } : {}),
        licence: spec.licence,
        attribution: spec.attribution,
        bytes,
        ...(problem ? { problem } : {}),
      };
      if (check && info && dir) {
        try {
          if (spec.format === 'csv') {
            const counts = [spec.files.v4, spec.files.v6].map((f) => {
              const t = new RangeCsv(join(dir!, f));
              try {
                return t.check();
              } finally {
                t.close();
              }
            });
            const overlaps = counts[0]!.overlaps + counts[1]!.overlaps;
            row.check = `${counts[0]!.rows} IPv4 and ${counts[1]!.rows} IPv6 ranges in order${overlaps ? ` (${overlaps} overlapping the one before: the later answers)` : ''}`;
          } else {
            row.check = 'ok';
          }
          // Every database answers for Google's public resolver: a file that cannot is damaged.
          const a = dbs.lookup(parseIp('8.8.8.8')!);
          const answered =
            spec.role === 'asn'
              ? a.asn !== undefined
              : spec.role === 'city'
                ? a.city !== undefined
                : a.countries.some((c) => c.db === spec.name && c.country !== null);
          if (!answered) row.check = 'no answer for 8.8.8.8: the file looks damaged';
        } catch (err) {
          row.check = `unreadable: ${(err as Error).message}`;
          row.problem = row.check;
        }
      }
      return row;
    });
  } finally {
    dbs.close();
  }
}
