import type { Scenario } from '../harness/run/scenario.js';

/**
 * Location turned on, then an app that asks for it (Maps): the consent-on half of the location pair.
 * Google's network location provider answers location requests through www.google.com (/loc/m/api,
 * measured by Leith 2021 on idle handsets); with location on and an app asking, those lookups come
 * often. The phone is put back with location off at the end.
 */
export const locationOn: Scenario = {
  name: 'location-on',
  description:
    "Turn location on, open Maps (an app that asks for the location), then leave the phone at its home screen. Google's location service (www.google.com /loc/m/api, Leith 2021) answers the lookups; the consent-on half of the location pair, compared with location-off.",
  needs: [],
  twin: { scenario: 'location-off', consent: 'location' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'turn location on', action: 'location.on' },
    { kind: 'action', name: 'open Maps', action: 'maps.open' },
    { kind: 'wait', name: 'Maps asks for the location', ms: 2 * 60_000 },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'location on, at home', ms: 2 * 60_000 },
    // Put the phone back as it was, so the scenarios after this one start with location off.
    { kind: 'action', name: 'turn location off again', action: 'location.off' },
    { kind: 'action', name: 'go home again', action: 'home' },
  ],
};
