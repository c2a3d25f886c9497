/**
 * The reply of `service call iphonesubinfo CODE …` as the shell prints it: a hex dump of a Parcel.
 * Word 0 is the exception code (0 = none), word 1 the string's length in UTF-16 units (-1 = null),
 * then the UTF-16LE units two per little-endian word. Decoded from the hex words, never from the
 * quoted column (which shows any non-ASCII unit, and a real '.', as '.').
 */

/** What a reply says. */
export type ParcelReply =
  | { kind: 'string'; value: string }
  | { kind: 'null' }
  /** The service refused (an exception code, with its message when there is one). */
  | { kind: 'refused'; code: number; message: string }
  /** Not a Parcel dump at all (no such service, a shell error). */
  | { kind: 'unreadable'; why: string };

/** The hex words of the dump, in order. */
function words(text: string): number[] | undefined {
  const start = text.indexOf('Parcel(');
  if (start < 0) return undefined;
  const out: number[] = [];
  for (const line of text.slice(start + 'Parcel('.length).split('\n')) {
    // Drop the offset ("0x00000010:") and the quoted column; keep the 8-digit hex words.
    const body = line.replace(/^\s*0x[0-9a-f]+:/i, '').replace(/'.*$/, '');
    for (const w of body.match(/\b[0-9a-f]{8}\b/gi) ?? []) out.push(Number.parseInt(w, 16) >>> 0);
  }
  return out;
}

/** UTF-16 units from the words after `from`, `n` of them. */
function units(ws: number[], from: number, n: number): string | undefined {
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = ws[from + (i >> 1)];
    if (w === undefined) return undefined;
    codes.push(i % 2 === 0 ? w & 0xffff : w >>> 16);
  }
  return String.fromCharCode(...codes);
}

/** Decodes the printed reply of a `service call` that returns one String16. */
export function decodeParcelString(text: string): ParcelReply {
  const ws = words(text.replace(/\r/g, ''));
  if (!ws || ws.length === 0)
    return { kind: 'unreadable', why: text.trim().split('\n')[0]?.slice(0, 200) || 'no output' };
  const exception = ws[0]! | 0;
  if (exception !== 0) {
    // An exception: a String16 message follows (its length, then the units).
    const len = ws[1] === undefined ? -1 : ws[1] | 0;
    const message = len > 0 && len < 4096 ? (units(ws, 2, len) ?? '') : '';
    return { kind: 'refused', code: exception, message };
  }
  if (ws.length < 2) return { kind: 'null' };
  const len = ws[1]! | 0;
  if (len === -1) return { kind: 'null' };
  if (len < 0 || len > 4096) return { kind: 'unreadable', why: `string length ${len}` };
  const value = units(ws, 2, len);
  if (value === undefined)
    return { kind: 'unreadable', why: `the dump holds fewer than ${len} UTF-16 units` };
  return { kind: 'string', value };
}

/** The IMEI check digit is right (Luhn over the first 14 digits). */
export function luhnValid(digits: string): boolean {
  if (!/^\d{15}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 15; i++) {
    let d = digits.charCodeAt(i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
