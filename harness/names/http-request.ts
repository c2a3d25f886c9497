/**
 * The request line and Host header at the start of a plain-text HTTP/1.x stream. The request line
 * is checked byte by byte as it arrives, so a stream that is something else (TLS, SSH, a binary
 * protocol) is told apart within its first few bytes rather than after the header cap.
 */

import type { HttpRequestInfo } from '../flows/flow.js';
import { latin1, normaliseHostName } from './host-name.js';

/** Most header bytes (request line included) read before answering with what was found. */
export const HTTP_HEADER_CAP = 16 * 1024;

/** Longest method token accepted ("PROPPATCH", "M-SEARCH" and friends fit well within). */
const MAX_METHOD = 24;

/** The client connection preface of HTTP/2 with prior knowledge (RFC 9113 §3.4). */
const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/** What readHttpRequest made of a stream prefix. */
export type HttpRequestResult =
  | {
      status: 'ok';
      info: HttpRequestInfo;
      /**
       * Bytes of the request line and header section, the empty line included: where the body, or
       * a CONNECT tunnel's stream, begins. Absent when HTTP_HEADER_CAP was reached first.
       */
      headerLength?: number;
    }
  | { status: 'need-more' }
  | { status: 'not-http' };

/** True when the stream starts with the whole HTTP/2 prior-knowledge preface (readHttpRequest calls it 'not-http'). */
export function isHttp2Preface(stream: Uint8Array): boolean {
  if (stream.length < H2_PREFACE.length) return false;
  for (let i = 0; i < H2_PREFACE.length; i++) if (stream[i] !== H2_PREFACE.charCodeAt(i)) return false;
  return true;
}

const NOT_HTTP: HttpRequestResult = { status: 'not-http' };
const NEED_MORE: HttpRequestResult = { status: 'need-more' };
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

/** Method: upper-case letters, with '-' or '_' after the first (RFC 9110 allows any token; real methods are these). */
function isMethodByte(c: number, first: boolean): boolean {
  return (c >= 0x41 && c <= 0x5a) || (!first && (c === 0x2d || c === 0x5f));
}

/**
 * Reads an HTTP/1.0 or 1.1 request from the first bytes of a client→server TCP stream. 'ok' once
 * the header section is complete (or HTTP_HEADER_CAP bytes of it have arrived after a valid
 * request line); 'need-more' while it could still be one; 'not-http' otherwise, including
 * HTTP/0.9 and the HTTP/2 preface (see isHttp2Preface).
 */
export function readHttpRequest(stream: Uint8Array): HttpRequestResult {
  const b = stream;
  const n = Math.min(b.length, HTTP_HEADER_CAP);
  // Out of bytes in the request line: wait for more, unless the cap is already reached.
  const short = (): HttpRequestResult => (b.length >= HTTP_HEADER_CAP ? NOT_HTTP : NEED_MORE);
  // Method, then one space.
  let p = 0;
  while (p < n && b[p] !== SP) {
    if (p >= MAX_METHOD || !isMethodByte(b[p]!, p === 0)) return NOT_HTTP;
    p++;
  }
  if (p === n) return short();
  if (p === 0) return NOT_HTTP;
  const method = latin1(b, 0, p);
  // Target: visible characters up to the next space.
  const targetStart = ++p;
  while (p < n && b[p] !== SP) {
    if (b[p]! <= SP || b[p]! >= 0x7f) return NOT_HTTP;
    p++;
  }
  if (p === n) return short();
  if (p === targetStart) return NOT_HTTP;
  const target = latin1(b, targetStart, p);
  // Version: "HTTP/d.d", then CRLF (a bare LF is tolerated).
  const versionStart = ++p;
  const expect = 'HTTP/';
  for (let i = 0; i < 8; i++, p++) {
    if (p === n) return short();
    const c = b[p]!;
    const ok = i < 5 ? c === expect.charCodeAt(i) : i === 6 ? c === 0x2e : c >= 0x30 && c <= 0x39;
    if (!ok) return NOT_HTTP;
  }
  const version = latin1(b, versionStart, p);
  if (version !== 'HTTP/1.0' && version !== 'HTTP/1.1') return NOT_HTTP;
  if (p < n && b[p] === CR) p++;
  if (p === n) return short();
  if (b[p] !== LF) return NOT_HTTP;
  p++;
  // Header fields, until an empty line.
  let host: string | undefined;
  let sawHost = false;
  let headerLength: number | undefined;
  for (;;) {
    let eol = p;
    while (eol < n && b[eol] !== LF) eol++;
    if (eol === n) {
      if (b.length < HTTP_HEADER_CAP) return NEED_MORE;
      break; // cap reached: answer with what the request line and headers so far say
    }
    const end = eol > p && b[eol - 1] === CR ? eol - 1 : eol;
    if (end === p) {
      headerLength = eol + 1; // empty line: end of the header section
      break;
    }
    if (!sawHost && end - p >= 5 && isHostField(b, p)) {
      sawHost = true; // the first Host field counts; a second one makes the request invalid anyway
      host = hostFromAuthority(latin1(b, p + 5, end).trim());
    }
    p = eol + 1;
  }
  const info: HttpRequestInfo = { method, target, version };
  host ??= sawHost ? undefined : hostFromTarget(method, target);
  if (host !== undefined) info.host = host;
  return headerLength === undefined ? { status: 'ok', info } : { status: 'ok', info, headerLength };
}

/** "host:" in any case at p. */
function isHostField(b: Uint8Array, p: number): boolean {
  return (
    (b[p]! | 0x20) === 0x68 &&
    (b[p + 1]! | 0x20) === 0x6f &&
    (b[p + 2]! | 0x20) === 0x73 &&
    (b[p + 3]! | 0x20) === 0x74 &&
    b[p + 4] === 0x3a
  );
}

/** Without a Host field: the authority of an absolute-form target, or of CONNECT's authority-form. */
function hostFromTarget(method: string, target: string): string | undefined {
  if (method === 'CONNECT') return hostFromAuthority(target);
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  if (!m) return undefined;
  const authority = m[1]!;
  return hostFromAuthority(authority.slice(authority.lastIndexOf('@') + 1));
}

/** The host of "host", "host:port", "[v6]" or "[v6]:port", lower case; undefined when malformed. */
function hostFromAuthority(authority: string): string | undefined {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return undefined;
    const rest = authority.slice(close + 1);
    if (rest !== '' && !/^:\d*$/.test(rest)) return undefined;
    return canonicalIpv6(authority.slice(1, close));
  }
  const colon = authority.indexOf(':');
  if (colon >= 0 && !/^\d*$/.test(authority.slice(colon + 1))) return undefined;
  return normaliseHostName(colon >= 0 ? authority.slice(0, colon) : authority);
}

/** An IPv6 literal in the canonical text form the packet layer uses, or undefined when it is not one. */
function canonicalIpv6(literal: string): string | undefined {
  if (!/^[0-9a-f:.]+$/i.test(literal)) return undefined;
  try {
    return new URL(`http://[${literal}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}
