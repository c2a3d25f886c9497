/** `phonehome devices`: the phones attached, their facts, their profile, and whether they can run. */

import { UsageError } from '../errors.js';
import { bundledDevicesDir } from '../project-dir.js';
import type { Command } from './commander.js';

/** One row of the devices listing. */
export interface DeviceRow {
  /** The adb serial as phonehome shows it: masked when it is the phone's own serial (phoneLabel). */
  serial: string;
  state: string;
  manufacturer?: string;
  model?: string;
  android?: string;
  rom?: string;
  romVersion?: string;
  ip?: string;
  /** Global IPv6 addresses, when the phone has any. */
  ipv6?: string[];
  mac?: string;
  profile?: string;
  ready: boolean;
  /** Why the phone is not ready (empty when it is). */
  why: string;
}

/** Reads every phone the adb server lists: facts and matched profile for usable ones, advice for others. */
export async function listDeviceRows(opts: {
  adbHost: string;
  adbPort: number;
  devicesDir: string;
}): Promise<DeviceRow[]> {
  const { ensureAdbServer } = await import('../device/adb-server.js');
  const { discoverDevices } = await import('../device/discovery.js');
  const { readFacts } = await import('../device/facts.js');
  const { loadProfiles, matchProfile } = await import('../device/profiles.js');
  const client = await ensureAdbServer({
    host: opts.adbHost,
    port: opts.adbPort,
    bin: process.env.PHONEHOME_ADB ?? 'adb',
  });
  const profiles = await loadProfiles(opts.devicesDir);
  const found = await discoverDevices(client, { deadlineMs: 10_000 });
  const rows = await Promise.all(
    found.map(async (d): Promise<DeviceRow> => {
      if (!d.usable) return { serial: d.serial, state: d.state, ready: false, why: d.advice };
      try {
        const f = await readFacts(client.device(d.serial), { deadlineMs: 15_000 });
        const m = matchProfile(profiles, f.properties);
        return {
          serial: d.serial,
          state: d.state,
          manufacturer: f.manufacturer,
          model: f.model,
          android: f.androidVersion,
          rom: f.rom,
          romVersion: f.romVersion,
          ...(f.wifiIp ? { ip: f.wifiIp } : {}),
          ...(f.wifiIpv6 ? { ipv6: f.wifiIpv6 } : {}),
          ...(f.wifiMac ? { mac: f.wifiMac } : {}),
          ...(m.profile ? { profile: m.profile.name } : {}),
          ready: m.profile !== undefined,
          why: m.profile ? '' : m.reason,
        };
      } catch (err) {
        return {
          serial: d.serial,
          state: d.state,
          ready: false,
          why: `cannot read its facts: ${(err as Error).message}`,
        };
      }
    }),
  );
  // A USB phone's serial and its MAC are identifiers: shown masked (`phonehome run --device` takes
  // the label, or its fingerprint, as well as the serial).
  const { fingerprintKey, maskId, phoneLabel } = await import('../identifiers/mask.js');
  const key = fingerprintKey();
  return rows.map((r) => {
    const label = phoneLabel(r.serial, key);
    return {
      ...r,
      serial: label,
      ...(r.mac ? { mac: maskId(r.mac) } : {}),
      why: r.why.split(r.serial).join(label),
    };
  });
}

/** The table a person reads; every phone-supplied string made terminal-safe. */
export async function formatDeviceTable(rows: DeviceRow[]): Promise<string> {
  const { terminalSafeClipped } = await import('../format/terminal-text.js');
  const { columns } = await import('../format/analyze-table.js');
  if (rows.length === 0) return 'no phones attached (adb devices lists none)\n';
  const t = (s: string | undefined, n = 40) => terminalSafeClipped(s ?? '-', n);
  const table = [
    ['SERIAL', 'STATE', 'MODEL', 'ANDROID', 'ROM', 'IP', 'PROFILE', 'READY'],
    ...rows.map((r) => [
      t(r.serial),
      t(r.state),
      t(r.manufacturer && r.model ? `${r.manufacturer} ${r.model}` : undefined),
      t(r.android),
      t(r.rom ? `${r.rom} ${r.romVersion ?? ''}`.trim() : undefined),
      t(r.ip),
      t(r.profile),
      r.ready ? 'yes' : 'no',
    ]),
  ];
  const notes = rows.filter((r) => !r.ready).map((r) => `${t(r.serial)}: ${t(r.why, 300)}`);
  return `${columns(table).join('\n')}\n${notes.length ? `\n${notes.join('\n')}\n` : ''}`;
}

export function register(program: Command): void {
  program
    .command('devices')
    .description('list attached phones with their facts, matched profile and readiness')
    .option('--json', 'print JSON instead of a table')
    .option('--adb-host <host>', 'adb server host', '127.0.0.1')
    .option('--adb-port <port>', 'adb server port', process.env.ANDROID_ADB_SERVER_PORT ?? '5037')
    .option('--devices-dir <dir>', "folder of device profiles (default: phonehome's own devices/)")
    .action(async (o: { json?: boolean; adbHost: string; adbPort: string; devicesDir?: string }) => {
      const port = Number(o.adbPort);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new UsageError(`--adb-port: not a port: ${o.adbPort}`);
      const { remoteAdbWarning } = await import('../config/farm-file.js');
      const remote = remoteAdbWarning(o.adbHost, port);
      if (remote) {
        const { terminalSafe } = await import('../format/terminal-text.js');
        process.stderr.write(`phonehome: warning: ${terminalSafe(remote)}\n`);
      }
      const rows = await listDeviceRows({
        adbHost: o.adbHost,
        adbPort: port,
        devicesDir: o.devicesDir ?? bundledDevicesDir(),
      });
      process.stdout.write(
        o.json
          ? `${JSON.stringify({ formatVersion: 1, devices: rows }, null, 2)}\n`
          : await formatDeviceTable(rows),
      );
    });
}
