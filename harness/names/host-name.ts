/**
 * One rule for every host name read off the wire (SNI, QUIC SNI, Host header, DNS): lower case, no
 * trailing dot, and every byte a host name cannot hold kept but escaped, so that the name tells the
 * truth about what was sent: `a\x00b.evil.test`, `\\` for a backslash, `\.` for a dot inside a DNS
 * label (so label boundaries survive). Such a name is never repaired into another name and never
 * dropped; hostNameValid() tells it apart, and no allowlist rule can allow it.
 */
import type { FlowName, NameSource } from '../flows/flow.js';
import { parseIp } from '../packets/ip-text.js';

/** Characters kept of a name read off the wire: room for a DNS name's 253, escaped, with slack. */
const MAX_KEPT = 1024;

/** Letters, digits, "-" and "_" (real service names such as _dns.resolver.arpa use it). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

function escapeCode(c: number): string {
  if (c === 0x5c) return '\\\\';
  return `\\x${c.toString(16).padStart(2, '0')}`;
}

/**
 * The canonical form of a host name taken from untrusted text whose code points are the bytes as
 * sent (latin1), or undefined when it is empty. Bytes outside printable ASCII, and the backslash,
 * are escaped; upper-case ASCII letters are lowered.
 */
export function normaliseHostName(raw: string): string | undefined {
  const text = raw.endsWith('.') ? raw.slice(0, -1) : raw;
  if (text.length === 0) return undefined;
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x5c) {
      plain = false;
      break;
    }
  }
  if (plain) return text.length > MAX_KEPT ? text.slice(0, MAX_KEPT).toLowerCase() : text.toLowerCase();
  return escapeText(text, false).slice(0, MAX_KEPT);
}

/**
 * Text whose code points are bytes, escaped as names are kept: controls, spaces, non-ASCII and the
 * backslash as \xHH or \\, a dot as `\.` when it sits inside a DNS label; ASCII letters lowered.
 */
function escapeText(text: string, dotsInLabel: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e && dotsInLabel) out += '\\.';
    else if (c <= 0x20 || c >= 0x7f || c === 0x5c) out += escapeCode(c & 0xff);
    else out += c >= 0x41 && c <= 0x5a ? String.fromCharCode(c + 0x20) : text[i];
  }
  return out;
}

/** A DNS name from its labels (each the label's bytes as code points), in normaliseHostName's form. */
export function nameFromLabels(labels: readonly string[]): string | undefined {
  if (labels.length === 0) return undefined;
  return labels
    .map((l) => escapeText(l, true))
    .join('.')
    .slice(0, MAX_KEPT);
}

/**
 * True when the name (as kept) is one a host can have: labels of letters, digits, "-" and "_" of at
 * most 63 characters, at most 253 in all, or an IP address literal (an HTTP Host may be one).
 */
export function hostNameValid(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  if (name.includes(':')) return parseIp(name) !== undefined;
  const labels = name.split('.');
  for (const l of labels) if (!LABEL.test(l)) return false;
  return true;
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

/** Validity of names seen lately: a capture names a few thousand hosts over and over. */
const validity = new Map<string, boolean>();

/** A name of a flow as evidence: flagged invalid when no host can have it. */
export function flowName(name: string, source: NameSource): FlowName {
  let valid = validity.get(name);
  if (valid === undefined) {
    valid = hostNameValid(name);
    if (validity.size >= 20_000) validity.clear();
    validity.set(name, valid);
  }
  return valid ? { name, source } : { name, source, invalid: true };
}
