/** The built-in scenarios, by name. */
import type { Scenario } from '../harness/run/scenario.js';
import { accountSignIn } from './account-sign-in.js';
import { analyticsOptOut } from './analytics-opt-out.js';
import { backupDisabled } from './backup-disabled.js';
import { backupEnabled } from './backup-enabled.js';
import { contactsMessages } from './contacts-messages.js';
import { contactsMessagesCloudOn } from './contacts-messages-cloud-on.js';
import { idle } from './idle.js';
import { locationOff } from './location-off.js';
import { locationOn } from './location-on.js';
import { messagesCloudOff } from './messages-cloud-off.js';
import { messagesCloudOn } from './messages-cloud-on.js';
import { overnightIdle } from './overnight-idle.js';
import { screenCycles } from './screen-cycles.js';
import { simInserted } from './sim-inserted.js';
import { themeStore } from './theme-store.js';

export const SCENARIOS: readonly Scenario[] = [
  idle,
  backupEnabled,
  backupDisabled,
  themeStore,
  analyticsOptOut,
  messagesCloudOn,
  messagesCloudOff,
  // After the scenarios that need a SIM: it ends with the SIM in, whatever the phone had.
  simInserted,
  contactsMessages,
  contactsMessagesCloudOn,
  locationOn,
  locationOff,
  screenCycles,
  accountSignIn,
  overnightIdle,
];

/** The scenario called name, or undefined. */
export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
