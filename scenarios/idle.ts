import type { Scenario } from '../harness/run/scenario.js';

/** The phone lies untouched with its screen off: everything it sends is its own doing. */
export const idle: Scenario = {
  name: 'idle',
  description:
    'Screen off, untouched, for ten minutes. Every contact here is made without user input: the question Taiwan asked of Xiaomi phones in 2014.',
  needs: [],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'adb', name: 'screen off', command: 'input keyevent 26', expectExit: 0 },
    { kind: 'wait', name: 'idle', ms: 10 * 60_000 },
  ],
};
