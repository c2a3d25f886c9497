import type { Scenario } from '../harness/run/scenario.js';

/**
 * A night on the desk: eight hours, screen off, untouched. Leith (2021) measured idle handsets
 * contacting their makers about every 4.5 minutes; this scenario counts the periodic check-ins
 * (`expect` with minConnections) and holds their volume to budgets. Simulated phones play the night
 * compressed by their speed factor (8 hours in 8 minutes at --speed 60).
 */
export const overnightIdle: Scenario = {
  name: 'overnight-idle',
  description:
    "Eight hours of phone time with the screen off, untouched, as a phone spends a night. Idle handsets contact their makers every few minutes (Leith 2021): the periodic check-ins are counted against the allowlist's expectations and their volume against its budgets.",
  needs: [],
  onlyWhenNamed: 'eight hours of phone time (eight minutes on simulated phones at --speed 60)',
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'adb', name: 'screen off', command: 'input keyevent 26', expectExit: 0 },
    { kind: 'wait', name: 'night', ms: 8 * 60 * 60_000 },
  ],
};
