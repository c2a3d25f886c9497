/**
 * The commands of the on-phone UiAutomator2 server (UIA2.md §3): sessions, finding elements and
 * acting on them, page source, screenshot, device facts, keys, orientation, settings, timeouts. Each
 * command reads a fresh snapshot of the phone's screen; elements are cached by uuid and re-found by
 * their identity, so an element that left the screen is a stale element reference.
 */
import { randomUUID } from 'node:crypto';
import { fullComponent } from '../phone/component-name.js';
import type { DeviceState } from '../phone/device-state.js';
import { screenTree } from '../phone/screen-model.js';
import { encodePng, paintScreen } from '../phone/screen-png.js';
import type { UiNode } from '../phone/ui-node.js';
import { LocatorError, locate } from './locators.js';
import { attr, isEditable, pageSourceXml, type UiElement } from './ui-element.js';
import {
  bounds,
  currentSnapshot,
  delay,
  elementRef,
  keyevent,
  resolveElement,
  rotation,
  sessionOf,
  statusBarHeight,
  tapCentre,
  type Uia2Command,
  type Uia2Context,
  type Uia2Request,
  type Uia2Session,
} from './uia2-context.js';
import { alertCommands, gestureCommands, performActions } from './uia2-gestures.js';
import { MESSAGES, W3cError } from './w3c-error.js';

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
