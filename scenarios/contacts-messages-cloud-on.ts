import type { Scenario } from '../harness/run/scenario.js';
import { contactsMessagesSteps } from './contacts-messages.js';

/**
 * The consent-on twin of contacts-messages: the same contact and messages with the maker's cloud
 * messaging on. Then the account service may look the new contact's number up with the phone's number
 * (F-Secure 2014), and messages sync through the maker's cloud; the report sets it beside its twin.
 */
export const contactsMessagesCloudOn: Scenario = {
  name: 'contacts-messages-cloud-on',
  description:
    "contacts-messages with the maker's cloud messaging turned on first (and off again at the end): a contact saved, an SMS received and one sent. The account service may then receive the contact's number with the phone's number (F-Secure 2014, api.account.xiaomi.com), and each message syncs through the messaging cloud.",
  needs: ['sim-card'],
  requires: { 'cloud-messaging': "the maker's cloud messaging, which syncs SMS through its cloud" },
  twin: { scenario: 'contacts-messages', consent: 'cloud messaging' },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: contactsMessagesSteps('on'),
};
