/**
 * Identifiers are secrets in phonehome's own output: shown masked (the first and last four
 * characters) with a keyed fingerprint, so that two runs of one phone can be compared without the
 * value. The key is the lab's (PHONEHOME_ID_KEY), else one made per machine and kept beside the
 * reports; the raw values stay in memory.
 */
import { createHmac } from 'node:crypto';

/** `8685…4567` for long values; short ones show less, never more than half of the value. */
export function maskId(value: string): string {
  if (value.length <= 4) return '…';
  const keep = Math.min(4, Math.floor(value.length / 4));
  return `${value.slice(0, keep)}…${value.slice(-keep)}`;
}

/** A keyed fingerprint of the value: the first 12 hex digits of HMAC-SHA256(key, value). */
export function fingerprintId(key: string | Buffer, value: string): string {
  return createHmac('sha256', key).update(value).digest('hex').slice(0, 12);
}
