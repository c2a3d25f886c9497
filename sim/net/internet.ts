/**
 * Starts the simulated internet's servers (internet-server.ts) inside the lab's internet namespace,
 * with a self-signed certificate made once with openssl and kept in a cache directory.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { run } from './lab.js';
import type { LabPlan } from './lab-plan.js';
import { nodeEntryArgs } from './node-child.js';

/** Where the lab certificate is kept: $PHONEHOME_CACHE or ~/.cache/phonehome. */
export function defaultCacheDir(): string {
  return process.env['PHONEHOME_CACHE'] || join(homedir(), '.cache', 'phonehome');
}

/** The certificate and key the lab's TLS server presents for every name; made on first use. */
export async function ensureLabCert(cacheDir: string): Promise<{ cert: string; key: string }> {
  const dir = join(cacheDir, 'sim-cert');
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  if (existsSync(cert) && existsSync(key)) return { cert, key };
  await mkdir(cacheDir, { recursive: true });
  // Made in a temp dir and renamed into place, so two labs starting at once never see half a cert.
  const tmp = await mkdtemp(join(cacheDir, 'sim-cert-'));
  try {
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '3650',
      '-subj',
      '/CN=phonehome simulated internet',
      '-keyout',
      join(tmp, 'key.pem'),
      '-out',
      join(tmp, 'cert.pem'),
    ]);
    await rename(tmp, dir).catch(() => undefined);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return { cert, key };
}

/** Starts the internet's servers in its namespace; resolves once they all listen. */
export async function startInternet(
  plan: LabPlan,
  cert: { cert: string; key: string },
  onProcess?: (pid: number, what: string) => void,
): Promise<ChildProcess> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      plan.internetNs,
      process.execPath,
      ...nodeEntryArgs('internet-server'),
      cert.cert,
      cert.key,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  if (child.pid !== undefined) onProcess?.(child.pid, `internet ${plan.internetNs}`);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`internet servers not ready: ${stderr.trim()}`)), 15_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`internet servers exited (${c}): ${stderr.trim()}`));
    });
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.includes('"ready"')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return child;
}
