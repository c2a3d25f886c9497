/**
 * What `phonehome sim up|status|down` do (sim/main.ts); loaded only when one of them runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SimUsageError } from '../errors.js';
import { namespacePids } from '../net/lab.js';
import { nodeEntryArgs } from '../net/node-child.js';
import { loadTrafficProfile } from '../net/traffic-schema.js';
import { adbDevices, isListening } from '../sim-adb-server.js';
import { defaultSimDevicesDir, type SimUpConfig } from '../sim-config.js';
import { type ControlOp, SMS_MAX_TEXT, SMS_SENDER, sendControl } from '../sim-control.js';
import { isAlive, readSimState, type SimState } from '../sim-state.js';
import { teardownSim } from '../sim-teardown.js';

const NEEDS_ROOT = 'phonehome sim: needs root to create network namespaces';

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function phoneTable(state: SimState): string {
  const rows = [
    ['SERIAL', 'MODEL', 'IP', 'MAC', 'CAPTURE ON', 'ADB SERIAL'],
    ...state.phones.map((p) => [p.serial, p.model, p.ip, p.mac, p.captureInterface, p.adbSerial]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function summary(state: SimState): string {
  const ap = state.phones[0]?.labInterface ?? `${state.labId}ap`;
  return (
    `lab ${state.labId}: access point ${ap} (10.213.${state.subnetIndex}.0/24), ` +
    `adb server 127.0.0.1:${state.adbServerPort}, speed ${state.speed}` +
    (state.misbehave.length ? `, misbehaving: ${state.misbehave.join(',')}` : '')
  );
}

export async function up(opts: {
  profile: string[];
  speed: number;
  adbPort: number;
  misbehave?: string;
  unauthorized?: boolean;
  rooted?: boolean;
  simCard?: boolean;
  stateDir: string;
  devices?: string;
  json?: boolean;
  timeout: number;
}): Promise<void> {
  if (!isRoot()) {
    process.stderr.write(`${NEEDS_ROOT}\n`);
    process.exitCode = 2;
    return;
  }
  const dir = resolve(opts.stateDir);
  const devicesDir = resolve(opts.devices ?? defaultSimDevicesDir());
  const profiles = opts.profile.flatMap((p) => p.split(',')).filter(Boolean);
  const misbehave = (opts.misbehave ?? '').split(',').filter(Boolean);
  for (const name of profiles) {
    for (const f of [`${name}.yaml`, `${name}.traffic.yaml`])
      if (!existsSync(join(devicesDir, f)))
        throw new SimUsageError(`no simulated device "${name}": ${join(devicesDir, f)} is missing`);
    const traffic = await loadTrafficProfile(join(devicesDir, `${name}.traffic.yaml`));
    for (const m of misbehave)
      if (!traffic.misbehaviour[m])
        throw new SimUsageError(
          `--misbehave ${m}: ${name} knows ${Object.keys(traffic.misbehaviour).join(', ')}`,
        );
  }
  mkdirSync(dir, { recursive: true });
  const old = readSimState(dir);
  if (old?.daemon && isAlive(old.daemon))
    throw new SimUsageError(`a simulated lab is already up (state dir ${dir}); run phonehome sim down first`);
  if (old) await teardownSim(dir, old);

  const cfg: SimUpConfig = {
    profiles,
    speed: opts.speed,
    adbServerPort: opts.adbPort,
    misbehave,
    unauthorized: Boolean(opts.unauthorized),
    ...(opts.rooted ? { rooted: true } : {}),
    ...(opts.simCard ? { simCard: true } : {}),
    devicesDir,
    cacheDir: process.env['PHONEHOME_CACHE'] ?? '',
  };
  writeFileSync(join(dir, 'config.json'), `${JSON.stringify(cfg, null, 2)}\n`);
  const log = openSync(join(dir, 'daemon.log'), 'a');
  const child = spawn(process.execPath, [...nodeEntryArgs('../sim-daemon'), dir], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  child.unref();

  const deadline = Date.now() + opts.timeout * 1000;
  let state: SimState | undefined;
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    state = readSimState(dir);
    if (state?.status === 'ready') break;
    const daemonGone = child.exitCode !== null || (state?.daemon !== undefined && !isAlive(state.daemon));
    if (state?.status === 'failed' || daemonGone || Date.now() > deadline) {
      const why =
        state?.error ??
        (daemonGone ? 'the supervisor exited' : `not ready after ${opts.timeout} s`) +
          `; log: ${readFileSync(join(dir, 'daemon.log'), 'utf8').trim().split('\n').slice(-5).join(' | ')}`;
      if (state) await teardownSim(dir, state);
      process.stderr.write(`phonehome sim: could not start the lab: ${why}\n`);
      process.exitCode = 1;
      return;
    }
  }
  if (opts.json) process.stdout.write(`${JSON.stringify(state, null, 2)}\n`);
  else process.stdout.write(`${summary(state)}\n${phoneTable(state)}\n`);
}

export async function status(opts: { stateDir: string; json?: boolean }): Promise<void> {
  const dir = resolve(opts.stateDir);
  const state = readSimState(dir);
  if (!state) {
    process.stdout.write(`no simulated lab is up (state dir ${dir})\n`);
    process.exitCode = 1;
    return;
  }
  const daemonAlive = state.daemon !== undefined && isAlive(state.daemon);
  const processes = state.processes.map((p) => ({ ...p, alive: isAlive(p) }));
  const namespaces = await Promise.all(
    state.namespaces.map(async (ns) => ({
      ns,
      present: existsSync(`/run/netns/${ns}`),
      pids: (await namespacePids(ns)).length,
    })),
  );
  let adbStates = new Map<string, string>();
  if (await isListening(state.adbServerPort))
    adbStates = await adbDevices(state.adbServerPort).catch(() => new Map());
  const phones = state.phones.map((p) => ({ ...p, adbState: adbStates.get(p.adbSerial) ?? 'absent' }));
  const healthy =
    state.status === 'ready' &&
    daemonAlive &&
    processes.every((p) => p.alive) &&
    namespaces.every((n) => n.present);
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ ...state, healthy, daemonAlive, processes, namespaces, phones }, null, 2)}\n`,
    );
  } else {
    const lines = [
      `${summary(state)}: ${healthy ? 'up' : `NOT healthy (status ${state.status})`}`,
      `supervisor pid ${state.daemon?.pid ?? '-'}: ${daemonAlive ? 'running' : 'gone'}`,
      ...processes.map((p) => `${p.what} pid ${p.pid}: ${p.alive ? 'running' : 'gone'}`),
      ...namespaces.map(
        (n) => `namespace ${n.ns}: ${n.present ? `present, ${n.pids} processes` : 'missing'}`,
      ),
      ...phones.map(
        (p) => `phone ${p.serial} (${p.model}) ${p.ip} on ${p.captureInterface}: adb ${p.adbState}`,
      ),
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = healthy ? 0 : 1;
}

export async function down(opts: { stateDir: string }): Promise<void> {
  if (!isRoot()) {
    process.stderr.write(`${NEEDS_ROOT}\n`);
    process.exitCode = 2;
    return;
  }
  const dir = resolve(opts.stateDir);
  const state = readSimState(dir);
  if (!state) {
    process.stdout.write(`no simulated lab to take down (state dir ${dir})\n`);
    return;
  }
  const problems = await teardownSim(dir, state);
  for (const p of problems) process.stderr.write(`phonehome sim: ${p}\n`);
  process.stdout.write(`lab ${state.labId} down\n`);
  process.exitCode = problems.length ? 1 : 0;
}

/** Sends a phone of the running lab an SMS (`phonehome sim sms SERIAL`). */
export async function sms(
  serial: string,
  opts: { stateDir: string; from: string; text: string },
): Promise<void> {
  if (!SMS_SENDER.test(opts.from))
    throw new SimUsageError(
      `--from: ${JSON.stringify(opts.from)} is not a phone number (digits, spaces, a leading +)`,
    );
  if (opts.text.length === 0 || opts.text.length > SMS_MAX_TEXT)
    throw new SimUsageError(
      `--text: an SMS carries 1 to ${SMS_MAX_TEXT} characters, not ${opts.text.length}`,
    );
  const detail = await sendControl(resolve(opts.stateDir), {
    op: 'sms-receive',
    serial,
    from: opts.from,
    text: opts.text,
  });
  process.stdout.write(`${detail}\n`);
}

/**
 * `sim unplug|plug SERIAL`, `sim card remove|insert SERIAL`, `sim reset SERIAL`: asks the running lab's
 * supervisor, which answers what it did.
 */
export async function control(op: ControlOp, serial: string, opts: { stateDir: string }): Promise<void> {
  const detail = await sendControl(resolve(opts.stateDir), { op, serial });
  process.stdout.write(`${detail}\n`);
}
