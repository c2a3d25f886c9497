import type { Scenario } from '../harness/run/scenario.js';

/** The Themes app: browse, open a theme, download a free one. Theme hosts are expected. */
export const themeStore: Scenario = {
  name: 'theme-store',
  description:
    "Open the Themes app, browse, open a theme's page and download a free theme. Theme hosts are expected; a run that never reached them is broken, not passed.",
  needs: [],
  requires: { 'themes-app': "the maker's Themes app" },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'action', name: 'open Themes', action: 'themes.open' },
    { kind: 'wait', name: 'browse', ms: 60_000 },
    { kind: 'action', name: "open a theme's page", action: 'themes.openTheme' },
    { kind: 'action', name: 'download the theme', action: 'themes.download' },
    { kind: 'wait', name: 'download', ms: 60_000 },
    { kind: 'action', name: 'go home', action: 'home' },
  ],
};
