import type { Scenario } from '../harness/run/scenario.js';
import { simInsertedSteps } from './sim-inserted.js';

/**
 * The consent-on twin of sim-inserted: the same SIM out and in with the maker's cloud messaging on.
 * F-Secure (2014) found a Redmi 1S sending the carrier, IMEI and phone number to
 * api.account.xiaomi.com on a new SIM, and with Mi Cloud on also the IMSI: here the new SIM is
 * registered for cloud messaging, with its number and IMSI, and the report sets the run beside its
 * twin.
 */
export const simInsertedCloudOn: Scenario = {
  name: 'sim-inserted-cloud-on',
  description:
    "sim-inserted with the maker's cloud messaging turned on first (and off again at the end): the SIM card taken out and put in by the lab's SIM switch. The new SIM is registered for cloud messaging with its number and IMSI (api.account.xiaomi.com, F-Secure 2014: with Mi Cloud on, also the IMSI).",
  needs: [],
  requires: { 'cloud-messaging': "the maker's cloud messaging, which syncs SMS through its cloud" },
  twin: { scenario: 'sim-inserted', consent: 'cloud messaging' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: simInsertedSteps('on'),
};
