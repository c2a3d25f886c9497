/**
 * Allure categories (categories.json) that sort phonehome's runs by what went wrong, as the run
 * record says it: each status trace starts with the record line (recordLine in
 * harness/record/run-record.ts), e.g. "[phonehome outcome=broken stage=analysis kind=capture]", and
 * these patterns match that line, never the words of a reason. Allure 2 matches a regex against the
 * whole trace (Java `matches`), so every pattern spans it. Allure 2.46 puts a run in the first
 * category that matches it, and only that one (CategoriesPlugin: filter, findFirst): the order below
 * is the order of the news. Drift comes first: a run that did something new tonight is the morning's
 * first question, whether it also broke the allowlist (its violations are still its message and
 * steps) or passed under drift: warn.
 */

/** One entry of categories.json (allure-js-commons' Category, with plain status strings). */
export interface CategoryDef {
  /** Shown as the category's title. */
  name: string;
  /** One line for people. */
  description: string;
  /** Statuses the category takes. */
  matchedStatuses: ('failed' | 'broken' | 'passed' | 'skipped')[];
  /** Java regex the whole status trace must match. */
  traceRegex: string;
}

/** A pattern for a record line whose fields after "[phonehome " match `fields`, anywhere in the trace. */
function record(fields: string): string {
  return `(?s).*\\[phonehome ${fields}[ \\]].*`;
}

/** The categories, in the order Allure tries them: a run is in the first that matches. */
export const PHONEHOME_CATEGORIES: CategoryDef[] = [
  {
    name: 'Drift: changed since the baseline',
    description:
      'The run did what its accepted runs (its baseline) did not: a new host, country, organisation, identifier ' +
      'leak or app, an expected host gone, or a volume far outside their range. Under drift: warn (the ' +
      'default) the run still passes and is listed here; a run that also broke the allowlist is listed here ' +
      'rather than under its violations, which its message and steps still name.',
    matchedStatuses: ['passed', 'failed'],
    traceRegex: record('outcome=(passed|failed)[^\\]\\n]* drift'),
  },
  {
    name: 'Identifier leaks',
    description:
      'The phone sent its identifiers (IMEI, Android ID, serial, MACs, SIM values, accounts, the app list) where its allowlist does not allow them.',
    matchedStatuses: ['failed'],
    traceRegex: record('outcome=failed[^\\]\\n]* identifier-leaks'),
  },
  {
    name: 'Policy violations',
    description: 'The phone contacted hosts its allowlist does not allow, or went over a budget.',
    matchedStatuses: ['failed'],
    traceRegex: record('outcome=failed[^\\]\\n]* (violations|budget-exceeded)'),
  },
  {
    name: 'Unmet expectations',
    description:
      'Traffic the allowlist expects (an expect rule) did not happen: beside violations (failed), or alone, ' +
      'when the run did not prove the scenario ran (broken).',
    matchedStatuses: ['failed', 'broken'],
    traceRegex: record('outcome=(failed[^\\]\\n]* unmet-expectations|broken stage=\\S+ kind=no-proof)'),
  },
  {
    name: 'Capture not working',
    description:
      'The capture did not start, could not be read, or missed the canaries: the run proves nothing.',
    matchedStatuses: ['broken'],
    traceRegex: record('outcome=broken stage=\\S+ kind=capture'),
  },
  {
    name: 'Phone lost',
    description: 'The phone went away (unplugged, rebooted, adb transport dropped) during the run.',
    matchedStatuses: ['broken'],
    traceRegex: record('outcome=broken stage=\\S+ kind=device-lost'),
  },
  {
    name: 'Infrastructure errors',
    description: 'Anything else that stopped the run: preparation, a step, adb, the host, an interruption.',
    matchedStatuses: ['broken'],
    traceRegex: record('outcome=broken stage=\\S+ kind=(preparation|step|interrupted|infrastructure)'),
  },
];
