import type { Scenario, ScenarioStep } from '../harness/run/scenario.js';

/** Locks the screen, leaves it locked a while, wakes and unlocks it: one cycle. */
function cycle(n: number): ScenarioStep[] {
  return [
    { kind: 'adb', name: `lock ${n}`, command: 'input keyevent 26', expectExit: 0 },
    { kind: 'wait', name: `locked ${n}`, ms: 60_000 },
    { kind: 'adb', name: `wake ${n}`, command: 'input keyevent 224', expectExit: 0 },
    { kind: 'adb', name: `unlock ${n}`, command: 'wm dismiss-keyguard', expectExit: 0 },
    { kind: 'wait', name: `unlocked ${n}`, ms: 30_000 },
  ];
}

/**
 * The steps of screen-cycles and its twin: five lock and unlock cycles; with `analytics` on, the
 * phone's analytics consent turned on first and off again at the end.
 */
export function screenCyclesSteps(analytics: 'off' | 'on'): ScenarioStep[] {
  const cycles = [1, 2, 3, 4, 5].flatMap(cycle);
  const join: ScenarioStep = { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' };
  const home: ScenarioStep = { kind: 'action', name: 'go home', action: 'home' };
  if (analytics === 'off') return [join, home, ...cycles];
  return [
    join,
    { kind: 'action', name: 'turn analytics on', action: 'analytics.optIn' },
    home,
    ...cycles,
    // Put the phone back as it was, so the scenarios after this one start with analytics off.
    { kind: 'action', name: 'turn analytics off again', action: 'analytics.optOut' },
    { kind: 'action', name: 'go home again', action: 'home' },
  ];
}

/**
 * The screen locked and unlocked five times. Analytics SDKs report on screen events (the Xiaomi stat
 * SDK on each screen lock; Liu, Patras and Leith 2021 found the Xiaomi phone reporting which screens
 * are viewed and for how long): each lock may bring a report, and only where consent allows it.
 */
export const screenCycles: Scenario = {
  name: 'screen-cycles',
  description:
    'Lock and unlock the screen five times, a minute locked and half a minute unlocked each time. Analytics SDKs report screen events (the Xiaomi stat SDK on each lock): the reports are counted, and allowed only where analytics consent is on.',
  needs: [],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: screenCyclesSteps('off'),
};

/**
 * The consent-on twin of screen-cycles: the same five cycles with the phone's analytics consent on
 * (the User Experience Program, Usage & diagnostics). Each lock then brings the stat SDK's report on
 * a Xiaomi; the report sets the run beside its twin.
 */
export const screenCyclesAnalyticsOn: Scenario = {
  name: 'screen-cycles-analytics-on',
  description:
    "screen-cycles with the phone's analytics consent turned on first (and off again at the end): what each lock and unlock brings when the user agreed to analytics, a stat SDK report per lock on a Xiaomi (data.mistat.intl.xiaomi.com).",
  needs: [],
  twin: { scenario: 'screen-cycles', consent: 'analytics' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: screenCyclesSteps('on'),
};
