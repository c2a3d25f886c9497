import type { Scenario, ScenarioStep } from '../harness/run/scenario.js';

/**
 * The moments of a phone's life with other people's data in them: a contact saved, an SMS received
 * and one sent. F-Secure (2014) found a Redmi 1S sending new contacts' numbers and the phone number to
 * api.account.xiaomi.com; Xiaomi then made cloud messaging opt-in. `consent` is what the maker's cloud
 * messaging is set to first, on phones that have it; the contact is deleted at the end, and cloud
 * messaging left off.
 */
export function contactsMessagesSteps(consent: 'on' | 'off'): ScenarioStep[] {
  return [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    {
      kind: 'action',
      name: consent === 'on' ? 'turn cloud messaging on' : 'leave cloud messaging off',
      action: consent === 'on' ? 'messaging.cloudOn' : 'messaging.cloudOff',
      ifCapability: 'cloud-messaging',
    },
    { kind: 'action', name: 'add a contact', action: 'contacts.add' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'contact saved', ms: 2 * 60_000 },
    { kind: 'lab', name: 'an SMS comes in', hook: 'sms.receive' },
    { kind: 'wait', name: 'SMS received', ms: 2 * 60_000 },
    { kind: 'action', name: 'send an SMS to the contact', action: 'sms.send' },
    { kind: 'action', name: 'go home after sending', action: 'home' },
    { kind: 'wait', name: 'SMS sent', ms: 3 * 60_000 },
    { kind: 'action', name: 'delete the contact', action: 'contacts.delete' },
    ...(consent === 'on'
      ? [
          {
            kind: 'action',
            name: 'turn cloud messaging off again',
            action: 'messaging.cloudOff',
            ifCapability: 'cloud-messaging',
          } as const,
        ]
      : []),
    { kind: 'action', name: 'go home at the end', action: 'home' },
  ];
}

/** Contacts and messages with the maker's cloud messaging off: the consent-off half of the 2014 pair. */
export const contactsMessages: Scenario = {
  name: 'contacts-messages',
  description:
    "Save a contact, receive an SMS (the lab's SMS sender, lab hook sms.receive), send one to the contact, then delete the contact, with the maker's cloud messaging off where the phone has it. With it off, neither the contact's number nor the messages may leave the phone (F-Secure 2014: a Redmi 1S sent new contacts' numbers to api.account.xiaomi.com before cloud messaging became opt-in).",
  needs: ['sim-card'],
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: contactsMessagesSteps('off'),
};
