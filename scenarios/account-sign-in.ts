import type { Scenario, ScenarioStep } from '../harness/run/scenario.js';

/**
 * The maker's account signed in through Settings, kept for a while, then signed out: a Mi account on
 * a Xiaomi, a Google account on a Pixel. The account service must be seen after the sign-in (F-Secure
 * 2014 found a Redmi 1S's account service receiving the carrier, IMEI and phone number; Leith's
 * handset studies measure sign-in), and the account's own check-ins stop after the sign-out. The
 * account and password are typed from the lab host's environment, never from a file.
 */
/**
 * The steps of account-sign-in and its twin: sign in, stay signed in, sign out; with `backup` on,
 * the maker's cloud backup turned on after the sign-in and off again before the sign-out.
 */
export function accountSignInSteps(backup: 'off' | 'on'): ScenarioStep[] {
  return [
    { kind: 'action', name: 'join Wi-Fi', action: 'wifi.rejoin' },
    { kind: 'wait', name: 'before', ms: 30_000 },
    { kind: 'action', name: 'sign in', action: 'account.signIn' },
    ...(backup === 'on'
      ? [{ kind: 'action', name: 'turn cloud backup on', action: 'backup.enable' } as const]
      : []),
    { kind: 'action', name: 'go home', action: 'home' },
    { kind: 'wait', name: 'signed in', ms: 10 * 60_000 },
    ...(backup === 'on'
      ? [{ kind: 'action', name: 'turn cloud backup off again', action: 'backup.disable' } as const]
      : []),
    // Put the phone back as it was, so the scenarios after this one start signed out.
    { kind: 'action', name: 'sign out', action: 'account.signOut' },
    { kind: 'action', name: 'go home again', action: 'home' },
    { kind: 'wait', name: 'after sign-out', ms: 5 * 60_000 },
  ];
}

export const accountSignIn: Scenario = {
  name: 'account-sign-in',
  description:
    "Sign in to the maker's account through Settings (Mi account on a Xiaomi, Google account on a Pixel), stay signed in for ten minutes, sign out and wait. The account service must be seen (api.account.xiaomi.com, F-Secure 2014; Google's *-pa.googleapis.com services after sign-in, Leith 2021). The phone starts signed out; the account comes from the lab host's environment.",
  needs: ['appium'],
  requires: { 'vendor-account': "the maker's account, signed in through Settings" },
  prepare: [{ kind: 'wake-unlock' }, { kind: 'stay-awake' }],
  steps: accountSignInSteps('off'),
};
