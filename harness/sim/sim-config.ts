/**
 * What `sim up` asks the supervisor to build, handed over as DIR/config.json, and where the project's
 * device files are.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundledDevicesDir } from '../project-dir.js';

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
  /** Folder holding NAME.yaml and NAME.traffic.yaml. */
  devicesDir: string;
  /** Cache folder (lab certificate). */
  cacheDir: string;
}

/** The default folder of simulated device files: devices/sim of the project this code belongs to. */
export function defaultSimDevicesDir(): string {
  return join(bundledDevicesDir(), 'sim');
}

/** Reads DIR/config.json. */
export function readSimUpConfig(dir: string): SimUpConfig {
  return JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as SimUpConfig;
}
