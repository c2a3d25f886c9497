import type { Scenario } from '../harness/run/scenario.js';

/**
 * The consent-off twin of messages-cloud-on: the same SIM, the same moments, cloud messaging left off.
 * Since Xiaomi made it opt-in (August 2014), neither the phone number nor the IMSI may leave the phone.
 */
export const messagesCloudOff: Scenario = {
  name: 'messages-cloud-off',
  description:
    "With a SIM in and the maker's cloud messaging off, wait as long as its consent-on twin does. Since cloud messaging became opt-in (Xiaomi, August 2014), the phone number and the IMSI must not leave the phone, and the messaging cloud must not be contacted.",
  needs: ['sim-card'],
  requires: { 'cloud-messaging': "the maker's cloud messaging, which syncs SMS through its cloud" },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'leave cloud messaging off', action: 'messaging.cloudOff' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'messaging off', ms: 3 * 60_000 },
  ],
};
