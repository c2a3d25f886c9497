/** The phonehome project this code belongs to, and its folders, wherever phonehome is started from. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** phonehome's own folder (the one with its package.json) and its version. */
export interface PhonehomePackage {
  dir: string;
  version: string | undefined;
}

let found: PhonehomePackage | null | undefined;

/**
 * The nearest folder above this file whose package.json is phonehome's (from the sources or from
 * dist/), or undefined when the code sits outside the project. Looked up once.
 */
export function phonehomePackage(): PhonehomePackage | undefined {
  if (found !== undefined) return found ?? undefined;
  found = null;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'phonehome') {
          found = { dir, version: pkg.version };
          break;
        }
      } catch {
        // not a readable manifest: one folder up
      }
    }
    dir = dirname(dir);
  }
  return found ?? undefined;
}

/**
 * The devices/ folder of the phonehome project (profiles, allowlists, and the simulated phones in
 * devices/sim): the default for every command, so that phonehome started from another folder finds
 * them too. Falls back to ./devices when the code sits outside a project.
 */
export function bundledDevicesDir(): string {
  const pkg = phonehomePackage();
  return pkg ? join(pkg.dir, 'devices') : resolve('devices');
}
