/**
 * Which behaviours of a traffic profile are active in a phone state, with which misbehaviours on.
 * Pure: the traffic agent calls it on every state change; tests call it to know what to expect.
 */
import { createHash } from 'node:crypto';
import type { TrafficState } from '../contracts.js';
import type { Behaviour, BehaviourWhen, TrafficProfile } from './traffic-schema.js';

/**
 * The periodic behaviours active in `state`, in file order (normal ones, then the misbehaviours' own).
 */
export function activeBehaviours(
  profile: TrafficProfile,
  state: TrafficState,
  misbehave: string[],
): Behaviour[] {
  return matching(profile, state, misbehave).filter((b) => b.on === undefined);
}

/**
 * The behaviours that answer the events whose counts rose from `before` to `state`, once per rise
 * (two contacts saved: two occurrences), in file order.
 */
export function eventOccurrences(
  profile: TrafficProfile,
  before: TrafficState['events'] | undefined,
  state: TrafficState,
  misbehave: string[],
): Behaviour[] {
  const out: Behaviour[] = [];
  for (const b of matching(profile, state, misbehave)) {
    if (b.on === undefined) continue;
    const rise = state.events[b.on] - (before?.[b.on] ?? state.events[b.on]);
    for (let i = 0; i < Math.min(rise, 20); i++) out.push(b);
  }
  return out;
}

function matching(profile: TrafficProfile, state: TrafficState, misbehave: string[]): Behaviour[] {
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

/** What a template may do to a value before it goes out, innermost last: {md5:nosep:wifiMac}. */
const TEMPLATE_FNS: Record<string, (v: string) => string> = {
  sha256: (v) => createHash('sha256').update(v).digest('hex'),
  sha1: (v) => createHash('sha1').update(v).digest('hex'),
  md5: (v) => createHash('md5').update(v).digest('hex'),
  base64: (v) => Buffer.from(v).toString('base64'),
  hex: (v) => Buffer.from(v).toString('hex'),
  lower: (v) => v.toLowerCase(),
  upper: (v) => v.toUpperCase(),
  nosep: (v) => v.replace(/[:-]/g, ''),
};

/**
 * Fills {imei}, {androidId}, {serial}, {advertisingId}, {wifiMac}, {imsi}, {iccid}, {phoneNumber} in a value from the phone's
 * identifiers, each optionally through functions applied right to left: {sha256:imei}, {md5:nosep:wifiMac}.
 */
export function fillIds(value: string, ids: TrafficState['ids']): string {
  return value.replace(
    /\{((?:[a-z0-9]+:)*)(imei|androidId|serial|advertisingId|wifiMac|imsi|iccid|phoneNumber)\}/g,
    (whole, fns: string, k: keyof TrafficState['ids']) => {
      let v = ids[k];
      for (const fn of fns.split(':').filter(Boolean).reverse()) {
        const f = TEMPLATE_FNS[fn];
        if (!f) return whole;
        v = f(v);
      }
      return v;
    },
  );
}

/**
 * A JSON body template filled: strings through fillIds, the string "{apps}" as the installed-package
 * list, "{contacts}" as the contacts' phone numbers.
 */
export function fillJson(value: unknown, st: Pick<TrafficState, 'ids' | 'packages' | 'contacts'>): unknown {
  if (value === '{apps}') return [...st.packages];
  if (value === '{contacts}') return [...st.contacts];
  if (typeof value === 'string') return fillIds(value, st.ids);
  if (Array.isArray(value)) return value.map((v) => fillJson(v, st));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillJson(v, st)]));
  return value;
}
