import type { Scenario, ScenarioStep } from '../harness/run/scenario.js';

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
  steps: overnightSteps('off'),
};

/** The night's steps; with `analytics` on, the consent turned on first and off again in the morning. */
function overnightSteps(analytics: 'off' | 'on'): ScenarioStep[] {
  const night: ScenarioStep[] = [
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'adb', name: 'screen off', command: 'input keyevent 26', expectExit: 0 },
    { kind: 'wait', name: 'night', ms: 8 * 60 * 60_000 },
  ];
  const join: ScenarioStep = { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' };
  if (analytics === 'off') return [join, ...night];
  return [
    join,
    { kind: 'action', name: 'turn analytics on', action: 'analytics.optIn' },
    ...night,
    // In the morning: the screen woken and unlocked, the phone put back with analytics off.
    { kind: 'adb', name: 'wake', command: 'input keyevent 224', expectExit: 0 },
    { kind: 'adb', name: 'unlock', command: 'wm dismiss-keyguard', expectExit: 0 },
    { kind: 'action', name: 'turn analytics off again', action: 'analytics.optOut' },
    { kind: 'action', name: 'go home again', action: 'home' },
  ];
}

/**
 * The consent-on twin of overnight-idle: the same night with the phone's analytics consent on. The
 * analytics batches of the night are counted too; the report sets the night beside its twin.
 */
export const overnightIdleAnalyticsOn: Scenario = {
  name: 'overnight-idle-analytics-on',
  description:
    "overnight-idle with the phone's analytics consent turned on first (and off again in the morning): the maker's analytics batches through the night (OneTrack on a Xiaomi, Firebase logging on a Pixel) counted beside the check-ins.",
  needs: [],
  onlyWhenNamed: 'eight hours of phone time (eight minutes on simulated phones at --speed 60)',
  twin: { scenario: 'overnight-idle', consent: 'analytics' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: overnightSteps('on'),
};
