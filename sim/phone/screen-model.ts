/**
 * What is on the simulated phone's screen, as a tree of views: the keyguard, the home screen with app
 * icons, an app with a title bar and a few rows, or PCAPdroid's consent dialog. `uiautomator dump`,
 * `screencap` and `input tap` all read this one model, so what a test sees is what a tap hits.
 */
import { createHash } from 'node:crypto';
import { fullComponent } from './component-name.js';
import type { DeviceState } from './device-state.js';
import { CAPTURE_CTRL } from './pcapdroid.js';
import { phoneZone, wallClock } from './phone-clock.js';
import type { ConsentToggle } from './profile.js';
import { consentOfSetting, type ScreenSpec, type ScreenTap, type ViewSpec } from './screens.js';

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

/** One view on screen. */
export interface UiNode {
  /** Android widget class. */
  cls: string;
  /** Package that owns the view. */
  pkg: string;
  /** Text shown ("" for none). */
  text: string;
  /** Content description. */
  desc?: string;
  /** Resource id ("pkg:id/name"). */
  resourceId?: string;
  /** [left, top, right, bottom] in pixels. */
  bounds: readonly [number, number, number, number];
  /** Reacts to taps. */
  clickable: boolean;
  /** A switch or check box. */
  checkable?: boolean;
  /** Its state, when checkable. */
  checked?: boolean;
  /** A scrolling list (RecyclerView, ListView, ScrollView). */
  scrollable?: boolean;
  /** False for a greyed-out view that ignores taps (enabled when absent). */
  enabled?: boolean;
  /** Fill colour when drawn (transparent when absent). */
  fill?: Rgb;
  /** What a tap does: a named action the input command performs. */
  onTap?: ScreenAction;
  /** Child views. */
  children: UiNode[];
}

/** Actions a tap can trigger. */
export type ScreenAction =
  | { kind: 'launch'; component: string }
  | { kind: 'unlock' }
  | { kind: 'pcapdroid-consent'; allow: boolean }
  | { kind: 'back' }
  /** Flips a consent switch on the Settings screen. */
  | { kind: 'toggle'; consent: ConsentToggle }
  /** Signs the vendor account in (or out). */
  | { kind: 'account' }
  /** "Back up now". */
  | { kind: 'backup-now' };

/** A colour derived from a package name, so every app looks different but stable. */
export function appColour(pkg: string): Rgb {
  const h = createHash('md5').update(pkg).digest();
  return [64 + (h[0]! % 160), 64 + (h[1]! % 160), 64 + (h[2]! % 160)];
}

const WHITE: Rgb = [250, 250, 250];
const DARK: Rgb = [24, 24, 28];

function node(partial: Partial<UiNode> & Pick<UiNode, 'cls' | 'pkg' | 'bounds'>): UiNode {
  return { text: '', clickable: false, children: [], ...partial };
}

/** The screen's view tree, or undefined when the display is off. */
export function screenTree(state: DeviceState): UiNode | undefined {
  if (!state.screen.on) return undefined;
  const { width: w, height: h, density } = state.screen.size();
  const dp = (n: number) => Math.round((n * density) / 160);
  const statusH = dp(24);
  const navH = dp(48);
  const statusBar = node({
    cls: 'android.widget.FrameLayout',
    pkg: 'com.android.systemui',
    resourceId: 'com.android.systemui:id/status_bar',
    bounds: [0, 0, w, statusH],
    fill: DARK,
    children: [
      node({
        cls: 'android.widget.TextView',
        pkg: 'com.android.systemui',
        resourceId: 'com.android.systemui:id/clock',
        text: clockText(state),
        bounds: [dp(16), dp(4), dp(64), statusH - dp(4)],
        fill: [200, 200, 200],
      }),
    ],
  });
  const root = (pkg: string, children: UiNode[], fill: Rgb) =>
    node({ cls: 'android.widget.FrameLayout', pkg, bounds: [0, 0, w, h], fill, children });

  if (state.screen.locked) {
    return root(
      'com.android.systemui',
      [
        statusBar,
        node({
          cls: 'android.widget.TextView',
          pkg: 'com.android.systemui',
          resourceId: 'com.android.systemui:id/lockscreen_clock_view',
          text: clockText(state),
          bounds: [dp(40), dp(160), w - dp(40), dp(260)],
          fill: [230, 230, 240],
        }),
        node({
          cls: 'android.widget.TextView',
          pkg: 'com.android.systemui',
          resourceId: 'com.android.systemui:id/keyguard_indication_text',
          text: state.profile.screen.lock === 'pin' ? 'Enter PIN' : 'Swipe up to unlock',
          bounds: [dp(60), h - navH - dp(80), w - dp(60), h - navH - dp(48)],
          clickable: state.profile.screen.lock !== 'pin',
          fill: [90, 90, 110],
          ...(state.profile.screen.lock !== 'pin' ? { onTap: { kind: 'unlock' as const } } : {}),
        }),
      ],
      [16, 20, 48],
    );
  }

  const fg = state.apps.foreground;
  const fgPkg = fg?.split('/')[0] ?? '';
  const content: UiNode[] = [statusBar];
  const home = fg === undefined || fg === homeComponent(state);
  if (home) {
    const apps = [...state.apps.packages.values()]
      .filter((p) => p.launchActivity && p.name !== fgPkg)
      .slice(0, 20);
    const cols = 4;
    const cell = Math.floor(w / cols);
    apps.forEach((p, i) => {
      const x = (i % cols) * cell;
      const y = statusH + dp(96) + Math.floor(i / cols) * dp(104);
      content.push(
        node({
          cls: 'android.widget.TextView',
          pkg: fgPkg || 'launcher',
          text: p.label,
          desc: p.label,
          resourceId: `${fgPkg}:id/icon`,
          bounds: [x + dp(12), y, x + cell - dp(12), y + dp(88)],
          clickable: true,
          fill: appColour(p.name),
          onTap: { kind: 'launch', component: p.launchActivity! },
        }),
      );
    });
  } else if (fg !== undefined && state.profile.screens?.[fg]) {
    content.push(...dataScreen(state, fgPkg, state.profile.screens[fg]!, statusH, h - navH));
  } else {
    const pkg = state.apps.packages.get(fgPkg);
    const colour = appColour(fgPkg);
    content.push(
      node({
        cls: 'android.widget.TextView',
        pkg: fgPkg,
        resourceId: 'android:id/title',
        text: pkg?.label ?? fgPkg,
        bounds: [0, statusH, w, statusH + dp(64)],
        fill: colour,
      }),
    );
    const rows = fg !== undefined && fg === privacyScreen(state) ? privacyRows(state) : [];
    rows.forEach((r, i) => {
      const top = statusH + dp(80) + i * dp(72);
      const label = node({
        cls: 'android.widget.TextView',
        pkg: fgPkg,
        resourceId: 'android:id/title',
        text: r.text,
        bounds: [dp(32), top + dp(16), Math.round(w * 0.7), top + dp(44)],
        fill: [60, 60, 60],
      });
      const children = [label];
      if (r.checked !== undefined) {
        children.push(
          node({
            cls: 'android.widget.Switch',
            pkg: fgPkg,
            resourceId: 'android:id/switch_widget',
            text: r.checked ? 'ON' : 'OFF',
            desc: r.text,
            bounds: [w - dp(88), top + dp(14), w - dp(32), top + dp(46)],
            checkable: true,
            checked: r.checked,
            fill: r.checked ? [26, 115, 232] : [180, 180, 180],
          }),
        );
      }
      content.push(
        node({
          cls: 'android.widget.LinearLayout',
          pkg: fgPkg,
          resourceId: `${fgPkg}:id/privacy_row`,
          bounds: [dp(16), top, w - dp(16), top + dp(60)],
          clickable: true,
          fill: [236, 238, 242],
          onTap: r.action,
          children,
        }),
      );
    });
    for (let i = rows.length; i < 5; i++) {
      const top = statusH + dp(80) + i * dp(72);
      content.push(
        node({
          cls: 'android.widget.LinearLayout',
          pkg: fgPkg,
          resourceId: `${fgPkg}:id/row`,
          bounds: [dp(16), top, w - dp(16), top + dp(60)],
          clickable: true,
          fill: [colour[0] / 4 + 180, colour[1] / 4 + 180, colour[2] / 4 + 180].map(
            Math.round,
          ) as unknown as Rgb,
          children: [
            node({
              cls: 'android.widget.TextView',
              pkg: fgPkg,
              resourceId: 'android:id/summary',
              text: `${pkg?.label ?? fgPkg} item ${i + 1}`,
              bounds: [dp(32), top + dp(16), w / 2, top + dp(44)],
              fill: [120, 120, 120],
            }),
          ],
        }),
      );
    }
    if (fg === CAPTURE_CTRL && state.pcapdroid.consentPending) {
      const top = Math.round(h / 2 - dp(110));
      content.push(
        node({
          cls: 'android.widget.FrameLayout',
          pkg: fgPkg,
          resourceId: 'android:id/parentPanel',
          bounds: [dp(24), top, w - dp(24), top + dp(220)],
          fill: WHITE,
          children: [
            node({
              cls: 'android.widget.TextView',
              pkg: fgPkg,
              resourceId: 'android:id/alertTitle',
              text: 'PCAPdroid',
              bounds: [dp(48), top + dp(20), w - dp(48), top + dp(52)],
              fill: DARK,
            }),
            node({
              cls: 'android.widget.TextView',
              pkg: fgPkg,
              resourceId: 'android:id/message',
              text: 'Allow the app "Shell" to control PCAPdroid? It will be able to start and stop the capture.',
              bounds: [dp(48), top + dp(64), w - dp(48), top + dp(140)],
              fill: [90, 90, 90],
            }),
            node({
              cls: 'android.widget.Button',
              pkg: fgPkg,
              resourceId: 'android:id/button2',
              text: 'Deny',
              bounds: [w - dp(232), top + dp(160), w - dp(140), top + dp(204)],
              clickable: true,
              fill: [220, 220, 220],
              onTap: { kind: 'pcapdroid-consent', allow: false },
            }),
            node({
              cls: 'android.widget.Button',
              pkg: fgPkg,
              resourceId: 'android:id/button1',
              text: 'Allow',
              bounds: [w - dp(128), top + dp(160), w - dp(40), top + dp(204)],
              clickable: true,
              fill: [26, 115, 232],
              onTap: { kind: 'pcapdroid-consent', allow: true },
            }),
          ],
        }),
      );
    }
  }
  content.push(
    node({
      cls: 'android.widget.FrameLayout',
      pkg: 'com.android.systemui',
      resourceId: 'com.android.systemui:id/navigation_bar_frame',
      bounds: [0, h - navH, w, h],
      fill: DARK,
      children: [
        node({
          cls: 'android.widget.ImageView',
          pkg: 'com.android.systemui',
          resourceId: 'com.android.systemui:id/back',
          desc: 'Back',
          bounds: [dp(48), h - navH + dp(8), dp(96), h - dp(8)],
          clickable: true,
          fill: [160, 160, 160],
          onTap: { kind: 'back' },
        }),
        node({
          cls: 'android.widget.ImageView',
          pkg: 'com.android.systemui',
          resourceId: 'com.android.systemui:id/home',
          desc: 'Home',
          bounds: [Math.round(w / 2 - dp(24)), h - navH + dp(8), Math.round(w / 2 + dp(24)), h - dp(8)],
          clickable: true,
          fill: [200, 200, 200],
          onTap: { kind: 'launch', component: homeComponent(state) },
        }),
      ],
    }),
  );
  return root(fgPkg || 'com.android.systemui', content, home ? [40, 60, 90] : WHITE);
}

const ROW_FILL: Rgb = [236, 238, 242];
const ACCENT: Rgb = [26, 115, 232];
const SWITCH_OFF: Rgb = [180, 180, 180];

/** Usual heights (dp) of leaf views, by class, when the data gives none. */
const LEAF_HEIGHT: Record<string, number> = {
  'android.widget.TextView': 24,
  'android.widget.Button': 48,
  'android.widget.Switch': 32,
  'android.widget.CheckBox': 32,
  'android.widget.ProgressBar': 8,
};

interface LayoutContext {
  state: DeviceState;
  pkg: string;
  dp: (n: number) => number;
}

/** An activity described as data (screens.ts): action bar, then its views laid out top to bottom. */
function dataScreen(
  state: DeviceState,
  pkg: string,
  screen: ScreenSpec,
  top: number,
  bottom: number,
): UiNode[] {
  const { width: w, density } = state.screen.size();
  const dp = (n: number) => Math.round((n * density) / 160);
  const ctx: LayoutContext = { state, pkg, dp };
  const barH = dp(64);
  const bar: UiNode[] = [];
  if (screen.up !== undefined)
    bar.push(
      node({
        cls: 'android.widget.ImageButton',
        pkg,
        desc: 'Navigate up',
        bounds: [dp(4), top + dp(8), dp(52), top + dp(56)],
        clickable: true,
        fill: [90, 90, 90],
        onTap: { kind: 'launch', component: fullComponent(screen.up) },
      }),
    );
  bar.push(
    node({
      cls: 'android.widget.TextView',
      pkg,
      resourceId: 'android:id/title',
      text: screen.title,
      bounds: [screen.up !== undefined ? dp(68) : dp(16), top + dp(16), w - dp(16), top + dp(48)],
    }),
  );
  const out: UiNode[] = [
    node({
      cls: 'android.view.ViewGroup',
      pkg,
      resourceId: `${pkg}:id/action_bar`,
      bounds: [0, top, w, top + barH],
      fill: appColour(pkg),
      children: bar,
    }),
  ];
  let y = top + barH;
  for (const v of screen.content) {
    const n = layoutView(ctx, v, 0, y, w);
    out.push(n);
    y = n.bounds[3];
    if (y >= bottom) break;
  }
  return out;
}

/** A Settings row as AOSP lays it out: title and summary on the left, the Switch in its widget frame. */
function expandPreference(p: NonNullable<ViewSpec['preference']>): ViewSpec {
  const text: ViewSpec[] = [
    { class: 'android.widget.TextView', id: 'android:id/title', text: p.title, height: 24 },
  ];
  if (p.summary !== undefined)
    text.push({ class: 'android.widget.TextView', id: 'android:id/summary', text: p.summary, height: 20 });
  const children: ViewSpec[] = [{ class: 'android.widget.RelativeLayout', children: text }];
  if (p.switch !== undefined)
    children.push({
      class: 'android.widget.LinearLayout',
      id: 'android:id/widget_frame',
      width: 64,
      layout: 'row',
      children: [
        {
          class: 'android.widget.Switch',
          id: 'android:id/switch_widget',
          desc: p.title,
          checked: p.switch,
          height: 32,
          clickable: false,
        },
      ],
    });
  const tap = p.tap ?? (p.switch !== undefined ? { toggle: p.switch } : undefined);
  return {
    class: 'android.widget.LinearLayout',
    ...(p.id !== undefined ? { id: p.id } : {}),
    height: p.summary !== undefined ? 72 : 56,
    layout: 'row',
    padding: 14,
    clickable: true,
    ...(tap !== undefined ? { tap } : {}),
    children,
  };
}

/** The action a tap in the data stands for. */
function tapAction(ctx: LayoutContext, tap: ScreenTap): ScreenAction {
  if (tap === 'back') return { kind: 'back' };
  if (tap === 'home') return { kind: 'launch', component: homeComponent(ctx.state) };
  if (tap === 'backupNow') return { kind: 'backup-now' };
  if (tap === 'account') return { kind: 'account' };
  if ('launch' in tap) return { kind: 'launch', component: fullComponent(tap.launch) };
  // checkScreens made sure the setting is a consent toggle's.
  return { kind: 'toggle', consent: consentOfSetting(ctx.state.profile, tap.toggle)! };
}

/** Whether a bound setting reads as on (a consent setting by its `on` value, others by "1"). */
function settingOn(state: DeviceState, setting: string): boolean {
  const consent = consentOfSetting(state.profile, setting);
  if (consent) return state.system.consent(consent);
  const [ns, key] = setting.split(' ') as ['global' | 'secure' | 'system', string];
  return state.system.get(ns, key) === '1';
}

function shift(n: UiNode, dx: number, dy: number): UiNode {
  const [l, t, r, b] = n.bounds;
  return {
    ...n,
    bounds: [l + dx, t + dy, r + dx, b + dy],
    children: n.children.map((c) => shift(c, dx, dy)),
  };
}

/** Lays out one view of the data at (x, y) in the given width; its height follows from the data. */
function layoutView(ctx: LayoutContext, v: ViewSpec, x: number, y: number, width: number): UiNode {
  if (v.preference) return layoutView(ctx, expandPreference(v.preference), x, y, width);
  const { dp, pkg } = ctx;
  const cls = v.class ?? (v.text !== undefined ? 'android.widget.TextView' : 'android.widget.LinearLayout');
  const pad = dp(v.padding ?? 0);
  const innerW = width - 2 * pad;
  const specs = v.children ?? [];
  const kids: UiNode[] = [];
  let contentH = 0;
  const layout = v.layout ?? 'column';
  if (layout === 'column') {
    let cy = y + pad;
    for (const c of specs) {
      const n = layoutView(ctx, c, x + pad, cy, innerW);
      kids.push(n);
      cy = n.bounds[3];
    }
    contentH = cy - (y + pad);
  } else if (layout === 'row') {
    const fixed = specs.reduce((sum, c) => sum + (c.width !== undefined ? dp(c.width) : 0), 0);
    const flexible = specs.filter((c) => c.width === undefined).length;
    const share = flexible > 0 ? Math.floor(Math.max(0, innerW - fixed) / flexible) : 0;
    let cx = x + pad;
    for (const c of specs) {
      const cw = c.width !== undefined ? dp(c.width) : share;
      const n = layoutView(ctx, c, cx, y + pad, cw);
      kids.push(n);
      cx += cw;
      contentH = Math.max(contentH, n.bounds[3] - n.bounds[1]);
    }
  } else {
    const cols = v.columns ?? 2;
    const gap = pad || dp(8);
    const cellW = Math.floor((innerW - gap * (cols - 1)) / cols);
    let rowTop = y + pad;
    let rowH = 0;
    specs.forEach((c, i) => {
      if (i > 0 && i % cols === 0) {
        rowTop += rowH + gap;
        rowH = 0;
      }
      const n = layoutView(ctx, c, x + pad + (i % cols) * (cellW + gap), rowTop, cellW);
      kids.push(n);
      rowH = Math.max(rowH, n.bounds[3] - n.bounds[1]);
    });
    contentH = rowTop + rowH - (y + pad);
  }
  const h =
    v.height !== undefined
      ? dp(v.height)
      : specs.length > 0
        ? contentH + 2 * pad
        : dp(LEAF_HEIGHT[cls] ?? 48);
  // Children of a row sit centred in its height.
  const placed =
    layout === 'row'
      ? kids.map((k) => shift(k, 0, Math.max(0, Math.floor((h - 2 * pad - (k.bounds[3] - k.bounds[1])) / 2))))
      : kids;
  const enabled = v.enabled !== false;
  const clickable = v.clickable ?? v.tap !== undefined;
  const checked = v.checked !== undefined ? settingOn(ctx.state, v.checked) : undefined;
  const fill: Rgb | undefined =
    checked !== undefined
      ? checked
        ? ACCENT
        : SWITCH_OFF
      : cls.endsWith('Button')
        ? enabled
          ? ACCENT
          : SWITCH_OFF
        : cls.endsWith('ImageView')
          ? appColour(`${pkg}@${x},${y}`)
          : cls.endsWith('ProgressBar')
            ? ACCENT
            : v.text !== undefined
              ? v.id === 'android:id/summary'
                ? [150, 150, 150]
                : [70, 70, 70]
              : clickable
                ? ROW_FILL
                : v.scrollable
                  ? WHITE
                  : undefined;
  return node({
    cls,
    pkg,
    text: v.text ?? '',
    ...(v.desc !== undefined ? { desc: v.desc } : {}),
    ...(v.id !== undefined ? { resourceId: v.id } : {}),
    bounds: [x, y, x + width, y + h],
    clickable,
    ...(checked !== undefined ? { checkable: true, checked } : {}),
    ...(v.scrollable ? { scrollable: true } : {}),
    ...(enabled ? {} : { enabled: false }),
    ...(fill ? { fill } : {}),
    ...(clickable && enabled && v.tap !== undefined ? { onTap: tapAction(ctx, v.tap) } : {}),
    children: placed,
  });
}

/**
 * The Settings screen where the simulator puts the switches that drive traffic: Settings' SubSettings,
 * as `am start -a android.settings.PRIVACY_SETTINGS` opens it.
 */
function privacyScreen(state: DeviceState): string | undefined {
  return state.apps.packages.get('com.android.settings')?.activities.find((a) => a.endsWith('.SubSettings'));
}

/** The switches and buttons that drive traffic, labelled as the profile says. */
function privacyRows(state: DeviceState): { text: string; checked?: boolean; action: ScreenAction }[] {
  const p = state.profile;
  const rows: { text: string; checked?: boolean; action: ScreenAction }[] = [];
  for (const t of ['backupEnabled', 'analyticsConsent', 'adsConsent'] as const) {
    rows.push({
      text: p.consent[t].label ?? p.consent[t].key,
      checked: state.system.consent(t),
      action: { kind: 'toggle', consent: t },
    });
  }
  rows.push({ text: 'Back up now', action: { kind: 'backup-now' } });
  const ui = p.accountUi;
  if (ui) {
    const signedIn = state.accounts.find((a) => a.type === p.vendorAccountType);
    rows.push({
      text: signedIn ? `${ui.label}: ${signedIn.name}` : `${ui.label}: Sign in`,
      action: { kind: 'account' },
    });
  }
  return rows;
}

function homeComponent(state: DeviceState): string {
  const h = state.profile.homeActivity;
  const [pkg, cls] = h.split('/') as [string, string];
  return `${pkg}/${cls.startsWith('.') ? pkg + cls : cls}`;
}

function clockText(state: DeviceState): string {
  const w = wallClock(state.now(), phoneZone(state.system.props));
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}

/** The deepest clickable node under a point (what a tap hits). */
export function nodeAt(tree: UiNode | undefined, x: number, y: number): UiNode | undefined {
  if (!tree) return undefined;
  const [l, t, r, b] = tree.bounds;
  if (x < l || x >= r || y < t || y >= b) return undefined;
  for (let i = tree.children.length - 1; i >= 0; i--) {
    const hit = nodeAt(tree.children[i], x, y);
    if (hit) return hit;
  }
  return tree.clickable ? tree : undefined;
}

function xmlEscape(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!,
  );
}

/** The `uiautomator dump` XML (one line, <node> elements) of a view tree. */
export function uiautomatorXml(tree: UiNode): string {
  const out: string[] = [
    "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><hierarchy rotation=\"0\">",
  ];
  const walk = (n: UiNode, index: number) => {
    const [l, t, r, b] = n.bounds;
    out.push(
      `<node index="${index}" text="${xmlEscape(n.text)}" resource-id="${xmlEscape(n.resourceId ?? '')}" class="${n.cls}" package="${n.pkg}" content-desc="${xmlEscape(n.desc ?? '')}" checkable="${n.checkable ?? false}" checked="${n.checked ?? false}" clickable="${n.clickable}" enabled="${n.enabled ?? true}" focusable="${n.clickable}" focused="false" scrollable="${n.scrollable ?? false}" long-clickable="false" password="false" selected="false" bounds="[${l},${t}][${r},${b}]"`,
    );
    if (n.children.length === 0) out.push(' />');
    else {
      out.push('>');
      n.children.forEach((c, i) => {
        walk(c, i);
      });
      out.push('</node>');
    }
  };
  walk(tree, 0);
  out.push('</hierarchy>');
  return out.join('');
}
