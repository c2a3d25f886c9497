/**
 * Builds and removes the lab network: the access point bridge, the simulated internet namespace and one
 * namespace per phone. Every name is handed to the recorder before it is created, so a crash at any
 * point leaves a state file that names everything to remove.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { INTERNET_CIDR, type LabPlan, type PhonePlan } from './lab-plan.js';

const exec = promisify(execFile);

/** Told about each namespace and link before it exists. */
export interface LabRecorder {
  namespace(name: string): void;
  link(name: string): void;
}

/** Runs a command, throwing with its stderr when it fails. */
export async function run(cmd: string, args: string[], timeoutMs = 15_000): Promise<string> {
  try {
    const { stdout } = await exec(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`, { cause: err });
  }
}

/** Turns IPv6 off on a host interface before it goes up, so no link-local chatter reaches captures. */
async function noIpv6Host(ifname: string): Promise<void> {
  await writeFile(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, '1').catch(() => undefined);
}

const LOCK_DIR = '/run/lock/phonehome-sim-subnet.lock';

/**
 * Runs fn while holding the machine-wide lab lock (an atomic mkdir), so labs started at the same time
 * never pick the same subnet: the lock spans choosing the subnet and putting its address on the bridge.
 * A lock left by a dead process is broken.
 */
export async function withLabLock<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  await mkdir('/run/lock', { recursive: true });
  for (;;) {
    try {
      await mkdir(LOCK_DIR);
      await writeFile(`${LOCK_DIR}/pid`, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(await readFile(`${LOCK_DIR}/pid`, 'utf8').catch(() => '0'));
      let alive = owner > 0;
      if (alive) {
        try {
          process.kill(owner, 0);
        } catch {
          alive = false;
        }
      }
      // No pid yet means the owner is between mkdir and writeFile: give it a moment.
      if (owner > 0 && !alive) await rm(LOCK_DIR, { recursive: true, force: true });
      if (Date.now() > end) throw new Error(`lab lock ${LOCK_DIR} held by pid ${owner}`);
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  try {
    return await fn();
  } finally {
    await rm(LOCK_DIR, { recursive: true, force: true });
  }
}

/** Picks a free lab LAN index (10.213.N.0/24 not already on any host interface), starting from `hint`. */
export async function freeSubnetIndex(hint: number): Promise<number> {
  const out = await run('ip', ['-4', '-o', 'addr', 'show']);
  const used = new Set<number>();
  for (const m of out.matchAll(/inet 10\.213\.(\d+)\./g)) used.add(Number(m[1]));
  for (let k = 0; k < 127; k++) {
    const n = 1 + ((hint - 1 + k) % 127);
    if (!used.has(n)) return n;
  }
  throw new Error('no free lab subnet in 10.213.1-127.0/24');
}

async function addNamespace(ns: string, rec: LabRecorder): Promise<void> {
  rec.namespace(ns);
  await run('ip', ['netns', 'add', ns]);
  await run('ip', [
    'netns',
    'exec',
    ns,
    'sysctl',
    '-qw',
    'net.ipv6.conf.all.disable_ipv6=1',
    'net.ipv6.conf.default.disable_ipv6=1',
    'net.ipv4.ip_forward=0',
  ]);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

async function joinBridge(
  plan: LabPlan,
  ns: string,
  hostIf: string,
  innerIf: string,
  cidr: string,
  mac: string | undefined,
  rec: LabRecorder,
): Promise<void> {
  rec.link(hostIf);
  await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', innerIf, 'netns', ns]);
  await noIpv6Host(hostIf);
  await run('ip', ['link', 'set', hostIf, 'master', plan.bridge]);
  await run('ip', ['link', 'set', hostIf, 'up']);
  if (mac) await run('ip', ['-n', ns, 'link', 'set', innerIf, 'address', mac]);
  await run('ip', ['-n', ns, 'addr', 'add', cidr, 'dev', innerIf]);
  await run('ip', ['-n', ns, 'link', 'set', innerIf, 'up']);
}

/** Creates the bridge and the simulated internet's namespace (its servers are started separately). */
export async function createLabCore(plan: LabPlan, rec: LabRecorder): Promise<void> {
  rec.link(plan.bridge);
  await run('ip', ['link', 'add', plan.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0']);
  await noIpv6Host(plan.bridge);
  await run('ip', ['addr', 'add', plan.hostCidr, 'dev', plan.bridge]);
  await run('ip', ['link', 'set', plan.bridge, 'up']);
  await addNamespace(plan.internetNs, rec);
  await joinBridge(
    plan,
    plan.internetNs,
    plan.internetHostIf,
    'eth0',
    `${plan.internetIp}/24`,
    undefined,
    rec,
  );
  // Every address of the internet range is local here (AnyIP): the servers answer on all of them.
  await run('ip', ['-n', plan.internetNs, 'route', 'add', 'local', INTERNET_CIDR, 'dev', 'lo']);
}

/** Creates one phone's namespace and joins it to the access point. Only the internet range is routed. */
export async function createPhoneNetwork(plan: LabPlan, phone: PhonePlan, rec: LabRecorder): Promise<void> {
  await addNamespace(phone.ns, rec);
  await joinBridge(plan, phone.ns, phone.hostIf, phone.phoneIf, `${phone.ip}/24`, phone.mac, rec);
  await run('ip', ['-n', phone.ns, 'route', 'add', INTERNET_CIDR, 'via', plan.internetIp]);
}

/** The PIDs of every process inside a namespace (empty when it does not exist). */
export async function namespacePids(ns: string): Promise<number[]> {
  try {
    const out = await run('ip', ['netns', 'pids', ns]);
    return out
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return [];
  }
}

/** Removes namespaces (after killing what runs inside them) and links, ignoring what is already gone. */
export async function removeLab(namespaces: string[], links: string[]): Promise<string[]> {
  const problems: string[] = [];
  const existingNs = new Set(
    (await run('ip', ['netns', 'list']).catch(() => ''))
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter(Boolean),
  );
  for (const ns of namespaces) {
    if (!existingNs.has(ns)) continue;
    // Only our own lab's processes live in our namespaces, so killing them all is safe.
    for (const pid of await namespacePids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    await run('ip', ['netns', 'del', ns]).catch((e: Error) => problems.push(e.message));
  }
  const exists = (link: string) =>
    run('ip', ['link', 'show', 'dev', link]).then(
      () => true,
      () => false,
    );
  for (const link of links) {
    if (!(await exists(link))) continue;
    // The kernel removes a veth whose peer's namespace was just deleted, a moment later: a link gone
    // between the check and the delete is gone, not a problem.
    await run('ip', ['link', 'del', link]).catch(async (e: Error) => {
      if (await exists(link)) problems.push(e.message);
    });
  }
  return problems;
}
