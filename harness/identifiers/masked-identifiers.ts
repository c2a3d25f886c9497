/** The identifiers a run read, as its output may show them: masked, fingerprinted, with their sources. */
import { fingerprintId, maskId } from './mask.js';
import type { PhoneIdentifiers } from './read-identifiers.js';

export function maskedIdentifiers(
  ids: PhoneIdentifiers,
  key: string | Buffer,
): {
  read: { kind: string; slot?: number; masked: string; fingerprint: string; source: string }[];
  unread: { kind: string; slot?: number; tried: string[]; why: string }[];
  packages: number;
} {
  return {
    read: ids.found.map((f) => ({
      kind: f.kind,
      ...(f.slot !== undefined ? { slot: f.slot } : {}),
      masked: maskId(f.value),
      fingerprint: fingerprintId(key, f.value),
      source: f.source,
    })),
    unread: ids.unread.map((u) => ({ ...u, tried: [...u.tried] })),
    packages: ids.packages.length,
  };
}
