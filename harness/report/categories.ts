/**
 * Allure categories (categories.json) that sort phonehome's non-passing runs by what went wrong.
 * Allure 2 matches a regex against the whole status message (Java `matches`), so every pattern spans
 * the message; a run can be in more than one category (violations and unmet expectations).
 * The texts matched are the reasons run-one.ts writes.
 */

/** One entry of categories.json (allure-js-commons' Category, with plain status strings). */
export interface CategoryDef {
  /** Shown as the category's title. */
  name: string;
  /** One line for people. */
  description: string;
  /** Statuses the category takes. */
  matchedStatuses: ('failed' | 'broken' | 'passed' | 'skipped')[];
  /** Java regex the whole status message must match. */
  messageRegex: string;
}

/** The categories, most specific first. */
export const PHONEHOME_CATEGORIES: CategoryDef[] = [
  {
    name: 'Policy violations',
    description: 'The phone contacted hosts its allowlist does not allow, or went over a budget.',
    matchedStatuses: ['failed'],
    messageRegex: '(?s).*\\b(violations?|budget exceeded)\\b.*',
  },
  {
    name: 'Unmet expectations',
    description:
      'Traffic the allowlist expects (an expect rule) did not happen: beside violations (failed), or alone, ' +
      'when the run did not prove the scenario ran (broken).',
    matchedStatuses: ['failed', 'broken'],
    messageRegex: '(?s).*(\\bunmet expectations?\\b|did not prove it ran).*',
  },
  {
    name: 'Capture not working',
    description:
      'The capture did not start, could not be read, or missed the canaries: the run proves nothing.',
    matchedStatuses: ['broken'],
    messageRegex: '(?s).*capture not working.*',
  },
  {
    name: 'Phone lost',
    description: 'The phone went away (unplugged, rebooted, adb transport dropped) during the run.',
    matchedStatuses: ['broken'],
    messageRegex: '(?s).*phone lost.*',
  },
  {
    name: 'Infrastructure errors',
    description: 'Anything else that stopped the run: preparation, a step, adb, the host.',
    matchedStatuses: ['broken'],
    messageRegex: '(?s)(?!.*(capture not working|phone lost|did not prove it ran)).*',
  },
];
