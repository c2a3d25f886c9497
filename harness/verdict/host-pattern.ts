/**
 * Host patterns of allowlist `host` rules: an exact name ("api.account.xiaomi.com") or a wildcard
 * ("*.xiaomi.net") that matches every subdomain at any depth (a.xiaomi.net, a.b.xiaomi.net) but not the
 * bare suffix (xiaomi.net): write a second rule for that. Matching ignores case and a trailing dot.
 */

/** A checked host pattern. */
export interface HostPattern {
  /** The pattern as written, lower case, without a trailing dot. */
  text: string;
  /** For "*.suffix": the suffix with its leading dot (".xiaomi.net"); undefined for an exact name. */
  suffix?: string;
}

// Letters, digits, hyphen and underscore (underscore appears in real service names like _dns.resolver.arpa).
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Checks a host pattern; returns it, or a sentence saying what is wrong with it. */
export function parseHostPattern(
  raw: string,
): { ok: true; pattern: HostPattern } | { ok: false; problem: string } {
  let text = raw.trim().toLowerCase();
  if (text.endsWith('.')) text = text.slice(0, -1);
  if (text === '') return { ok: false, problem: 'is empty' };
  const wildcard = text.startsWith('*.');
  const rest = wildcard ? text.slice(2) : text;
  if (rest.includes('*')) {
    return { ok: false, problem: 'has a "*" that is not a leading "*." label (write "*.example.com")' };
  }
  if (rest.length > 253) return { ok: false, problem: 'is longer than 253 characters' };
  const bad = rest.split('.').find((l) => !LABEL.test(l));
  if (bad !== undefined && /[^\x00-\x7f]/.test(bad)) {
    return {
      ok: false,
      problem: `is not a host name as sent on the wire: write label "${bad}" in its xn-- (punycode) form`,
    };
  }
  if (bad !== undefined) {
    return { ok: false, problem: `is not a host name (label "${bad}" is not letters, digits, "-" or "_")` };
  }
  return { ok: true, pattern: wildcard ? { text, suffix: `.${rest}` } : { text } };
}

/** True when the host name (as seen on the wire) matches the pattern. */
export function hostMatches(pattern: HostPattern, host: string): boolean {
  let name = host.toLowerCase();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (pattern.suffix === undefined) return name === pattern.text;
  return name.length > pattern.suffix.length && name.endsWith(pattern.suffix);
}
