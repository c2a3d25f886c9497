/** The one place allowlists touch the filesystem: loadAllowlist() with Node's file reader. */
import { readFileSync } from 'node:fs';
import { type Allowlist, loadAllowlist } from './allowlist.js';

/** Reads, validates and layers the allowlist at path (relative to the working directory). Throws ConfigError. */
export function readAllowlist(path: string): Allowlist {
  return loadAllowlist(path, (p) => readFileSync(p, 'utf8'));
}
