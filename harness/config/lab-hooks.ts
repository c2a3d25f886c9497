/**
 * Lab hooks: things done to a phone from outside it, which only the lab can do (a SIM card put in or
 * taken out by a SIM switch, an SMS sent to it, a factory reset, …). Scenarios name them in `lab` steps; the config's `hooks:` gives the
 * command for each; simulated phones have their own.
 */
export const LAB_HOOKS = {
  'sim.insert': "put the phone's SIM card in",
  'sim.remove': "take the phone's SIM card out",
  'sms.receive': "send the phone an SMS (the lab's modem or SMS gateway, to the phone's number)",
  'phone.reset':
    "factory-reset the phone and return once it is back on adb in its setup wizard (the lab's documented procedure: a real phone cannot be reset over adb without root)",
} as const;

/** A hook's name. */
export type LabHook = keyof typeof LAB_HOOKS;

/** Every hook name. */
export const LAB_HOOK_NAMES = Object.keys(LAB_HOOKS) as LabHook[];
