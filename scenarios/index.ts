/** The built-in scenarios, by name. */
import type { Scenario } from '../harness/run/scenario.js';
import { accountSignIn } from './account-sign-in.js';
import { accountSignInBackupOn } from './account-sign-in-backup-on.js';
import { analyticsOptOut } from './analytics-opt-out.js';
import { backupDisabled } from './backup-disabled.js';
import { backupEnabled } from './backup-enabled.js';
import { contactsMessages } from './contacts-messages.js';
import { contactsMessagesCloudOn } from './contacts-messages-cloud-on.js';
import { firstStart } from './first-start.js';
import { firstStartDefaults } from './first-start-defaults.js';
import { idle } from './idle.js';
import { locationOff } from './location-off.js';
import { locationOn } from './location-on.js';
import { messagesCloudOff } from './messages-cloud-off.js';
import { messagesCloudOn } from './messages-cloud-on.js';
import { overnightIdle, overnightIdleAnalyticsOn } from './overnight-idle.js';
import { screenCycles, screenCyclesAnalyticsOn } from './screen-cycles.js';
import { simInserted } from './sim-inserted.js';
import { simInsertedCloudOn } from './sim-inserted-cloud-on.js';
import { themeStore } from './theme-store.js';

export const SCENARIOS: readonly Scenario[] = [
  // A factory reset each, first: every scenario after them sees a freshly set-up phone, the last one
  // (first-start) leaving its optional settings off.
  firstStartDefaults,
  firstStart,
  idle,
  backupEnabled,
  backupDisabled,
  themeStore,
  analyticsOptOut,
  messagesCloudOn,
  messagesCloudOff,
  // After the scenarios that need a SIM: it ends with the SIM in, whatever the phone had.
  simInserted,
  simInsertedCloudOn,
  contactsMessages,
  contactsMessagesCloudOn,
  locationOn,
  locationOff,
  screenCycles,
  screenCyclesAnalyticsOn,
  accountSignIn,
  accountSignInBackupOn,
  overnightIdle,
  overnightIdleAnalyticsOn,
];

/** The scenario called name, or undefined. */
export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
