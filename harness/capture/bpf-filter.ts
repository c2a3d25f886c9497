/** The capture filter for one phone, built only from checked addresses (phone data is untrusted). */
import { isIP } from 'node:net';
import { CaptureError } from '../errors.js';
import type { CaptureTarget } from '../run/capture.js';

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/**
 * A BPF expression matching the phone's traffic: its addresses and/or its MAC. Empty when the target
 * names nothing (capture everything on the interface).
 */
export function phoneFilter(backend: string, target: CaptureTarget): string {
  const parts: string[] = [];
  for (const a of target.addrs) {
    const v = isIP(a);
    if (v === 0)
      throw new CaptureError(backend, `not an IP address for the capture filter: ${JSON.stringify(a)}`);
    parts.push(`host ${a}`);
  }
  if (target.mac !== undefined) {
    if (!MAC.test(target.mac)) {
      throw new CaptureError(
        backend,
        `not a MAC address for the capture filter: ${JSON.stringify(target.mac)}`,
      );
    }
    parts.push(`ether host ${target.mac.toLowerCase()}`);
  }
  return parts.join(' or ');
}
