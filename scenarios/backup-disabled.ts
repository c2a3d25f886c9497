import type { Scenario } from '../harness/run/scenario.js';

/** The opt-out twin of backup-enabled: backup off, so nothing may reach the backup hosts. */
export const backupDisabled: Scenario = {
  name: 'backup-disabled',
  description:
    'Cloud backup off, then idle. The vendor says data reaches its cloud only when the user turns backup on: any backup host here is a violation.',
  needs: [],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'action', name: 'turn backup off', action: 'backup.disable' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'idle', ms: 5 * 60_000 },
  ],
};
