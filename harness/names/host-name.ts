/**
 * One rule for every host name read off the wire (SNI, Host header, DNS): lower case, no trailing
 * dot, printable ASCII only. A name that breaks the rule is dropped rather than repaired, since a
 * "repaired" name could match an allowlist entry the sender never named.
 */

/** Longest name kept: a DNS name's 253 characters in text form, plus slack for odd SNI values. */
const MAX_NAME = 255;

/**
 * The canonical form of a host name taken from untrusted bytes, or undefined when it is empty,
 * too long, or holds anything but printable non-space ASCII.
 */
export function normaliseHostName(raw: string): string | undefined {
  let name = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (name.length === 0 || name.length > MAX_NAME) return undefined;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return undefined;
  }
  name = name.toLowerCase();
  return name;
}

/** Bytes as a string of the same code points (latin1): never throws, keeps every byte visible to the checks above. */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** True when the name is the domain itself or a name below it (canary.test covers a.canary.test). */
export function isUnderDomain(name: string, domain: string): boolean {
  return name === domain || name.endsWith(`.${domain}`);
}
