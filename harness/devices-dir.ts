/** Where phonehome's own device files are, wherever it is started from. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The devices/ folder of the phonehome project this code belongs to (profiles, allowlists, and the
 * simulated phones in devices/sim): the default for every command, so that phonehome started from
 * another folder finds them too. Falls back to ./devices when the code sits outside a project.
 */
export function bundledDevicesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'devices')) && existsSync(join(dir, 'package.json')))
      return join(dir, 'devices');
    dir = dirname(dir);
  }
  return resolve('devices');
}
