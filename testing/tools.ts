/**
 * The programs tests drive, found the way setup finds them: on PATH (scripts/setup.sh installs what is
 * missing), never at a fixed path. PHONEHOME_CHROMIUM names another Chromium.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The program's path on PATH (or the path as given, when it holds a slash), or undefined. */
export function onPath(program: string): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d || '.', program));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Headless Chromium for the tests that look at a page as a person would. */
export const CHROMIUM = process.env['PHONEHOME_CHROMIUM'] ?? onPath('chromium') ?? 'chromium';
