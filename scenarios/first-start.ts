import type { Scenario, ScenarioStep } from '../harness/run/scenario.js';

/**
 * The steps of first-start and its twin: the setup wizard gone through (with every optional setting
 * off, or its defaults accepted), then the phone left alone at its home screen, as Leith's handset
 * studies measure a phone's first start (../shared/reference/ENDPOINTS.md: factory reset, every
 * optional setting off, the lab's Wi-Fi).
 */
export function firstStartSteps(setup: 'setup.finish' | 'setup.finishDefaults'): ScenarioStep[] {
  return [
    // The wizard's network page: the lab's Wi-Fi joined under capture.
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'in the setup wizard', ms: 30_000 },
    {
      kind: 'action',
      name: setup === 'setup.finish' ? 'set up with every optional setting off' : 'set up with the defaults',
      action: setup,
    },
    { kind: 'wait', name: 'first minutes', ms: 5 * 60_000 },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'idle after first start', ms: 5 * 60_000 },
  ];
}

/**
 * The phone after a factory reset, set up with every optional setting off: what a phone sends before
 * its user has agreed to anything. The lab's phone.reset hook resets it first (a real phone cannot be
 * reset over adb without root; the lab documents how it does it); the run then checks that the phone
 * is in its setup wizard before the capture starts. Every scenario after it sees a phone with no
 * account, contacts or messages and its optional settings off.
 */
export const firstStart: Scenario = {
  name: 'first-start',
  description:
    "Factory-reset the phone (lab hook phone.reset), go through its setup wizard with every optional setting off and no account, then leave it idle for ten minutes. What a phone sends before its user agreed to anything: the maker's account service (api.account.xiaomi.com at first start, F-Secure 2014) and Google's check-in; no analytics.",
  needs: [],
  start: { name: 'factory reset', hook: 'phone.reset' },
  prepare: [{ kind: 'setup-wizard' }, { kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: firstStartSteps('setup.finish'),
};
