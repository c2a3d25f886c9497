/** What every UiAutomator2 command works with: the session, the request, element references and the phone's screen snapshot, and the input they share. */
import { randomUUID } from 'node:crypto';
import type { DeviceState } from '../phone/device-state.js';
import type { UiNode } from '../phone/ui-node.js';
import { descendants, snapshot, type UiElement } from './ui-element.js';
import { MESSAGES, W3cError } from './w3c-error.js';

/** The W3C key of an element reference. */
export const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/** One session of the server. */
export interface Uia2Session {
  /** Session id (a uuid). */
  id: string;
  /** The capabilities it was created with (firstMatch[0] merged with alwaysMatch). */
  capabilities: Record<string, unknown>;
  /** Server settings (GET/POST /appium/settings). */
  settings: Record<string, unknown>;
  /** Implicit wait for finds, in ms. */
  implicitWaitMs: number;
  /** Cached elements: uuid → identity key, and back. */
  elements: Map<string, string>;
  byKey: Map<string, string>;
}

/** What the commands act on: the phone, the sessions, and the server's own lifetime. */
export interface Uia2Context {
  /** The phone's state. */
  state: DeviceState;
  /** The screen's view tree (the phone's screen model unless a test swaps it). */
  screen: (state: DeviceState) => UiNode | undefined;
  /** Sessions by id (the server keeps at most one). */
  sessions: Map<string, Uia2Session>;
  /** Text typed into editable elements, by element identity. */
  typed: Map<string, string>;
  /** Aborts when the server stops. */
  signal: AbortSignal;
  /** Runs a shell line on the phone (`input tap X Y`, `input keyevent N`): the server acts through the phone's input. */
  exec(line: string): Promise<{ code: number; stderr: string }>;
  /** Called after DELETE /session: the real server ends its instrumentation then. */
  onSessionDeleted(): void;
}

/** A request as the commands see it. */
export interface Uia2Request {
  /** Path parameters after the session id (element id, attribute name …). */
  params: string[];
  /** The JSON body ({} when none). */
  body: Record<string, unknown>;
  /** The session of a session-bound route. */
  session: Uia2Session | undefined;
}

/** A command: its value goes into the reply's `value`. */
export type Uia2Command = (ctx: Uia2Context, req: Uia2Request) => unknown | Promise<unknown>;

// ---- screen snapshots ----

export function rotation(state: DeviceState): number {
  const r = Number(state.system.get('system', 'user_rotation') ?? '0');
  return Number.isInteger(r) && r >= 0 && r <= 3 ? r : 0;
}

/** The window a tree shows: its elements belong to it. */
export function windowName(state: DeviceState): string {
  if (!state.screen.on) return 'off';
  if (state.screen.locked) return 'keyguard';
  return state.apps.foreground ?? 'none';
}

/** A fresh snapshot of the screen. */
export function currentSnapshot(ctx: Uia2Context): UiElement {
  const { width, height } = ctx.state.screen.size();
  return snapshot(ctx.screen(ctx.state), {
    window: windowName(ctx.state),
    rotation: rotation(ctx.state),
    width,
    height,
    typed: ctx.typed,
  });
}

export function sessionOf(req: Uia2Request): Uia2Session {
  if (!req.session) throw new W3cError('invalid session id', 'A session is either terminated or not started');
  return req.session;
}

export function elementRef(session: Uia2Session, el: UiElement): Record<string, string> {
  let id = session.byKey.get(el.key);
  if (!id) {
    id = randomUUID();
    session.byKey.set(el.key, id);
    session.elements.set(id, el.key);
  }
  return { ELEMENT: id, [ELEMENT_KEY]: id };
}

/** The cached element with this id, found again on the current screen. */
export function resolveElement(ctx: Uia2Context, session: Uia2Session, id: string | undefined): UiElement {
  const key = id === undefined ? undefined : session.elements.get(id);
  if (key === undefined)
    throw new W3cError(
      'no such element',
      `The element identified by "${id ?? ''}" is not present in the cache or has expired. Try to find it again`,
    );
  const root = currentSnapshot(ctx);
  const el = descendants(root).find((e) => e.key === key);
  if (!el) throw new W3cError('stale element reference', `${MESSAGES.stale} (element ${id})`);
  return el;
}

export function bounds(el: UiElement): { x: number; y: number; width: number; height: number } {
  const [l, t, r, b] = el.node?.bounds ?? [0, 0, 0, 0];
  return { x: Math.round(l), y: Math.round(t), width: Math.round(r - l), height: Math.round(b - t) };
}

export function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

// ---- finding ----

/** Runs the phone's `input` command with these arguments. */
export async function input(ctx: Uia2Context, args: string[]): Promise<void> {
  const r = await ctx.exec(['input', ...args].join(' '));
  if (r.code !== 0) throw new W3cError('unknown error', `input ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

export async function tapCentre(ctx: Uia2Context, el: UiElement): Promise<void> {
  const { x, y, width, height } = bounds(el);
  await input(ctx, ['tap', String(Math.round(x + width / 2)), String(Math.round(y + height / 2))]);
}

export async function keyevent(ctx: Uia2Context, code: unknown, longpress = false): Promise<void> {
  if (typeof code !== 'number' || !Number.isInteger(code))
    throw new W3cError('invalid argument', "'keycode' must be an integer");
  await input(ctx, ['keyevent', ...(longpress ? ['--longpress'] : []), String(code)]);
}

export function statusBarHeight(state: DeviceState): number {
  return Math.round((24 * state.screen.size().density) / 160);
}
