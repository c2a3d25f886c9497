import type { Scenario } from '../harness/run/scenario.js';
import { firstStartSteps } from './first-start.js';

/**
 * The consent-on twin of first-start: the same reset and wizard, its defaults accepted (the optional
 * settings it offers left on, as a hurried user leaves them). The report sets it beside first-start:
 * what the defaults add is what the phone sends because nobody turned a switch off.
 */
export const firstStartDefaults: Scenario = {
  name: 'first-start-defaults',
  description:
    "first-start with the setup wizard's defaults accepted: the optional settings it offers (usage and diagnostics, location, personalised ads or backup) left on. Compared with first-start, what the defaults add: the maker's analytics from the first minutes.",
  needs: [],
  start: { name: 'factory reset', hook: 'phone.reset' },
  twin: { scenario: 'first-start', consent: "the setup wizard's defaults" },
  prepare: [{ kind: 'setup-wizard' }, { kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: firstStartSteps('setup.finishDefaults'),
};
