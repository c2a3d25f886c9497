/**
 * The UiAutomator2 server inside the simulated phone. Appium's UiAutomator2 driver starts it with
 * `am instrument -w … io.appium.uiautomator2.server.test/androidx.test.runner.AndroidJUnitRunner` and
 * talks HTTP to phone port 6790 through `adb forward`; this hook plays that instrumentation: it serves
 * the W3C WebDriver subset of the real server (UIA2.md §2–§4) over node:http, fed with the phone's
 * port connections (keep-alive, concurrent), until the instrumentation ends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import type { InstrumentHook, InstrumentRun } from '../phone/command.js';
import type { DeviceState } from '../phone/device-state.js';
import type { UiNode } from '../phone/ui-node.js';
import { COMMANDS, phoneScreen } from './uia2-commands.js';
import type { Uia2Context, Uia2Request } from './uia2-context.js';
import { errorBody, MESSAGES, W3cError } from './w3c-error.js';

/** The instrumentation Appium starts. */
export const UIA2_INSTRUMENTATION =
  'io.appium.uiautomator2.server.test/androidx.test.runner.AndroidJUnitRunner';
/** The phone port the server listens on. */
export const UIA2_PORT = 6790;

/** Options of the UiAutomator2 server. */
export interface Uia2Options {
  /** The screen's view tree (default: the phone's screen model). */
  screen?: (state: DeviceState) => UiNode | undefined;
  /** How long after DELETE /session the instrumentation ends, in ms (the real server: about 15). */
  shutdownDelayMs?: number;
  /** Receives one line per request ("GET /status 200 3ms"), for debugging. */
  log?: (line: string) => void;
}

/**
 * Commands after which the real server waits for the screen to be idle (UiAutomator's waitForIdle):
 * a tap or key that opens a screen answers once its transition has played.
 */
const SCREEN_CHANGING = new Set(['click', 'back', 'pressKeycode', 'longPressKeycode', 'actions']);
/** An activity transition at animation scale 1, in ms (Android's stock transitions take 250 to 400). */
export const TRANSITION_MS = 300;

/**
 * How long a screen-changing command waits for the screen to settle: the transition at the phone's
 * `transition_animation_scale` (no wait with animations off, by the setting or by the instrumentation's
 * `--no-window-animation`), never longer than the session's waitForIdleTimeout.
 */
export function settleMs(
  state: DeviceState,
  noWindowAnimation: boolean,
  waitForIdleTimeout: unknown,
): number {
  if (noWindowAnimation) return 0;
  // As Android reads the setting: an unreadable value counts as 1, the scale is held within 0 to 20.
  const raw = Number.parseFloat(state.system.get('global', 'transition_animation_scale') ?? '1');
  const scale = Number.isFinite(raw) ? Math.min(Math.max(raw, 0), 20) : 1;
  if (scale === 0) return 0;
  const cap = typeof waitForIdleTimeout === 'number' && waitForIdleTimeout >= 0 ? waitForIdleTimeout : 10_000;
  return Math.min(Math.round(TRANSITION_MS * scale), cap);
}

/** A route: method, path pattern (parameters as groups), command name, whether it needs a session. */
type Route = [method: string, pattern: RegExp, command: string, session: boolean];

const S = '/session/([^/]+)';
const E = `${S}/element/([^/]+)`;
const ROUTES: Route[] = [
  ['GET', /^\/status$/, 'status', false],
  ['GET', /^\/sessions$/, 'sessions', false],
  ['POST', /^\/session$/, 'newSession', false],
  ['GET', re(`${S}`), 'getSession', true],
  ['DELETE', re(`${S}`), 'deleteSession', true],
  ['POST', re(`${S}/element`), 'findElement', true],
  ['POST', re(`${S}/elements`), 'findElements', true],
  ['POST', re(`${E}/element`), 'findChildElement', true],
  ['POST', re(`${E}/elements`), 'findChildElements', true],
  ['POST', re(`${E}/click`), 'click', true],
  ['POST', re(`${E}/clear`), 'clear', true],
  ['POST', re(`${E}/value`), 'sendKeys', true],
  ['GET', re(`${E}/text`), 'text', true],
  ['GET', re(`${E}/attribute/([^/]+)`), 'attribute', true],
  ['GET', re(`${E}/name`), 'name', true],
  ['GET', re(`${E}/rect`), 'rect', true],
  ['GET', re(`${E}/location`), 'location', true],
  ['GET', re(`${E}/size`), 'size', true],
  ['GET', re(`${E}/displayed`), 'displayed', true],
  ['GET', re(`${E}/enabled`), 'enabled', true],
  ['GET', re(`${E}/selected`), 'selected', true],
  ['GET', re(`${S}/source`), 'source', true],
  ['GET', re(`${S}/screenshot`), 'screenshot', true],
  ['GET', re(`${S}/window/([^/]+)/size`), 'windowSize', true],
  ['POST', re(`${S}/back`), 'back', true],
  ['POST', re(`${S}/appium/device/press_keycode`), 'pressKeycode', true],
  ['POST', re(`${S}/appium/device/long_press_keycode`), 'longPressKeycode', true],
  ['GET', re(`${S}/appium/device/info`), 'deviceInfo', true],
  ['GET', re(`${S}/appium/device/pixel_ratio`), 'pixelRatio', true],
  ['GET', re(`${S}/appium/device/display_density`), 'displayDensity', true],
  ['GET', re(`${S}/appium/device/system_bars`), 'systemBars', true],
  ['GET', re(`${S}/appium/device/current_package`), 'currentPackage', true],
  ['GET', re(`${S}/appium/device/current_activity`), 'currentActivity', true],
  ['GET', re(`${S}/appium/settings`), 'getSettings', true],
  ['POST', re(`${S}/appium/settings`), 'updateSettings', true],
  ['GET', re(`${S}/orientation`), 'getOrientation', true],
  ['POST', re(`${S}/orientation`), 'setOrientation', true],
  ['GET', re(`${S}/timeouts`), 'getTimeouts', true],
  ['POST', re(`${S}/timeouts`), 'setTimeouts', true],
  ['POST', re(`${S}/actions`), 'actions', true],
  ['GET', re(`${E}/screenshot`), 'elementScreenshot', true],
  ['GET', re(`${S}/alert/text`), 'alertText', true],
  ['POST', re(`${S}/alert/accept`), 'acceptAlert', true],
  ['POST', re(`${S}/alert/dismiss`), 'dismissAlert', true],
  ['GET', re(`${S}/appium/device/battery_info`), 'batteryInfo', true],
  ['POST', re(`${S}/appium/gestures/click`), 'clickGesture', true],
  ['POST', re(`${S}/appium/gestures/double_click`), 'doubleClickGesture', true],
  ['POST', re(`${S}/appium/gestures/long_click`), 'longClickGesture', true],
  ['POST', re(`${S}/appium/gestures/swipe`), 'swipeGesture', true],
  ['POST', re(`${S}/appium/gestures/scroll`), 'scrollGesture', true],
];

function re(path: string): RegExp {
  return new RegExp(`^${path}$`);
}

/** The server of one instrumentation run. */
export interface Uia2Server {
  /** Serves HTTP on a connection to the phone port. */
  accept(stream: Duplex): void;
  /** Stops: open connections are closed, pending waits end. */
  close(): void;
}

/** Builds the HTTP server over a phone's state (not yet reachable: feed it connections with accept()). */
export function createUia2Server(
  state: DeviceState,
  opts: Uia2Options & {
    /** Runs a shell line on the phone (the instrumentation's run.exec). */
    exec: Uia2Context['exec'];
    /** Called after DELETE /session. */
    onSessionDeleted?: () => void;
    /** The instrumentation runs with `--no-window-animation`. */
    noWindowAnimation?: boolean;
  },
): Uia2Server {
  const stopped = new AbortController();
  const ctx: Uia2Context = {
    state,
    screen: opts.screen ?? phoneScreen,
    sessions: new Map(),
    typed: state.screen.typed,
    signal: stopped.signal,
    exec: opts.exec,
    onSessionDeleted: () => opts.onSessionDeleted?.(),
  };
  const streams = new Set<Duplex>();

  const reply = (res: ServerResponse, status: number, body: string) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = Date.now();
    const method = req.method ?? 'GET';
    // The real server also accepts the legacy /wd/hub prefix.
    const path = (req.url ?? '/')
      .split('?')[0]!
      .replace(/^\/wd\/hub(?=\/)/, '')
      .replace(/(.)\/$/, '$1');
    let sessionId: string | null = null;
    let status = 200;
    try {
      const raw = await readBody(req, stopped.signal);
      const match = ROUTES.map((r) => [r, r[1].exec(path)] as const).find(([r, m]) => m && r[0] === method);
      if (!match) throw new W3cError('unknown command', MESSAGES.unknownCommand);
      const [[, , name, needsSession], m] = match;
      const params = m!.slice(1);
      let body: Record<string, unknown> = {};
      if (raw.trim() !== '') {
        let parsed: unknown;
        try {
          parsed = JSON.parse(raw);
        } catch {
          throw new W3cError('invalid argument', `The request body is not valid JSON: ${raw.slice(0, 100)}`);
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new W3cError('invalid argument', 'The request body must be a JSON object');
        body = parsed as Record<string, unknown>;
      }
      const request: Uia2Request = {
        params: needsSession ? params.slice(1) : params,
        body,
        session: undefined,
      };
      if (needsSession) {
        sessionId = params[0] ?? null;
        request.session = ctx.sessions.get(sessionId ?? '');
        if (!request.session)
          throw new W3cError(
            'invalid session id',
            `A session with id '${sessionId}' is either terminated or not started`,
          );
      }
      const value = await COMMANDS[name]!(ctx, request);
      if (SCREEN_CHANGING.has(name)) {
        const ms = settleMs(
          state,
          opts.noWindowAnimation === true,
          request.session?.settings['waitForIdleTimeout'],
        );
        if (ms > 0) await delay(ms, undefined, { signal: stopped.signal }).catch(() => {});
      }
      if (name === 'newSession') sessionId = (value as { sessionId: string }).sessionId;
      reply(res, 200, JSON.stringify({ sessionId, value: value === undefined ? null : value }));
    } catch (e) {
      const err = e instanceof W3cError ? e : new W3cError('unknown error', errorMessage(e));
      status = err.status;
      reply(res, err.status, errorBody(sessionId, err));
    } finally {
      opts.log?.(`${method} ${path} ${status} ${Date.now() - started}ms`);
    }
  };

  const http = createServer((req, res) => {
    void handle(req, res);
  });
  // Keep idle connections open as the real server does: the driver's agent reuses them at any time.
  http.keepAliveTimeout = 0;
  http.headersTimeout = 0;
  http.requestTimeout = 0;

  return {
    accept(stream) {
      if (stopped.signal.aborted) {
        stream.destroy();
        return;
      }
      streams.add(stream);
      stream.once('close', () => streams.delete(stream));
      stream.on('error', () => {});
      http.emit('connection', stream);
    },
    close() {
      if (stopped.signal.aborted) return;
      stopped.abort();
      for (const s of streams) s.destroy();
      streams.clear();
      http.close();
    },
  };
}

function readBody(req: IncomingMessage, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onAbort = () => reject(new W3cError('unknown error', 'The server is shutting down'));
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size <= 64 * 1024 * 1024) chunks.push(d);
    });
    req.on('end', () => {
      signal.removeEventListener('abort', onAbort);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
  });
}

/**
 * The instrument hook that plays the UiAutomator2 server: for Appium's instrumentation it listens on
 * phone port 6790 until the run ends (am force-stop, the adb client gone, reboot, or DELETE /session,
 * after which the real server finishes its instrumentation). Other instrumentations go to `next`.
 */
export function uia2InstrumentHook(opts: Uia2Options & { next?: InstrumentHook } = {}): InstrumentHook {
  return (run: InstrumentRun) => {
    if (run.component !== UIA2_INSTRUMENTATION) return opts.next?.(run);
    if (run.signal.aborted) return;
    let shutdown: NodeJS.Timeout | undefined;
    const server = createUia2Server(run.state, {
      ...opts,
      exec: (line) => run.exec(line),
      noWindowAnimation: run.noWindowAnimation,
      onSessionDeleted: () => {
        clearTimeout(shutdown);
        shutdown = setTimeout(() => run.finish(), opts.shutdownDelayMs ?? 15);
      },
    });
    const unlisten = run.listen(UIA2_PORT, (stream) => server.accept(stream));
    run.signal.addEventListener(
      'abort',
      () => {
        clearTimeout(shutdown);
        unlisten();
        server.close();
      },
      { once: true },
    );
    run.print('INSTRUMENTATION_STATUS: class=io.appium.uiautomator2.server.test.AppiumUiAutomator2Server');
    run.print('INSTRUMENTATION_STATUS: current=1');
    run.print('INSTRUMENTATION_STATUS: id=AndroidJUnitRunner');
    run.print('INSTRUMENTATION_STATUS: numtests=1');
    run.print('INSTRUMENTATION_STATUS: stream=');
    run.print('io.appium.uiautomator2.server.test.AppiumUiAutomator2Server:');
    run.print('INSTRUMENTATION_STATUS: test=startServer');
    run.print('INSTRUMENTATION_STATUS_CODE: 1');
  };
}
