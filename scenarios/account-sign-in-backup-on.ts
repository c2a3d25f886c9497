import type { Scenario } from '../harness/run/scenario.js';
import { accountSignInSteps } from './account-sign-in.js';

/**
 * The consent-on twin of account-sign-in: the same sign-in with the maker's cloud backup turned on
 * while signed in (Xiaomi Cloud backup, Backup by Google One), and off again before the sign-out.
 * What a signed-in phone sends because backup is on; the report sets the run beside its twin.
 */
export const accountSignInBackupOn: Scenario = {
  name: 'account-sign-in-backup-on',
  description:
    "account-sign-in with the maker's cloud backup turned on after the sign-in and off again before the sign-out. What backup adds for a signed-in phone: the cloud's status service (statusapi.micloud.xiaomi.net on a Xiaomi, ENDPOINTS.md) besides the account service.",
  needs: ['appium'],
  requires: { 'vendor-account': "the maker's account, signed in through Settings" },
  twin: { scenario: 'account-sign-in', consent: 'cloud backup' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: accountSignInSteps('on'),
};
