/**
 * The canary domain of runs that do not configure one: canaries are start-RUNID.DOMAIN and
 * end-RUNID.DOMAIN, names under the reserved .test domain that no phone looks up by itself.
 */
export const DEFAULT_CANARY_DOMAIN = 'canary.phonehome.test';
