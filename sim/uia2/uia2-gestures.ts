import { encodePng, paintScreen } from '../phone/screen-png.js';
import { attr, descendants, type UiElement } from './ui-element.js';
import {
  bounds,
  currentSnapshot,
  ELEMENT_KEY,
  input,
  resolveElement,
  sessionOf,
  tapCentre,
  type Uia2Command,
  type Uia2Context,
  type Uia2Request,
  type Uia2Session,
} from './uia2-context.js';
import { W3cError } from './w3c-error.js';

/** A gesture's point: the element's centre, the element's corner plus an offset, or a screen point. */
export function gesturePoint(
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
export function gestureArea(ctx: Uia2Context, session: Uia2Session, body: Record<string, unknown>) {
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

export function gestureCommands(): Record<string, Uia2Command> {
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
export function alertOnScreen(ctx: Uia2Context): { text: string; button1?: UiElement; button2?: UiElement } {
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

export function alertCommands(): Record<string, Uia2Command> {
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
export async function performActions(ctx: Uia2Context, actions: unknown): Promise<void> {
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
