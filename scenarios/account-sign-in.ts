import type { Scenario } from '../harness/run/scenario.js';

/**
 * The maker's account signed in through Settings, kept for a while, then signed out: a Mi account on
 * a Xiaomi, a Google account on a Pixel. The account service must be seen after the sign-in (F-Secure
 * 2014 found a Redmi 1S's account service receiving the carrier, IMEI and phone number; Leith's
 * handset studies measure sign-in), and the account's own check-ins stop after the sign-out. The
 * account and password are typed from the lab host's environment, never from a file.
 */
export const accountSignIn: Scenario = {
  name: 'account-sign-in',
  description:
    "Sign in to the maker's account through Settings (Mi account on a Xiaomi, Google account on a Pixel), stay signed in for ten minutes, sign out and wait. The account service must be seen (api.account.xiaomi.com, F-Secure 2014; Google's *-pa.googleapis.com services after sign-in, Leith 2021). The phone starts signed out; the account comes from the lab host's environment.",
  needs: ['appium'],
  requires: { 'vendor-account': "the maker's account, signed in through Settings" },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'sign in', action: 'account.signIn' },
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'signed in', ms: 10 * 60_000 },
    // Put the phone back as it was, so the scenarios after this one start signed out.
    { kind: 'action', name: 'sign out', action: 'account.signOut' },
    { kind: 'action', name: 'go home again', action: 'home' },
    { kind: 'wait', name: 'after sign-out', ms: 5 * 60_000 },
  ],
};
