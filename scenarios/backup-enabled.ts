import type { Scenario } from '../harness/run/scenario.js';

/** Cloud backup turned on through Settings and started: backup hosts are expected. */
export const backupEnabled: Scenario = {
  name: 'backup-enabled',
  description:
    'Turn the vendor cloud backup on in Settings, start a backup, wait. The backup hosts must appear, and only after the step that turns backup on.',
  needs: [],
  twin: { scenario: 'backup-disabled', consent: 'cloud backup' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'turn backup on', action: 'backup.enable' },
    { kind: 'action', name: 'back up now', action: 'backup.now' },
    { kind: 'wait', name: 'backup running', ms: 3 * 60_000 },
    // Put the phone back as it was, so the scenarios after this one start with backup off.
    { kind: 'action', name: 'turn backup off again', action: 'backup.disable' },
    { kind: 'action', name: 'go home', action: 'home' },
  ],
};
