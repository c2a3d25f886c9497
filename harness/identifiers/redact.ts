/**
 * Identifiers are secrets in phonehome's own output: once the values are known, every text the
 * analysis keeps (request lines, names, DNS questions, warnings) shows each value masked instead, in
 * the forms a person would recognise (as written, lower and upper case) and in those that can be
 * turned back into it (hex, base64, base32). The capture file itself
 * stays as recorded: it is the evidence.
 */
import type { Flow } from '../flows/flow.js';
import type { SoughtIdentifier } from './find-leaks.js';
import { maskId } from './mask.js';
import { base32, variants } from './needles.js';

/**
 * A function that masks the values in one text, its pattern built once (for logcat, line by line).
 * Identity when no value is long enough to mask.
 */
export function identifierRedactor(sought: SoughtIdentifier[]): (text: string) => string {
  const forms = new Map<string, string>();
  for (const s of sought) {
    if (s.value.length < 6) continue; // too short to tell from other text
    const masked = maskId(s.value);
    for (const f of [s.value, s.value.toLowerCase(), s.value.toUpperCase()]) forms.set(f, masked);
    // What can be turned back into the value (hex, base64 of each written form) is masked too: a host
    // name with the serial hex-encoded in a label shows the label masked. Hashes cannot be undone.
    for (const v of variants(s.kind, s.value)) {
      const b = Buffer.from(v.text);
      for (const e of [
        b.toString('hex'),
        b.toString('hex').toUpperCase(),
        b.toString('base64').replace(/=+$/, ''),
        b.toString('base64url'),
        base32(b),
        base32(b).toLowerCase(),
      ])
        if (!forms.has(e)) forms.set(e, maskId(e));
    }
  }
  if (forms.size === 0) return (text) => text;
  // Longest first, so that a value inside another is not masked half-way.
  const keys = [...forms.keys()].sort((a, b) => b.length - a.length);
  const shortest = keys[keys.length - 1]!.length;
  const pattern = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => {
    if (text.length < shortest) return text;
    // The text itself when nothing in it is masked: a hundred thousand names are not copied.
    pattern.lastIndex = 0;
    if (!pattern.test(text)) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, (m) => forms.get(m) ?? m);
  };
}

/**
 * Masks the values in what of each flow came from its packets' contents (names, the TLS hello, the
 * HTTP request, the app tag), in place, with a redactor from identifierRedactor; the rest of a flow
 * (addresses, counts, states) is the table's own. Returns the flows.
 */
export function redactFlows(flows: Flow[], fix: (text: string) => string): Flow[] {
  for (const f of flows) {
    for (const n of f.names) n.name = fix(n.name);
    if (f.tls) redactWith(f.tls, fix);
    if (f.http) redactWith(f.http, fix);
    if (f.app) redactWith(f.app, fix);
    if (f.intercepted) redactWith(f.intercepted, fix);
  }
  return flows;
}

/** Replaces identifier values in every string of a JSON-like value, in place; returns it. */
export function redactIdentifiers<T>(value: T, sought: SoughtIdentifier[]): T {
  return redactWith(value, identifierRedactor(sought));
}

/** The same with a redactor already built (identifierRedactor). */
export function redactWith<T>(value: T, fix: (text: string) => string): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return fix(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = walk(v[i]);
      return v;
    }
    if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) o[k] = walk(o[k]);
      return o;
    }
    return v;
  };
  return walk(value) as T;
}
