/**
 * Which behaviours of a traffic profile are active in a phone state, with which misbehaviours on.
 * Pure: the traffic agent calls it on every state change; tests call it to know what to expect.
 */
import type { TrafficState } from '../contracts.js';
import type { Behaviour, BehaviourWhen, TrafficProfile } from './traffic-schema.js';

/** The behaviours active in `state`, in file order (normal ones, then the misbehaviours' own). */
export function activeBehaviours(
  profile: TrafficProfile,
  state: TrafficState,
  misbehave: string[],
): Behaviour[] {
  if (!state.online) return [];
  const on = misbehave.map((name) => {
    const m = profile.misbehaviour[name];
    if (!m)
      throw new RangeError(
        `unknown misbehaviour "${name}" (known: ${Object.keys(profile.misbehaviour).join(', ')})`,
      );
    return m;
  });
  const ignored = (b: Behaviour): Set<string> => {
    const s = new Set<string>();
    for (const m of on)
      if (m.ignoreConsent && b.tags.some((t) => m.ignoreConsent!.tags.includes(t)))
        for (const c of m.ignoreConsent.conditions) s.add(c);
    return s;
  };
  const all = [...profile.behaviours, ...on.flatMap((m) => m.behaviours)];
  return all.filter((b) => matches(b.when, state, ignored(b)));
}

function matches(when: BehaviourWhen, state: TrafficState, ignore: Set<string>): boolean {
  for (const [key, want] of Object.entries(when)) {
    if (want === undefined || ignore.has(key)) continue;
    if (key === 'foreground') {
      if (state.foregroundPackage !== want) return false;
    } else if (state[key as Exclude<keyof BehaviourWhen, 'foreground'>] !== want) return false;
  }
  return true;
}

/** Every host name the active behaviours contact. */
export function activeHosts(profile: TrafficProfile, state: TrafficState, misbehave: string[]): Set<string> {
  return new Set(activeBehaviours(profile, state, misbehave).flatMap((b) => b.hosts));
}

/** Fills {imei}, {androidId}, {serial}, {advertisingId} in a query value from the phone's identifiers. */
export function fillIds(value: string, ids: TrafficState['ids']): string {
  return value.replace(
    /\{(imei|androidId|serial|advertisingId)\}/g,
    (_, k: keyof TrafficState['ids']) => ids[k],
  );
}
