import type { Scenario } from '../harness/run/scenario.js';

/** Analytics consent off, then idle: analytics hosts are forbidden (telemetry after opt-out is the finding). */
export const analyticsOptOut: Scenario = {
  name: 'analytics-opt-out',
  description:
    'Turn the user experience program / usage and diagnostics off, then leave the phone idle. Lab studies found telemetry that continues after opting out; this scenario is how a lab shows it.',
  needs: [],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'action', name: 'opt out of analytics', action: 'analytics.optOut' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'adb', name: 'screen off', command: 'input keyevent 26', expectExit: 0 },
    { kind: 'wait', name: 'idle', ms: 10 * 60_000 },
  ],
};
