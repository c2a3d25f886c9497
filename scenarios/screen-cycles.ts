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
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'action', name: 'go home', action: 'home' },
    ...[1, 2, 3, 4, 5].flatMap(cycle),
  ],
};
