/**
 * The state file of one simulated lab (`phonehome sim up`). It is written before each namespace, link
 * or process is created, so `sim down` can remove everything even after the supervisor died by SIGKILL.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where `sim up` keeps its state unless told otherwise. */
export function defaultSimDir(): string {
  return process.env['PHONEHOME_SIM_DIR'] || '/run/phonehome-sim';
}

/** A process the lab started, identified beyond its PID so a reused PID is never killed. */
export interface SimProcess {
  /** Process id. */
  pid: number;
  /** Field 22 of /proc/PID/stat (start time in clock ticks) when it was recorded. */
  startTime: string;
  /** What it is, for `sim status`. */
  what: string;
}

/** One phone as `sim up` printed it. */
export interface SimPhoneEntry {
  /** Device serial (ro.serialno). */
  serial: string;
  /** Device profile name (devices/sim/NAME.yaml). */
  profile: string;
  /** Model as the banner says it. */
  model: string;
  /** The phone's IPv4 address in the lab. */
  ip: string;
  /** The phone's MAC address. */
  mac: string;
  /** Host interface that carries only this phone's traffic. */
  captureInterface: string;
  /** The lab access point (bridge) that carries every phone's traffic. */
  labInterface: string;
  /** The phone's network namespace. */
  namespace: string;
  /**
   * Where the lab routes the phone's traffic: the simulated internet's namespace (the phone's gateway)
   * and its interface on the access point. A lab's TLS interception runs there.
   */
  gateway: { namespace: string; interface: string };
  /** TCP port of its simulated adbd on 127.0.0.1. */
  adbdPort: number;
  /** The serial the adb server lists it under ("127.0.0.1:PORT"). */
  adbSerial: string;
}

/** The content of state.json. */
export interface SimState {
  /** Format of this file. */
  formatVersion: 1;
  /** The lab's id, prefix of every name it creates. */
  labId: string;
  /** Third octet of the lab LAN (10.213.N.0/24). */
  subnetIndex: number;
  /** starting → ready, or failed (with error); stopping during `sim down`. */
  status: 'starting' | 'ready' | 'failed' | 'stopping';
  /** Why starting failed. */
  error?: string;
  /** The supervisor process. */
  daemon?: SimProcess;
  /** adb server port the phones were connected to. */
  adbServerPort: number;
  /** True when `sim up` started that adb server (then `sim down` stops it). */
  adbServerStartedByUs: boolean;
  /** Time speed-up factor of the traffic. */
  speed: number;
  /** Misbehaviours switched on. */
  misbehave: string[];
  /** Network namespaces, recorded before creation. */
  namespaces: string[];
  /** Host-namespace links (bridge, veth ends), recorded before creation. */
  links: string[];
  /** Processes started (children of the supervisor), recorded right after spawn. */
  processes: SimProcess[];
  /** `host:port` targets connected on the adb server. */
  adbConnections: string[];
  /** The phones, once created. */
  phones: SimPhoneEntry[];
}

/** Reads the state file of a lab, or undefined when there is none. */
export function readSimState(dir: string): SimState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, 'state.json'), 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text) as SimState;
}

/** Writes the state file atomically (rename), synchronously so it is on disk before the next step. */
export function writeSimState(dir: string, state: SimState): void {
  const file = join(dir, 'state.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The start time of a live process, or undefined when it does not exist. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count fields after the last ')'
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

/** Describes a process for the state file. */
export function simProcess(pid: number, what: string): SimProcess {
  return { pid, startTime: processStartTime(pid) ?? '', what };
}

/** True when the recorded process is still the same live process (not a reused PID, not a zombie). */
export function isAlive(p: SimProcess): boolean {
  const st = processStartTime(p.pid);
  if (st === undefined || st !== p.startTime) return false;
  try {
    const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
