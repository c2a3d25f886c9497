/**
 * Making untrusted text (host names, HTTP targets, app names: anything from a capture) safe to print
 * on a terminal. Control characters, escape sequences, line and paragraph separators, bidi overrides
 * and other invisible format characters are shown as visible escapes, so a hostile name can neither
 * move the cursor, recolour the screen, fake a line of output nor reorder what is around it.
 */

// C0 and C1 controls (ESC, CSI 0x9b, newline, DEL…), format characters (bidi embeddings, overrides and
// isolates, zero-width joiners, BOM, soft hyphen), line/paragraph separators, lone surrogates, and the
// backslash itself so that an escape in the output can only mean one thing.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\]/gu;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\\': '\\\\' };

function escapeChar(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.codePointAt(0)!;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** The text with every unsafe character replaced by a visible escape (\x1b, \n, \u202e, \\). */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** terminalSafe(), then cut to at most `max` characters (code points) with a trailing "…". */
export function terminalSafeClipped(text: string, max: number): string {
  const safe = [...terminalSafe(text)];
  return safe.length <= max ? safe.join('') : `${safe.slice(0, Math.max(0, max - 1)).join('')}…`;
}
