/**
 * The typed helper for phonehome.config files. In phonehome.config.mjs:
 *
 *   import { defineConfig } from './dist/harness/config/define-config.js';
 *   export default defineConfig({ capture: { backend: 'tcpdump', interface: 'wlan-ap' }, parallelism: 4 });
 *
 * It returns its argument unchanged: the types (inferred from the zod schema) catch mistakes in an
 * editor, and phonehome validates the file again when it loads it.
 */
import type { PhonehomeConfig } from './config-schema.js';

export type { PhonehomeConfig } from './config-schema.js';

/** The config, as given; only here for its type. */
export function defineConfig(config: PhonehomeConfig): PhonehomeConfig {
  return config;
}
