/**
 * The farm file (devices/farm.yaml): the lab hosts of a device farm, each a GitHub Actions
 * self-hosted runner with its own label, the interface of its access point and the phones on it.
 * The nightly workflow turns it into a matrix, one job per host (`farmMatrix`). Pure: the caller
 * reads the file.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { parseYamlConfig } from './yaml-config.js';

/** The runner labels every farm job asks for besides the host's own. */
export const FARM_RUNNER_LABELS = ['self-hosted', 'phonehome'] as const;

// Values end up on a workflow's command line: each is held to characters no shell treats specially.
const hostName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,38}$/, 'a short name: lower-case letters, digits and hyphens (at most 39)');
const runnerLabel = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, 'a runner label: letters, digits, ".", "_" and "-"');
const iface = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,14}$/, 'an interface name: at most 15 letters, digits, ".", "_", "-"');
const serial = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'an adb serial: letters, digits, ".", "_", ":" and "-"');
const profileName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'a device profile name such as xiaomi-miui-global');
const adbHost = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$/, 'a host name or address');
const port = z.number().int().min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535');

const phoneSchema = z
  .strictObject({
    /** The phone's adb serial. */
    serial: serial.optional(),
    /** Its device profile: alone, every attached phone matching it. */
    profile: profileName.optional(),
    /** Free text for people (which phone on the shelf). */
    note: z.string().optional(),
  })
  .refine((p) => p.serial !== undefined || p.profile !== undefined, {
    message: 'a phone needs its serial, its profile, or both',
  });

const hostSchema = z
  .strictObject({
    /** The host's name in the merged report and in artifact names. */
    name: hostName,
    /** The label its runner was registered with (default: the name). */
    runnerLabel: runnerLabel.optional(),
    /** How it captures: tcpdump or cap on its access point, or pcapdroid on the phones. */
    capture: z.enum(['tcpdump', 'cap', 'pcapdroid']).default('tcpdump'),
    /** The interface of its access point (tcpdump and cap). */
    captureInterface: iface.optional(),
    /**
     * Bytes kept of each packet (tcpdump and cap; default 0, whole packets). 1518 where the access
     * point passes wire-sized packets (no GRO) keeps four phones lossless at 1 Gbit/s (BENCHMARKS.md).
     */
    snaplen: z.number().int().min(0).max(262144, 'at most 262144 (0: whole packets)').optional(),
    /** Its adb server, when not the local one on 127.0.0.1:5037. */
    adb: z.strictObject({ host: adbHost.default('127.0.0.1'), port: port.default(5037) }).optional(),
    /** The phones expected on it. */
    phones: z.array(phoneSchema).min(1, 'at least one phone'),
  })
  .refine((h) => h.capture === 'pcapdroid' || h.captureInterface !== undefined, {
    message:
      'captureInterface: the access point interface tcpdump or cap captures on (or capture: pcapdroid)',
  });

const farmSchema = z.strictObject({
  formatVersion: z.literal(1, { error: 'expected formatVersion: 1' }),
  /** Free text for people. */
  description: z.string().optional(),
  hosts: z.array(hostSchema).min(1, 'at least one host'),
});

/** A lab host of the farm, as read. */
export type FarmHost = z.output<typeof hostSchema>;

/** The farm file, read and checked. */
export interface Farm {
  file: string;
  hosts: FarmHost[];
  /** What is allowed but unsafe or odd, in words: e.g. an adb server on the network. */
  warnings: string[];
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)$/i;

/**
 * The warning for an adb server reached over the network (undefined for one on loopback): it has no
 * authentication and gives full control of every phone on it; phonehome never opens one itself.
 */
export function remoteAdbWarning(host: string, port: number): string | undefined {
  if (LOOPBACK.test(host)) return undefined;
  return (
    `the adb server ${host}:${port} is not on loopback. An adb server on the network has no ` +
    'authentication and gives full control of every phone on it; phonehome never opens one itself. ' +
    "Reach the lab host's loopback server through an SSH tunnel instead (README: A device farm)."
  );
}

/**
 * Reads a farm file's text. Throws a ConfigError at file:line:column naming the field for anything
 * wrong, including names, runner labels or serials given twice.
 */
export function parseFarmFile(text: string, file: string): Farm {
  const { data, where } = parseYamlConfig(
    text,
    file,
    farmSchema,
    'expected a mapping with formatVersion and hosts',
  );
  const twice = (what: string, values: (string | undefined)[], field: string) => {
    const seen = new Map<string, number>();
    values.forEach((v, i) => {
      if (v === undefined) return;
      const first = seen.get(v);
      if (first !== undefined) {
        const at = where(['hosts', i, field]);
        throw new ConfigError(
          file,
          at.line,
          at.column,
          `hosts[${i}].${field}`,
          `${what} "${v}" is also hosts[${first}]'s: each host needs its own`,
        );
      }
      seen.set(v, i);
    });
  };
  twice(
    'the name',
    data.hosts.map((h) => h.name),
    'name',
  );
  twice(
    'the runner label',
    data.hosts.map((h) => h.runnerLabel ?? h.name),
    'runnerLabel',
  );
  // A phone is on one host: two jobs driving it at once is what the farm must never do.
  const owner = new Map<string, string>();
  for (const [i, h] of data.hosts.entries())
    for (const [j, p] of h.phones.entries()) {
      if (p.serial === undefined) continue;
      const other = owner.get(p.serial);
      if (other !== undefined) {
        const at = where(['hosts', i, 'phones', j, 'serial']);
        throw new ConfigError(
          file,
          at.line,
          at.column,
          `hosts[${i}].phones[${j}].serial`,
          `phone ${p.serial} is also listed on ${other}: a phone is attached to one host`,
        );
      }
      owner.set(p.serial, h.name);
    }
  // `phonehome run` chooses phones one way: by serial (--device) or by profile (--profile).
  data.hosts.forEach((h, i) => {
    const bySerial = h.phones.filter((p) => p.serial !== undefined).length;
    if (bySerial > 0 && bySerial < h.phones.length) {
      const j = h.phones.findIndex((p) => p.serial === undefined);
      const at = where(['hosts', i, 'phones', j]);
      throw new ConfigError(
        file,
        at.line,
        at.column,
        `hosts[${i}].phones[${j}]`,
        `${h.name} lists other phones by serial: give this one its serial too (a host's phones are chosen by serial or all by profile)`,
      );
    }
  });
  const warnings: string[] = [];
  for (const h of data.hosts) {
    const remote = h.adb && remoteAdbWarning(h.adb.host, h.adb.port);
    if (remote) warnings.push(`${h.name}: ${remote}`);
  }
  return { file, hosts: data.hosts, warnings };
}

/** One job of the nightly matrix: what its runner and its `phonehome run` need. */
export interface FarmJob {
  /** The host's name (artifact names, the report's host label). */
  host: string;
  /** The labels of the runner it must run on. */
  runsOn: string[];
  /** `phonehome run`'s phone selection: --device SERIAL… or --profile NAME…, as words. */
  phoneArgs: string[];
  capture: 'tcpdump' | 'cap' | 'pcapdroid';
  /** Empty for pcapdroid. */
  captureInterface: string;
  /** `--snaplen`: 0 for whole packets. */
  snaplen: number;
  adbHost: string;
  adbPort: number;
}

/** The GitHub Actions matrix for the farm: `{ include: [job per host] }`, in the file's order. */
export function farmMatrix(farm: Farm): { include: FarmJob[] } {
  return {
    include: farm.hosts.map((h) => {
      const serials = h.phones.flatMap((p) => (p.serial !== undefined ? [p.serial] : []));
      // Phones given by profile alone: every attached phone of those profiles.
      const profiles = [...new Set(h.phones.flatMap((p) => (p.profile ? [p.profile] : [])))];
      return {
        host: h.name,
        runsOn: [...FARM_RUNNER_LABELS, h.runnerLabel ?? h.name],
        phoneArgs: serials.length ? ['--device', ...serials] : ['--profile', ...profiles],
        capture: h.capture,
        captureInterface: h.captureInterface ?? '',
        snaplen: h.snaplen ?? 0,
        adbHost: h.adb?.host ?? '127.0.0.1',
        adbPort: h.adb?.port ?? 5037,
      };
    }),
  };
}
