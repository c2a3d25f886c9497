import type { Scenario } from '../harness/run/scenario.js';

/**
 * Cloud messaging turned on with a SIM in: the consent-on half of the 2014 pair. F-Secure found a
 * Redmi 1S sending the phone number and, with Mi Cloud on, the IMSI to api.account.xiaomi.com; Xiaomi
 * then made cloud messaging opt-in. Here the number and IMSI may go there, and only after the step
 * that turns it on.
 */
export const messagesCloudOn: Scenario = {
  name: 'messages-cloud-on',
  description:
    "With a SIM in, turn the maker's cloud messaging on and wait: the account service registers the SIM's number. The consent-on half of the 2014 Redmi 1S finding (F-Secure: phone number and IMSI to api.account.xiaomi.com); read inside TLS when the run intercepts.",
  needs: ['sim-card'],
  requires: { 'cloud-messaging': "the maker's cloud messaging, which syncs SMS through its cloud" },
  twin: { scenario: 'messages-cloud-off', consent: 'cloud messaging' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'turn cloud messaging on', action: 'messaging.cloudOn' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'messaging on', ms: 3 * 60_000 },
    // Put the phone back as it was, so the scenarios after this one start with cloud messaging off.
    { kind: 'action', name: 'turn cloud messaging off again', action: 'messaging.cloudOff' },
    { kind: 'action', name: 'go home again', action: 'home' },
  ],
};
