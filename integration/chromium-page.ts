/**
 * Headless Chromium (Debian's, with --no-sandbox --disable-background-networking) for tests that look
 * at a page as a person would: the DOM after the page's JavaScript ran.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
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

/** A Chrome DevTools Protocol connection over --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-framed JSON). */
export class DevTools {
  #id = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #buffer = '';
  /** Events received, in order. */
  readonly events: { method: string; params: Record<string, unknown>; sessionId?: string }[] = [];

  constructor(
    private readonly input: Writable,
    output: Readable,
  ) {
    output.on('data', (chunk: Buffer) => {
      this.#buffer += chunk.toString('utf8');
      for (let end = this.#buffer.indexOf('\0'); end >= 0; end = this.#buffer.indexOf('\0')) {
        const message = JSON.parse(this.#buffer.slice(0, end));
        this.#buffer = this.#buffer.slice(end + 1);
        const waiting = message.id !== undefined ? this.#pending.get(message.id) : undefined;
        if (waiting) {
          this.#pending.delete(message.id);
          if (message.error) waiting.reject(new Error(`${message.error.message}`));
          else waiting.resolve(message.result);
        } else if (message.method) this.events.push(message);
      }
    });
  }

  send<T = Record<string, unknown>>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = ++this.#id;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }
}

/**
 * Opens a page in headless Chromium driven over the DevTools protocol and hands a session to `use`.
 * Chromium runs in its own process group, killed at the end with its profile.
 */
export async function withPage<T>(
  url: string,
  use: (dt: DevTools, session: string) => Promise<T>,
): Promise<T> {
  return withChromium(
    ['--remote-debugging-pipe', 'about:blank'],
    ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    async (child) => {
      const dt = new DevTools(child.stdio[3] as Writable, child.stdio[4] as Readable);
      const { targetId } = await dt.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await dt.send<{ sessionId: string }>('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      await dt.send('Runtime.enable', {}, sessionId);
      await dt.send('Page.enable', {}, sessionId);
      // Sandboxed frames may run in their own process: attach to them too.
      await dt.send(
        'Target.setAutoAttach',
        { autoAttach: true, waitForDebuggerOnStart: false, flatten: true },
        sessionId,
      );
      await dt.send('Page.navigate', { url }, sessionId);
      return await use(dt, sessionId);
    },
  );
}

/** Evaluates an expression (awaiting a promise) and returns its value. */
export async function evaluate<T>(
  dt: DevTools,
  session: string,
  expression: string,
  contextId?: number,
): Promise<T> {
  const r = await dt.send<{ result: { value: T }; exceptionDetails?: { text: string } }>(
    'Runtime.evaluate',
    { expression, awaitPromise: true, returnByValue: true, ...(contextId ? { contextId } : {}) },
    session,
  );
  if (r.exceptionDetails) throw new Error(`page threw: ${r.exceptionDetails.text}`);
  return r.result.value;
}
