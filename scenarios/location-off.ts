import type { Scenario } from '../harness/run/scenario.js';

/**
 * The consent-off twin of location-on: the same moments, Maps opened the same way, location left off.
 * Location lookups may go on at the idle pace the studies measured, never at the pace of an app
 * being served a location.
 */
export const locationOff: Scenario = {
  name: 'location-off',
  description:
    "With location off, open Maps and leave the phone at its home screen, as long as location-on does. Google's location service may be contacted at most at its idle pace (Leith 2021: www.google.com /loc/m/api on idle handsets), not as an app being served a location.",
  needs: [],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'leave location off', action: 'location.off' },
    { kind: 'action', name: 'open Maps', action: 'maps.open' },
    { kind: 'wait', name: 'Maps without the location', ms: 2 * 60_000 },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'location off, at home', ms: 2 * 60_000 },
  ],
};
