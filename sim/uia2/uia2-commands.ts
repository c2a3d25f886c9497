/**
 * The commands of the on-phone UiAutomator2 server (UIA2.md §3): sessions, finding elements and
 * acting on them, page source, screenshot, device facts, keys, orientation, settings, timeouts. Each
 * command reads a fresh snapshot of the phone's screen; elements are cached by uuid and re-found by
 * their identity, so an element that left the screen is a stale element reference.
 */
import { randomUUID } from 'node:crypto';
import { fullComponent } from '../phone/component-name.js';
import type { DeviceState } from '../phone/device-state.js';
import { screenTree, type UiNode } from '../phone/screen-model.js';
import { encodePng, paintScreen } from '../phone/screen-png.js';
import { LocatorError, locate } from './locators.js';
import { attr, descendants, isEditable, pageSourceXml, snapshot, type UiElement } from './ui-element.js';
import { MESSAGES, W3cError } from './w3c-error.js';

/** The W3C key of an element reference. */
export const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';

/** Settings a new session starts with (a subset of the real server's). */
const DEFAULT_SETTINGS: Record<string, unknown> = {
  actionAcknowledgmentTimeout: 3000,
  allowInvisibleElements: false,
  alwaysTraversableViewClasses: '',
  disableIdLocatorAutocompletion: false,
  elementResponseAttributes: '',
  enableMultiWindows: false,
  enableNotificationListener: true,
  enableTopmostWindowFromActivePackage: false,
  enforceXPath1: false,
  ignoreUnimportantViews: false,
  keyInjectionDelay: 0,
  limitXPathContextScope: true,
  mjpegBilinearFiltering: false,
  mjpegScalingFactor: 50,
  mjpegServerFramerate: 10,
  mjpegServerPort: 7810,
  mjpegServerScreenshotQuality: 50,
  normalizeTagNames: false,
  scrollAcknowledgmentTimeout: 200,
  serverPort: 6790,
  shouldUseCompactResponses: true,
  simpleBoundsCalculation: false,
  snapshotMaxDepth: 70,
  trackScrollEvents: true,
  useResourcesForOrientationDetection: false,
  waitForIdleTimeout: 10000,
  waitForSelectorTimeout: 10000,
  wakeLockTimeout: 86_400_000,
};

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

function rotation(state: DeviceState): number {
  const r = Number(state.system.get('system', 'user_rotation') ?? '0');
  return Number.isInteger(r) && r >= 0 && r <= 3 ? r : 0;
}

/** The window a tree shows: its elements belong to it. */
function windowName(state: DeviceState): string {
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

function sessionOf(req: Uia2Request): Uia2Session {
  if (!req.session) throw new W3cError('invalid session id', 'A session is either terminated or not started');
  return req.session;
}

function elementRef(session: Uia2Session, el: UiElement): Record<string, string> {
  let id = session.byKey.get(el.key);
  if (!id) {
    id = randomUUID();
    session.byKey.set(el.key, id);
    session.elements.set(id, el.key);
  }
  return { ELEMENT: id, [ELEMENT_KEY]: id };
}

/** The cached element with this id, found again on the current screen. */
function resolveElement(ctx: Uia2Context, session: Uia2Session, id: string | undefined): UiElement {
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

function bounds(el: UiElement): { x: number; y: number; width: number; height: number } {
  const [l, t, r, b] = el.node?.bounds ?? [0, 0, 0, 0];
  return { x: Math.round(l), y: Math.round(t), width: Math.round(r - l), height: Math.round(b - t) };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
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

async function find(ctx: Uia2Context, req: Uia2Request, multiple: boolean, contextId?: string) {
  const session = sessionOf(req);
  const strategy = typeof req.body['strategy'] === 'string' ? req.body['strategy'] : req.body['using'];
  const selector = typeof req.body['selector'] === 'string' ? req.body['selector'] : req.body['value'];
  if (typeof strategy !== 'string' || typeof selector !== 'string')
    throw new W3cError('invalid argument', "'strategy' and 'selector' must be strings");
  const bodyContext = typeof req.body['context'] === 'string' ? req.body['context'] : '';
  const scopeId = contextId ?? (bodyContext || undefined);
  const appPackage =
    session.settings['disableIdLocatorAutocompletion'] === true
      ? undefined
      : (session.capabilities['appPackage'] as string | undefined);
  const deadline = Date.now() + session.implicitWaitMs;
  for (;;) {
    const scope = scopeId ? resolveElement(ctx, session, scopeId) : currentSnapshot(ctx);
    let found: UiElement[];
    try {
      found = locate(scope, strategy, selector, appPackage);
    } catch (e) {
      if (e instanceof LocatorError) throw new W3cError(e.w3cError, e.message);
      throw e;
    }
    if (found.length || Date.now() >= deadline || ctx.signal.aborted) {
      if (multiple) return found.map((el) => elementRef(session, el));
      if (!found[0]) throw new W3cError('no such element', MESSAGES.noSuchElement);
      return elementRef(session, found[0]);
    }
    await delay(Math.min(200, deadline - Date.now()), ctx.signal);
  }
}

// ---- attributes ----

const ATTRIBUTE_ALIASES: Record<string, string> = {
  contentDescription: 'content-desc',
  'content-description': 'content-desc',
  resourceId: 'resource-id',
  className: 'class',
  longClickable: 'long-clickable',
  packageName: 'package',
  selectionStart: 'selection-start',
  selectionEnd: 'selection-end',
  visible: 'displayed',
};

function attribute(el: UiElement, name: string): string | null {
  const key = ATTRIBUTE_ALIASES[name] ?? name;
  return attr(el, key) ?? null;
}

// ---- the commands ----

/** Runs the phone's `input` command with these arguments. */
async function input(ctx: Uia2Context, args: string[]): Promise<void> {
  const r = await ctx.exec(['input', ...args].join(' '));
  if (r.code !== 0) throw new W3cError('unknown error', `input ${args.join(' ')} failed: ${r.stderr.trim()}`);
}

async function tapCentre(ctx: Uia2Context, el: UiElement): Promise<void> {
  const { x, y, width, height } = bounds(el);
  await input(ctx, ['tap', String(Math.round(x + width / 2)), String(Math.round(y + height / 2))]);
}

async function keyevent(ctx: Uia2Context, code: unknown, longpress = false): Promise<void> {
  if (typeof code !== 'number' || !Number.isInteger(code))
    throw new W3cError('invalid argument', "'keycode' must be an integer");
  await input(ctx, ['keyevent', ...(longpress ? ['--longpress'] : []), String(code)]);
}

function statusBarHeight(state: DeviceState): number {
  return Math.round((24 * state.screen.size().density) / 160);
}

function deviceInfo(state: DeviceState) {
  const p = (k: string) => state.system.props.get(k) ?? '';
  const { width, height, density } = state.screen.size();
  return {
    androidId: state.system.get('secure', 'android_id') ?? '',
    manufacturer: p('ro.product.manufacturer'),
    model: p('ro.product.model'),
    brand: p('ro.product.brand'),
    apiVersion: p('ro.build.version.sdk'),
    platformVersion: p('ro.build.version.release'),
    carrierName: p('gsm.operator.alpha'),
    realDisplaySize: `${width}x${height}`,
    displayDensity: density,
    networks: state.online
      ? [
          {
            type: 1,
            typeName: 'WIFI',
            subtype: 0,
            subtypeName: '',
            isConnected: true,
            detailedState: 'CONNECTED',
            state: 'CONNECTED',
            extraInfo: null,
            isAvailable: true,
            isRoaming: false,
            isFailover: false,
          },
        ]
      : [],
    locale: (p('persist.sys.locale') || p('ro.product.locale') || 'en-US').replace('-', '_'),
    timeZone: p('persist.sys.timezone') || 'UTC',
    bluetooth: { state: 'OFF' },
  };
}

function sessionCommands(): Record<string, Uia2Command> {
  return {
    status: (ctx) => {
      const pkg = ctx.state.apps.packages.get('io.appium.uiautomator2.server');
      return {
        ready: true,
        message: 'UiAutomator2 Server is ready to accept commands',
        build: { version: pkg?.versionName ?? '', versionCode: pkg?.versionCode ?? 0 },
      };
    },
    sessions: (ctx) =>
      [...ctx.sessions.values()].map((s) => ({ id: s.id, sessionId: s.id, capabilities: s.capabilities })),
    newSession: (ctx, req) => {
      const caps = req.body['capabilities'];
      const c = typeof caps === 'object' && caps !== null ? (caps as Record<string, unknown>) : {};
      const first = Array.isArray(c['firstMatch']) ? (c['firstMatch'][0] as Record<string, unknown>) : {};
      const always =
        typeof c['alwaysMatch'] === 'object' ? (c['alwaysMatch'] as Record<string, unknown>) : {};
      const legacy =
        typeof req.body['desiredCapabilities'] === 'object'
          ? (req.body['desiredCapabilities'] as Record<string, unknown>)
          : {};
      const capabilities = { ...legacy, ...first, ...always };
      // The real server keeps one session: a new one replaces the old.
      ctx.sessions.clear();
      const session: Uia2Session = {
        id: randomUUID(),
        capabilities,
        settings: { ...DEFAULT_SETTINGS },
        implicitWaitMs: 0,
        elements: new Map(),
        byKey: new Map(),
      };
      ctx.sessions.set(session.id, session);
      return { sessionId: session.id, capabilities };
    },
    getSession: (_ctx, req) => sessionOf(req).capabilities,
    deleteSession: (ctx, req) => {
      ctx.sessions.delete(sessionOf(req).id);
      ctx.onSessionDeleted();
      return null;
    },
  };
}

function elementCommands(): Record<string, Uia2Command> {
  const el = (ctx: Uia2Context, req: Uia2Request) => resolveElement(ctx, sessionOf(req), req.params[0]);
  return {
    findElement: (ctx, req) => find(ctx, req, false),
    findElements: (ctx, req) => find(ctx, req, true),
    findChildElement: (ctx, req) => find(ctx, req, false, req.params[0]),
    findChildElements: (ctx, req) => find(ctx, req, true, req.params[0]),
    click: async (ctx, req) => {
      await tapCentre(ctx, el(ctx, req));
      return null;
    },
    clear: (ctx, req) => {
      const e = el(ctx, req);
      if (isEditable(e.node)) ctx.typed.set(e.key, '');
      return null;
    },
    sendKeys: (ctx, req) => {
      const e = el(ctx, req);
      const v = req.body['value'];
      const text =
        typeof req.body['text'] === 'string'
          ? req.body['text']
          : Array.isArray(v)
            ? v.map(String).join('')
            : undefined;
      if (text === undefined) throw new W3cError('invalid argument', "'text' must be a string");
      if (!isEditable(e.node))
        throw new W3cError(
          'invalid element state',
          `Cannot set the element to '${text}': it does not take text`,
        );
      const replace = req.body['replace'] === true;
      const before = attr(e, 'text') ?? '';
      ctx.typed.set(e.key, replace ? text : before + text);
      ctx.state.logLine(3, 'InputDispatcher', `injected text of ${text.length} chars`, 1000);
      return null;
    },
    text: (ctx, req) => attr(el(ctx, req), 'text') ?? '',
    attribute: (ctx, req) => attribute(el(ctx, req), req.params[1] ?? ''),
    name: (ctx, req) => attr(el(ctx, req), 'content-desc') ?? null,
    rect: (ctx, req) => bounds(el(ctx, req)),
    location: (ctx, req) => {
      const { x, y } = bounds(el(ctx, req));
      return { x, y };
    },
    size: (ctx, req) => {
      const { width, height } = bounds(el(ctx, req));
      return { width, height };
    },
    displayed: (ctx, req) => attr(el(ctx, req), 'displayed') === 'true',
    enabled: (ctx, req) => attr(el(ctx, req), 'enabled') === 'true',
    selected: (ctx, req) => attr(el(ctx, req), 'selected') === 'true',
  };
}

function deviceCommands(): Record<string, Uia2Command> {
  return {
    source: (ctx, req) => {
      sessionOf(req);
      return pageSourceXml(currentSnapshot(ctx));
    },
    screenshot: (ctx, req) => {
      sessionOf(req);
      const { width, height } = ctx.state.screen.size();
      return encodePng(width, height, paintScreen(ctx.screen(ctx.state), width, height)).toString('base64');
    },
    windowSize: (ctx, req) => {
      sessionOf(req);
      const { width, height } = ctx.state.screen.size();
      return { width, height };
    },
    back: async (ctx, req) => {
      sessionOf(req);
      await keyevent(ctx, 4);
      return null;
    },
    pressKeycode: async (ctx, req) => {
      sessionOf(req);
      await keyevent(ctx, req.body['keycode']);
      return null;
    },
    longPressKeycode: async (ctx, req) => {
      sessionOf(req);
      await keyevent(ctx, req.body['keycode'], true);
      return null;
    },
    deviceInfo: (ctx, req) => {
      sessionOf(req);
      return deviceInfo(ctx.state);
    },
    pixelRatio: (ctx, req) => {
      sessionOf(req);
      return ctx.state.screen.size().density / 160;
    },
    displayDensity: (ctx, req) => {
      sessionOf(req);
      return ctx.state.screen.size().density;
    },
    systemBars: (ctx, req) => {
      sessionOf(req);
      return { statusBar: statusBarHeight(ctx.state) };
    },
    getSettings: (_ctx, req) => sessionOf(req).settings,
    updateSettings: (_ctx, req) => {
      const session = sessionOf(req);
      const s = req.body['settings'];
      if (typeof s !== 'object' || s === null || Array.isArray(s))
        throw new W3cError('invalid argument', "'settings' must be an object");
      for (const [k, v] of Object.entries(s)) if (k in session.settings) session.settings[k] = v;
      return null;
    },
    getOrientation: (ctx, req) => {
      sessionOf(req);
      return rotation(ctx.state) % 2 === 0 ? 'PORTRAIT' : 'LANDSCAPE';
    },
    setOrientation: (ctx, req) => {
      sessionOf(req);
      const o = String(req.body['orientation'] ?? '').toUpperCase();
      if (o !== 'PORTRAIT' && o !== 'LANDSCAPE')
        throw new W3cError('invalid argument', `Unknown orientation '${String(req.body['orientation'])}'`);
      // UiDevice freezes the rotation: auto-rotate off, the user rotation set.
      ctx.state.system.put('system', 'accelerometer_rotation', '0');
      ctx.state.system.put('system', 'user_rotation', o === 'PORTRAIT' ? '0' : '1');
      return o;
    },
    getTimeouts: (_ctx, req) => ({ implicit: sessionOf(req).implicitWaitMs }),
    setTimeouts: (_ctx, req) => {
      const session = sessionOf(req);
      const { implicit, type, ms } = req.body;
      const value = typeof implicit === 'number' ? implicit : type === 'implicit' ? ms : undefined;
      if (value !== undefined) {
        if (typeof value !== 'number' || value < 0)
          throw new W3cError('invalid argument', "'implicit' must be a non-negative number");
        session.implicitWaitMs = value;
      }
      return null;
    },
    currentPackage: (ctx, req) => {
      sessionOf(req);
      return ctx.state.apps.foregroundPackage ?? '';
    },
    currentActivity: (ctx, req) => {
      sessionOf(req);
      const fg = ctx.state.apps.foreground ? fullComponent(ctx.state.apps.foreground) : '';
      return fg.split('/')[1] ?? '';
    },
    actions: async (ctx, req) => {
      sessionOf(req);
      await performActions(ctx, req.body['actions']);
      return null;
    },
  };
}

/** A gesture's point: the element's centre, the element's corner plus an offset, or a screen point. */
function gesturePoint(
  ctx: Uia2Context,
  session: Uia2Session,
  body: Record<string, unknown>,
): [number, number] {
  const origin = body['origin'] as Record<string, unknown> | undefined;
  const offset = body['offset'] as { x?: unknown; y?: unknown } | undefined;
  const id = origin ? (origin[ELEMENT_KEY] ?? origin['ELEMENT']) : undefined;
  if (typeof id === 'string') {
    const b = bounds(resolveElement(ctx, session, id));
    if (offset && typeof offset.x === 'number' && typeof offset.y === 'number')
      return [b.x + offset.x, b.y + offset.y];
    return [Math.round(b.x + b.width / 2), Math.round(b.y + b.height / 2)];
  }
  if (offset && typeof offset.x === 'number' && typeof offset.y === 'number') return [offset.x, offset.y];
  throw new W3cError('invalid argument', 'A gesture needs an element origin or an offset with x and y');
}

/** The area a swipe or scroll gesture works in: an element's bounds or the given rectangle. */
function gestureArea(ctx: Uia2Context, session: Uia2Session, body: Record<string, unknown>) {
  const origin = body['origin'] as Record<string, unknown> | undefined;
  const id = origin ? (origin[ELEMENT_KEY] ?? origin['ELEMENT']) : undefined;
  if (typeof id === 'string') return bounds(resolveElement(ctx, session, id));
  const a = body['area'] as Record<string, unknown> | undefined;
  if (a && ['left', 'top', 'width', 'height'].every((k) => typeof a[k] === 'number'))
    return {
      x: a['left'] as number,
      y: a['top'] as number,
      width: a['width'] as number,
      height: a['height'] as number,
    };
  throw new W3cError('invalid argument', 'A swipe or scroll needs an element origin or an area');
}

function gestureCommands(): Record<string, Uia2Command> {
  const tapAt = (ctx: Uia2Context, [x, y]: [number, number]) =>
    input(ctx, ['tap', String(Math.round(x)), String(Math.round(y))]);
  return {
    clickGesture: async (ctx, req) => {
      await tapAt(ctx, gesturePoint(ctx, sessionOf(req), req.body));
      return null;
    },
    doubleClickGesture: async (ctx, req) => {
      const p = gesturePoint(ctx, sessionOf(req), req.body);
      await tapAt(ctx, p);
      await tapAt(ctx, p);
      return null;
    },
    longClickGesture: async (ctx, req) => {
      const [x, y] = gesturePoint(ctx, sessionOf(req), req.body);
      const ms = typeof req.body['duration'] === 'number' ? req.body['duration'] : 500;
      await input(ctx, ['swipe', ...[x, y, x, y, ms].map((v) => String(Math.round(v)))]);
      return null;
    },
    swipeGesture: async (ctx, req) => {
      const { x, y, width, height } = gestureArea(ctx, sessionOf(req), req.body);
      const dir = String(req.body['direction'] ?? '').toLowerCase();
      const percent = typeof req.body['percent'] === 'number' ? req.body['percent'] : Number.NaN;
      if (!['up', 'down', 'left', 'right'].includes(dir) || !(percent > 0 && percent <= 1))
        throw new W3cError(
          'invalid argument',
          "'direction' must be up, down, left or right and 'percent' in (0, 1]",
        );
      const cx = x + width / 2;
      const cy = y + height / 2;
      const dx = dir === 'left' ? -1 : dir === 'right' ? 1 : 0;
      const dy = dir === 'up' ? -1 : dir === 'down' ? 1 : 0;
      const hx = (width * percent) / 2;
      const hy = (height * percent) / 2;
      const line = [cx - dx * hx, cy - dy * hy, cx + dx * hx, cy + dy * hy].map((v) => String(Math.round(v)));
      await input(ctx, ['swipe', ...line]);
      return null;
    },
    // The simulated screens fit on one page: there is never anything further to scroll to.
    scrollGesture: (ctx, req) => {
      gestureArea(ctx, sessionOf(req), req.body);
      return false;
    },
    elementScreenshot: (ctx, req) => {
      const b = bounds(resolveElement(ctx, sessionOf(req), req.params[0]));
      const { width, height } = ctx.state.screen.size();
      const l = Math.max(0, Math.min(width, b.x));
      const t = Math.max(0, Math.min(height, b.y));
      const w = Math.max(1, Math.min(width, b.x + b.width) - l);
      const h = Math.max(1, Math.min(height, b.y + b.height) - t);
      const full = paintScreen(ctx.screen(ctx.state), width, height);
      const crop = Buffer.alloc(w * h * 3);
      for (let row = 0; row < h; row++)
        full.copy(crop, row * w * 3, ((t + row) * width + l) * 3, ((t + row) * width + l + w) * 3);
      return encodePng(w, h, crop).toString('base64');
    },
  };
}

/** A dialog on screen, found as the server finds alerts: by the platform's alert title, message and buttons. */
function alertOnScreen(ctx: Uia2Context): { text: string; button1?: UiElement; button2?: UiElement } {
  const all = descendants(currentSnapshot(ctx));
  const byId = (id: string) => all.find((e) => attr(e, 'resource-id') === `android:id/${id}`);
  const message = byId('message') ?? byId('alertTitle');
  const button1 = byId('button1');
  const button2 = byId('button2');
  if (!message && !button1)
    throw new W3cError(
      'no such alert',
      'An attempt was made to operate on a modal dialog when one was not open',
    );
  return {
    text: attr(message ?? button1!, 'text') ?? '',
    ...(button1 ? { button1 } : {}),
    ...(button2 ? { button2 } : {}),
  };
}

function alertCommands(): Record<string, Uia2Command> {
  const press = async (ctx: Uia2Context, req: Uia2Request, which: 'button1' | 'button2') => {
    sessionOf(req);
    const alert = alertOnScreen(ctx);
    const button = alert[which] ?? alert.button1;
    if (!button) throw new W3cError('unknown error', 'The dialog has no button to press');
    await tapCentre(ctx, button);
    return null;
  };
  return {
    alertText: (ctx, req) => {
      sessionOf(req);
      return alertOnScreen(ctx).text;
    },
    acceptAlert: (ctx, req) => press(ctx, req, 'button1'),
    dismissAlert: (ctx, req) => press(ctx, req, 'button2'),
    batteryInfo: (ctx, req) => {
      sessionOf(req);
      // BatteryManager's states: 2 charging, 3 discharging, 5 full.
      const s = ctx.state;
      return { level: s.batteryLevel / 100, state: s.batteryLevel >= 100 ? 5 : s.batteryPlugged ? 2 : 3 };
    },
  };
}

/** W3C pointer actions reduced to what the phone's input knows: a tap, or a swipe when the finger moved. */
async function performActions(ctx: Uia2Context, actions: unknown): Promise<void> {
  if (!Array.isArray(actions)) throw new W3cError('invalid argument', "'actions' must be an array");
  for (const source of actions as { type?: string; actions?: Record<string, unknown>[] }[]) {
    if (source.type !== 'pointer') continue;
    let x = 0;
    let y = 0;
    let down: [number, number] | undefined;
    for (const a of source.actions ?? []) {
      if (a['type'] === 'pointerMove') {
        x = Number(a['x'] ?? 0);
        y = Number(a['y'] ?? 0);
      } else if (a['type'] === 'pointerDown') down = [x, y];
      else if (a['type'] === 'pointerUp' && down) {
        const args =
          Math.hypot(x - down[0], y - down[1]) < 10
            ? ['tap', String(down[0]), String(down[1])]
            : ['swipe', ...[down[0], down[1], x, y].map(String)];
        await input(ctx, args);
        down = undefined;
      }
    }
  }
}

/** Every command by name. */
export const COMMANDS: Record<string, Uia2Command> = {
  ...sessionCommands(),
  ...elementCommands(),
  ...deviceCommands(),
  ...gestureCommands(),
  ...alertCommands(),
};

/** The phone's screen model, the default screen of the server. */
export const phoneScreen: (state: DeviceState) => UiNode | undefined = screenTree;
