import type { DeviceState } from './device-state.js';
import { CAPTURE_CTRL } from './pcapdroid.js';
import { phoneZone, wallClock } from './phone-clock.js';
import { dataScreen, homeComponent } from './screen-layout.js';
import { CONSENT_TOGGLES } from './screens.js';
import { appColour, DARK, node, type Rgb, type ScreenAction, type UiNode, WHITE } from './ui-node.js';

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
          onTap: { kind: 'launch', component: state.homeScreen() },
        }),
      ],
    }),
  );
  return root(fgPkg || 'com.android.systemui', content, home ? [40, 60, 90] : WHITE);
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
  for (const t of CONSENT_TOGGLES) {
    const ref = p.consent[t];
    if (!ref) continue;
    rows.push({
      text: ref.label ?? ref.key,
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

function clockText(state: DeviceState): string {
  const w = wallClock(state.now(), phoneZone(state.system.props));
  return `${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
}
