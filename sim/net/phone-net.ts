/**
 * One simulated phone's network side ({@link PhoneNet}): its namespace's traffic agent, ping and
 * touch for the phone's shell, and the on-phone capture for the simulated PCAPdroid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PhoneNet, TrafficState } from '../contracts.js';
import { SimLabError } from '../errors.js';
import type { AgentConnection, AgentEvent, AgentRequest } from './agent-protocol.js';
import type { LabPlan, PhonePlan } from './lab-plan.js';
import { nodeEntryArgs } from './node-child.js';
import { readPcap } from './pcap-file.js';
import { type DumpApp, type LocalEndpoint, toPcapdroidDump } from './pcapdroid-dump.js';
import type { TrafficProfile } from './traffic-schema.js';

/** UIDs Android gives whatever the phone's package list does not name. */
const WELL_KNOWN_UIDS: Record<string, number> = {
  android: 1000,
  'com.android.shell': 2000,
  // The network stack (captive-portal checks) runs as AID_NETWORK_STACK, not as an app.
  'com.google.android.networkstack': 1073,
  'com.android.networkstack': 1073,
};
/** The package the phone's shell commands (ping, touch) count as. */
const SHELL_PACKAGE = 'com.android.shell';

/** A lab phone's network: PhoneNet plus what the supervisor and tests need. */
export interface LabPhoneNet extends PhoneNet {
  /** The lab access point bridge (every phone's traffic). */
  readonly labInterface: string;
  /** The phone's namespace. */
  readonly namespace: string;
  /** PID of the traffic agent. */
  readonly agentPid: number;
  /** Sockets the phone opened so far, oldest first. */
  connections(): readonly AgentConnection[];
  /** Agent messages that were not connections or replies (failures), for diagnosis. */
  logs(): readonly string[];
  /** Stops the agent and any capture. */
  close(): Promise<void>;
}

/** What a phone's network needs from the lab. */
export interface PhoneNetOptions {
  /** The lab it lives in (already created). */
  lab: LabPlan;
  /** Its place in the lab (namespace already created). */
  phone: PhonePlan;
  /** Behaviour profile. */
  profile: TrafficProfile;
  /** Time compression factor (>= 1 speeds up). */
  speed: number;
  /** Misbehaviours switched on. */
  misbehave: string[];
  /** Told about each child process right after it starts (for the state file). */
  onProcess?(pid: number, what: string): void;
  /** File to append each opened socket to, one JSON line each (local port -> package). */
  connectionLog?: string;
  /** The lab internet's certificate (PEM): in the phone's trust store, and what pinned apps accept. */
  labCert?: string;
}

function spawnInNs(ns: string, cmd: string, args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Starts the phone's traffic agent in its namespace and returns its PhoneNet. */
export async function createPhoneNet(opts: PhoneNetOptions): Promise<LabPhoneNet> {
  const { lab, phone } = opts;
  const agent = spawnInNs(phone.ns, process.execPath, nodeEntryArgs('traffic-agent'));
  if (agent.pid === undefined) throw new Error(`cannot start the traffic agent in ${phone.ns}`);
  opts.onProcess?.(agent.pid, `traffic agent ${phone.ns}`);
  const agentPid = agent.pid;
  const conns: AgentConnection[] = [];
  const portOwner = new Map<string, string>();
  const logs: string[] = [];
  const connLog = opts.connectionLog ? createWriteStream(opts.connectionLog, { flags: 'a' }) : undefined;
  connLog?.on('error', () => undefined);
  const waiting = new Map<number, (e: Extract<AgentEvent, { type: 'reply' }>) => void>();
  let nextId = 1;
  let stderr = '';
  agent.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });

  const ready = new Promise<void>((resolve, reject) => {
    agent.once('exit', (code) =>
      reject(new Error(`traffic agent in ${phone.ns} exited (${code}): ${stderr.trim()}`)),
    );
    createInterface({ input: agent.stdout! }).on('line', (line) => {
      let e: AgentEvent;
      try {
        e = JSON.parse(line) as AgentEvent;
      } catch {
        return;
      }
      if (e.type === 'ready') resolve();
      else if (e.type === 'conn') {
        conns.push(e);
        connLog?.write(`${line}\n`);
        portOwner.set(`${e.proto}:${e.localPort}`, e.package);
      } else if (e.type === 'reply') {
        waiting.get(e.id)?.(e);
        waiting.delete(e.id);
      } else if (e.type === 'log') {
        logs.push(e.message);
        if (logs.length > 1000) logs.shift();
      }
    });
  });
  const send = (req: AgentRequest) => {
    if (agent.stdin!.writable) agent.stdin!.write(`${JSON.stringify(req)}\n`);
  };
  const ask = (req: AgentRequest & { id: number }, signal: AbortSignal) =>
    new Promise<Extract<AgentEvent, { type: 'reply' }>>((resolve) => {
      if (signal.aborted) return resolve({ type: 'reply', id: req.id, ok: false, error: 'aborted' });
      waiting.set(req.id, resolve);
      signal.addEventListener('abort', () => {
        waiting.delete(req.id);
        resolve({ type: 'reply', id: req.id, ok: false, error: 'aborted' });
      });
      send(req);
    });
  agent.stdin!.on('error', () => undefined);

  await Promise.race([
    ready,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`traffic agent in ${phone.ns} not ready: ${stderr.trim()}`)), 15_000),
    ),
  ]);
  send({
    type: 'config',
    profile: opts.profile,
    speed: opts.speed,
    misbehave: opts.misbehave,
    dnsServer: lab.internetIp,
    phoneIp: phone.ip,
    ...(opts.labCert ? { labCert: opts.labCert } : {}),
  });

  const captures = new Set<ChildProcess>();

  const net: LabPhoneNet = {
    ip: phone.ip,
    mac: phone.mac,
    captureInterface: phone.hostIf,
    ...(opts.labCert ? { labCert: opts.labCert } : {}),
    labInterface: lab.bridge,
    namespace: phone.ns,
    agentPid,
    connections: () => conns,
    logs: () => logs,

    setState(state: TrafficState): void {
      send({ type: 'state', state });
    },

    async ping(host, count, signal) {
      // An address literal is pinged as is: outside the lab there is no route, so nothing is sent.
      let address = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) ? host : undefined;
      if (!address) {
        const r = await ask({ type: 'resolve', id: nextId++, host, package: SHELL_PACKAGE }, signal);
        if (!r.ok || !r.address) return { output: `ping: unknown host ${host}\n`, exitCode: 2 };
        address = r.address;
      }
      const child = spawnInNs(phone.ns, 'ping', ['-n', '-c', String(Math.max(1, count)), '-W', '2', address]);
      const kill = () => child.kill('SIGINT');
      signal.addEventListener('abort', kill, { once: true });
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr!.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const code = await new Promise<number>((res) => child.on('close', (c) => res(c ?? 1)));
      signal.removeEventListener('abort', kill);
      // Android's ping (iputils) names the host it was given in the banner and the summary.
      const output = out
        .replace(/^PING \S+ \(([\d.]+)\)/m, `PING ${host} ($1)`)
        .replace(/^--- \S+ ping statistics ---/m, `--- ${host} ping statistics ---`);
      return { output, exitCode: code };
    },

    async touch(host, port, signal) {
      const r = await ask(
        { type: 'touch', id: nextId++, host, port, package: SHELL_PACKAGE, timeoutMs: 5000 },
        signal,
      );
      return {
        ok: r.ok,
        ...(r.address ? { address: r.address } : {}),
        ...(r.error ? { error: r.error } : {}),
      };
    },

    async startOnPhoneCapture(hostFile, capOpts) {
      const dir = await mkdtemp(join(tmpdir(), `${lab.id}-cap-`));
      const tmp = join(dir, 'phone.pcap');
      const tcpdump = spawnInNs(phone.ns, 'tcpdump', [
        '-i',
        phone.phoneIf,
        '-n',
        '-U',
        '-s',
        '0',
        '--immediate-mode',
        '-w',
        tmp,
      ]);
      if (tcpdump.pid !== undefined) opts.onProcess?.(tcpdump.pid, `on-phone capture ${phone.ns}`);
      captures.add(tcpdump);
      let err = '';
      const exited = new Promise<number | null>((res) => tcpdump.on('exit', (c) => res(c)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new SimLabError("PCAPdroid's tcpdump", `did not start: ${err.trim()}`)),
          10_000,
        );
        tcpdump.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
        tcpdump.once('exit', (c) => {
          clearTimeout(timer);
          reject(new SimLabError("PCAPdroid's tcpdump", `exited (${c}): ${err.trim()}`));
        });
      }).catch(async (e) => {
        captures.delete(tcpdump);
        await rm(dir, { recursive: true, force: true });
        throw e;
      });
      const appFor = (local: LocalEndpoint): DumpApp => {
        const pkg = local.proto === 'icmp' ? SHELL_PACKAGE : portOwner.get(`${local.proto}:${local.port}`);
        if (!pkg) return { uid: -1, name: '' };
        return { uid: capOpts.appUids[pkg] ?? WELL_KNOWN_UIDS[pkg] ?? -1, name: pkg };
      };
      return {
        async stop() {
          try {
            tcpdump.kill('SIGINT');
            await exited;
            captures.delete(tcpdump);
            const dump = toPcapdroidDump(readPcap(await readFile(tmp)), {
              phoneIp: phone.ip,
              extensions: capOpts.extensions,
              appFor,
            });
            await writeFile(hostFile, dump.file);
            return { packets: dump.packets };
          } catch (e) {
            throw e instanceof SimLabError
              ? e
              : new SimLabError("PCAPdroid's tcpdump", (e as Error).message, { cause: e });
          } finally {
            await rm(dir, { recursive: true, force: true });
          }
        },
      };
    },

    async close() {
      for (const c of captures) c.kill('SIGKILL');
      connLog?.end();
      if (agent.exitCode === null && agent.signalCode === null) {
        const gone = new Promise((r) => agent.once('exit', r));
        agent.stdin!.end();
        const t = setTimeout(() => agent.kill('SIGKILL'), 2000);
        await gone;
        clearTimeout(t);
      }
    },
  };
  return net;
}
