/**
 * Headless Chromium (Debian's, with --no-sandbox --disable-background-networking) for tests that look
 * at a page as a person would: the DOM after the page's JavaScript ran.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM } from '../testing/tools.js';

/**
 * Runs headless Chromium with `args` after the common flags and a throwaway profile, in its own
 * process group, and hands the child to `use`; the group is killed (after 60 s at the latest) and
 * the profile removed when `use` settles.
 */
export async function withChromium<T>(
  args: string[],
  stdio: StdioOptions,
  use: (child: ChildProcess) => Promise<T>,
): Promise<T> {
  const profile = await mkdtemp(join(tmpdir(), 'phonehome-chromium-'));
  const child = spawn(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      `--user-data-dir=${profile}`,
      ...args,
    ],
    { detached: true, stdio },
  );
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(killGroup, 60_000);
  try {
    return await use(child);
  } finally {
    clearTimeout(timer);
    killGroup();
    await rm(profile, { recursive: true, force: true });
  }
}

/** The DOM of a page after its JavaScript ran, from headless Chromium in its own process group. */
export function renderedDom(url: string): Promise<string> {
  return withChromium(
    ['--virtual-time-budget=10000', '--dump-dom', url],
    ['ignore', 'pipe', 'pipe'],
    async (child) => {
      let out = '';
      child.stdout!.on('data', (b: Buffer) => {
        out += b;
      });
      child.stderr!.resume();
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, 'chromium --dump-dom exits 0');
      return out;
    },
  );
}

/** The files a single-file Allure report embeds (name → text). */
export function embedded(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(/d\('([^']+)','([A-Za-z0-9+/=]*)'\)/g)) {
    out.set(m[1]!, Buffer.from(m[2]!, 'base64').toString('utf8'));
  }
  return out;
}

/** A node of Allure's tree files (categories.json, suites.json). */
export interface Tree {
  name: string;
  uid?: string;
  parentUid?: string;
  status?: string;
  children?: Tree[];
}

/** The leaf of an Allure tree with this name. */
export function findLeaf(t: Tree, name: string): Tree | undefined {
  if (!t.children) return t.name === name ? t : undefined;
  for (const c of t.children) {
    const found = findLeaf(c, name);
    if (found) return found;
  }
  return undefined;
}

/** Every leaf name of an Allure tree. */
export function leaves(t: Tree): string[] {
  return t.children ? t.children.flatMap(leaves) : [t.name];
}
