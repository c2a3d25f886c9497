import type { Scenario, ScenarioStep } from '../harness/run/scenario.js';

/**
 * A SIM card put into a phone that is already set up: the lab's SIM switch (a lab hook) takes the
 * card out, then puts it in. F-Secure (2014) found a Redmi 1S sending the carrier, IMEI and phone
 * number to api.account.xiaomi.com on a new SIM; Leith's handset studies measure SIM insertion as
 * its own moment. The phone ends with the SIM in.
 */
/**
 * The steps of sim-inserted and its twin: the SIM card out and in again; with `cloud` on, the maker's
 * cloud messaging turned on first and off again at the end.
 */
export function simInsertedSteps(cloud: 'off' | 'on'): ScenarioStep[] {
  const steps: ScenarioStep[] = [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'lab', name: 'take the SIM out', hook: 'sim.remove' },
    { kind: 'wait', name: 'no SIM', ms: 60_000 },
    { kind: 'lab', name: 'put the SIM in', hook: 'sim.insert' },
    { kind: 'wait', name: 'SIM in', ms: 5 * 60_000 },
  ];
  if (cloud === 'off') return steps;
  return [
    steps[0]!,
    { kind: 'action', name: 'turn cloud messaging on', action: 'messaging.cloudOn' },
    { kind: 'action', name: 'go home', action: 'home' },
    ...steps.slice(1),
    // Put the phone back as it was, so the scenarios after this one start with cloud messaging off.
    { kind: 'action', name: 'turn cloud messaging off again', action: 'messaging.cloudOff' },
    { kind: 'action', name: 'go home again', action: 'home' },
  ];
}

export const simInserted: Scenario = {
  name: 'sim-inserted',
  description:
    "Take the SIM card out, then put it in, with the lab's SIM switch (lab hooks sim.remove and sim.insert), on a phone already set up. What a new SIM makes the phone send: the maker's SIM activation (api.account.xiaomi.com, F-Secure 2014) and Google's check-in. The phone ends with its SIM in.",
  needs: [],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: simInsertedSteps('off'),
};
