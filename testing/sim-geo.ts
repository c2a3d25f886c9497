/** The geo stage as `phonehome run --sim` has it: the installed databases and the simulated lab's overrides. */
import { join } from 'node:path';
import { type OpenGeo, openGeo } from '../harness/geo/open-locator.js';
import { bundledDevicesDir } from '../harness/project-dir.js';

export function simGeo(): Promise<OpenGeo> {
  return openGeo({ overrideFiles: [join(bundledDevicesDir(), 'sim', 'geo-overrides.yaml')] });
}
