import { fullComponent } from './component-name.js';
import type { DeviceState } from './device-state.js';
import { consentOfSetting, type ScreenSpec, type ScreenTap, type ViewSpec } from './screens.js';
import { appColour, node, type Rgb, type ScreenAction, type UiNode, WHITE } from './ui-node.js';

export const ROW_FILL: Rgb = [236, 238, 242];

export const ACCENT: Rgb = [26, 115, 232];

export const SWITCH_OFF: Rgb = [180, 180, 180];

/** Usual heights (dp) of leaf views, by class, when the data gives none. */
export const LEAF_HEIGHT: Record<string, number> = {
  'android.widget.TextView': 24,
  'android.widget.Button': 48,
  'android.widget.Switch': 32,
  'android.widget.CheckBox': 32,
  'android.widget.ProgressBar': 8,
};

export interface LayoutContext {
  state: DeviceState;
  pkg: string;
  dp: (n: number) => number;
}

/** An activity described as data (screens.ts): action bar, then its views laid out top to bottom. */
export function dataScreen(
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
export function expandPreference(p: NonNullable<ViewSpec['preference']>): ViewSpec {
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

/** The phone's contacts as a list of rows, each opening its contact. */
export function expandContactList(state: DeviceState, list: NonNullable<ViewSpec['contactList']>): ViewSpec {
  return {
    class: 'android.widget.ListView',
    scrollable: true,
    children: state.contacts.map((c, index) => ({
      class: 'android.widget.LinearLayout',
      height: 64,
      padding: 8,
      tap: { openContact: { index, opens: list.opens } },
      children: [
        { class: 'android.widget.TextView', id: list.nameId, text: c.name, height: 24 },
        { class: 'android.widget.TextView', id: list.numberId, text: c.number, height: 20 },
      ],
    })),
  };
}

/** Text with the open contact's {contact.name} and {contact.number} filled in ('' when none is open). */
function contactText(state: DeviceState, text: string): string {
  const c = state.openContact !== undefined ? state.contacts[state.openContact] : undefined;
  return text.replace(/\{contact\.(name|number)\}/g, (_, k: 'name' | 'number') => c?.[k] ?? '');
}

/** The action a tap in the data stands for. */
export function tapAction(ctx: LayoutContext, tap: ScreenTap): ScreenAction {
  if (tap === 'back') return { kind: 'back' };
  if (tap === 'home') return { kind: 'launch', component: ctx.state.homeScreen() };
  if (tap === 'backupNow') return { kind: 'backup-now' };
  if (tap === 'finishSetup') return { kind: 'finish-setup' };
  if (tap === 'account') return { kind: 'account' };
  if ('launch' in tap) return { kind: 'launch', component: fullComponent(tap.launch) };
  if ('accountPage' in tap) {
    const p = ctx.state.profile;
    const signedIn = ctx.state.accounts.some((a) => a.type === p.vendorAccountType);
    return {
      kind: 'launch',
      component: fullComponent(signedIn ? tap.accountPage.signedIn : tap.accountPage.signedOut),
    };
  }
  if ('signIn' in tap)
    return {
      kind: 'sign-in',
      accountField: tap.signIn.account,
      passwordField: tap.signIn.password,
      opens: fullComponent(tap.signIn.opens),
    };
  if ('signOut' in tap) return { kind: 'sign-out', opens: fullComponent(tap.signOut.opens) };
  if ('saveContact' in tap)
    return {
      kind: 'save-contact',
      nameField: tap.saveContact.name,
      numberField: tap.saveContact.number,
      opens: fullComponent(tap.saveContact.opens),
    };
  if ('openContact' in tap)
    return {
      kind: 'open-contact',
      index: tap.openContact.index,
      opens: fullComponent(tap.openContact.opens),
    };
  if ('deleteContact' in tap)
    return { kind: 'delete-contact', opens: fullComponent(tap.deleteContact.opens) };
  if ('sendSms' in tap)
    return {
      kind: 'send-sms',
      toField: tap.sendSms.to,
      bodyField: tap.sendSms.body,
      opens: fullComponent(tap.sendSms.opens),
    };
  // checkScreens made sure the setting is a consent toggle's.
  return { kind: 'toggle', consent: consentOfSetting(ctx.state.profile, tap.toggle)! };
}

/** Whether a bound setting reads as on (a consent setting by its `on` value, others by "1"). */
export function settingOn(state: DeviceState, setting: string): boolean {
  const consent = consentOfSetting(state.profile, setting);
  if (consent) return state.system.consent(consent);
  const [ns, key] = setting.split(' ') as ['global' | 'secure' | 'system', string];
  return state.system.get(ns, key) === '1';
}

export function shift(n: UiNode, dx: number, dy: number): UiNode {
  const [l, t, r, b] = n.bounds;
  return {
    ...n,
    bounds: [l + dx, t + dy, r + dx, b + dy],
    children: n.children.map((c) => shift(c, dx, dy)),
  };
}

/** Lays out one view of the data at (x, y) in the given width; its height follows from the data. */
export function layoutView(ctx: LayoutContext, v: ViewSpec, x: number, y: number, width: number): UiNode {
  if (v.preference) return layoutView(ctx, expandPreference(v.preference), x, y, width);
  if (v.contactList) return layoutView(ctx, expandContactList(ctx.state, v.contactList), x, y, width);
  if (v.text?.includes('{contact.'))
    return layoutView(ctx, { ...v, text: contactText(ctx.state, v.text) }, x, y, width);
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

export function homeComponent(state: DeviceState): string {
  const h = state.profile.homeActivity;
  const [pkg, cls] = h.split('/') as [string, string];
  return `${pkg}/${cls.startsWith('.') ? pkg + cls : cls}`;
}
