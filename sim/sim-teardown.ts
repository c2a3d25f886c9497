/**
 * Removes everything a lab's state file records: the supervisor, its processes, the adb connections,
 * the namespaces and links, and the adb server if the lab started it. Safe to run twice, and after
 * the supervisor died by SIGKILL.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { removeLab } from './net/lab.js';
import { adb, hostService, isListening } from './sim-adb-server.js';
import { isAlive, type SimProcess, type SimState } from './sim-state.js';

function signal(p: SimProcess, sig: NodeJS.Signals): void {
  if (!isAlive(p)) return;
  try {
    process.kill(p.pid, sig);
  } catch {}
}

async function waitGone(p: SimProcess, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isAlive(p)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !isAlive(p);
}

/** Tears the lab down; resolves with the problems met (empty when all is gone). */
export async function teardownSim(dir: string, state: SimState): Promise<string[]> {
  const problems: string[] = [];
  if (state.daemon && isAlive(state.daemon)) {
    // The supervisor cleans up itself on SIGTERM; what it leaves is removed below anyway.
    signal(state.daemon, 'SIGTERM');
    if (!(await waitGone(state.daemon, 15_000))) {
      signal(state.daemon, 'SIGKILL');
      await waitGone(state.daemon, 2000);
    }
  }
  for (const p of state.processes) signal(p, 'SIGKILL');
  for (const p of state.processes)
    if (!(await waitGone(p, 3000))) problems.push(`process ${p.pid} (${p.what}) would not stop`);
  const serverUp = await isListening(state.adbServerPort);
  if (serverUp) {
    for (const target of state.adbConnections)
      await hostService(state.adbServerPort, `host:disconnect:${target}`).catch(() => undefined);
  }
  problems.push(...(await removeLab(state.namespaces, state.links)));
  if (state.adbServerStartedByUs && serverUp)
    await adb(state.adbServerPort, ['kill-server']).catch((e: Error) => problems.push(e.message));
  await rm(join(dir, 'state.json'), { force: true });
  return problems;
}
