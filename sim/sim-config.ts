/**
 * What `sim up` asks the supervisor to build, handed over as DIR/config.json, and where the project's
 * device files are.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The supervisor's instructions. */
export interface SimUpConfig {
  /** Device profile names (devices/sim/NAME.yaml and NAME.traffic.yaml), one phone each. */
  profiles: string[];
  /** Time compression of the traffic. */
  speed: number;
  /** adb server port to connect the phones to. */
  adbServerPort: number;
  /** Misbehaviours to switch on. */
  misbehave: string[];
  /** Phones demand AUTH and stay unauthorized. */
  unauthorized: boolean;
  /** Phones are rooted (`su` works), as a lab's reference phones rooted with Magisk are. */
  rooted?: boolean;
  /** Phones start with their SIM card inserted (the profile's `sim`), whatever the profile says. */
  simCard?: boolean;
  /** Folder holding NAME.yaml and NAME.traffic.yaml. */
  devicesDir: string;
  /** Cache folder (lab certificate). */
  cacheDir: string;
}

/**
 * The default folder of simulated device files: the nearest devices/sim above this file (the
 * project's, from the sources or from dist/), else ./devices/sim.
 */
export function defaultSimDevicesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'devices', 'sim'))) return join(dir, 'devices', 'sim');
    dir = dirname(dir);
  }
  return resolve('devices', 'sim');
}

/** Reads DIR/config.json. */
export function readSimUpConfig(dir: string): SimUpConfig {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as SimUpConfig;
}
