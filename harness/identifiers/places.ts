/**
 * Where in a flow's bytes an identifier can sit, each place with the bytes to search and the
 * containers undone to get them: HTTP/1.x requests (the path, each query parameter, each header, each
 * cookie, the body after chunked transfer and Content-Encoding, and inside it each form field, JSON
 * value by its path, multipart part, or a base64 text and what it holds), DNS query labels, and
 * the raw bytes of everything else. Pure: bytes in, places out.
 */
import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

/** One place to search. */
export interface Place {
  /** Where, as a person reads it: `URL query imei`, `header Cookie key uid`, `body JSON $.device.aid`. */
  where: string;
  bytes: Uint8Array;
  /** Containers undone to get these bytes, outermost first (`gzip`, `base64`, `urlencode`). */
  containers: string[];
  /** Offset in the side's bytes where the place's message begins (for its time). */
  offset: number;
}

/** A decompressed body over this is cut here: a bomb must not take the machine. */
const MAX_INFLATED = 8 << 20;

const REQUEST_LINE = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP\/1\.[01]\r?\n/;

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** Undoes one Content-Encoding; undefined when the bytes are not in it. */
function inflate(coding: string, body: Buffer): Buffer | undefined {
  const o = { maxOutputLength: MAX_INFLATED };
  try {
    if (coding === 'gzip' || coding === 'x-gzip') return gunzipSync(body, o);
    if (coding === 'br') return brotliDecompressSync(body, o);
    if (coding === 'deflate') {
      try {
        return inflateSync(body, o);
      } catch {
        return inflateRawSync(body, o);
      }
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** Body bytes after chunked transfer coding; `end` is where the message ends in `b`. */
function dechunk(b: Buffer, from: number): { body: Buffer; end: number } {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const nl = b.indexOf('\n', at);
    if (nl < 0) break;
    const size = Number.parseInt(b.subarray(at, nl).toString('latin1').trim().split(';')[0] ?? '', 16);
    if (!Number.isFinite(size) || size < 0) break;
    at = nl + 1;
    if (size === 0) {
      const end = b.indexOf('\n', at);
      at = end < 0 ? b.length : end + 1;
      break;
    }
    parts.push(b.subarray(at, Math.min(b.length, at + size)));
    at += size;
    if (b[at] === 0x0d) at++;
    if (b[at] === 0x0a) at++;
  }
  return { body: Buffer.concat(parts), end: Math.min(at, b.length) };
}

/** The places inside a body of this content type. */
function bodyPlaces(body: Buffer, type: string, containers: string[], offset: number, depth = 0): Place[] {
  // The whole body comes last: what its parts already showed is not reported again for it.
  const whole: Place = { where: 'body', bytes: body, containers, offset };
  const out: Place[] = [];
  const done = () => [...out, whole];
  if (depth > 2 || body.length === 0) return done();
  const text = body.toString('utf8');
  if (/json/i.test(type) || /^\s*[[{]/.test(text)) {
    try {
      const walk = (v: unknown, path: string) => {
        if (v !== null && typeof v === 'object') {
          for (const [k, x] of Object.entries(v as Record<string, unknown>))
            walk(
              x,
              Array.isArray(v)
                ? `${path}[${k}]`
                : /^[A-Za-z_$][\w$]*$/.test(k)
                  ? `${path}.${k}`
                  : `${path}[${JSON.stringify(k)}]`,
            );
        } else if (v !== null && v !== undefined) {
          out.push({
            where: `body JSON ${path}`,
            bytes: Buffer.from(String(v)),
            containers: [...containers, 'json'],
            offset,
          });
        }
      };
      walk(JSON.parse(text), '$');
      return done();
    } catch {
      // not JSON after all
    }
  }
  if (/x-www-form-urlencoded/i.test(type)) {
    for (const pair of text.split('&')) {
      const eq = pair.indexOf('=');
      const k = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
      const v = eq < 0 ? '' : pair.slice(eq + 1);
      out.push({ where: `body form ${k}`, bytes: Buffer.from(v), containers, offset });
      const dv = safeDecode(v);
      if (dv !== v)
        out.push({
          where: `body form ${k}`,
          bytes: Buffer.from(dv),
          containers: [...containers, 'urlencode'],
          offset,
        });
    }
    return out;
  }
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/multipart/i.test(type) && boundary) {
    for (const part of text.split(`--${boundary}`)) {
      const head = part.indexOf('\r\n\r\n');
      if (head < 0) continue;
      const name = /name="([^"]*)"/i.exec(part.slice(0, head))?.[1] ?? '?';
      const content = Buffer.from(part.slice(head + 4).replace(/\r\n$/, ''), 'utf8');
      out.push({ where: `body part ${name}`, bytes: content, containers, offset });
    }
    return done();
  }
  // A body that is one base64 text: what it holds (and that gunzipped, as SDKs send base64(gzip(json))).
  const compact = text.trim();
  if (compact.length >= 16 && /^[A-Za-z0-9+/_-]+=*$/.test(compact)) {
    const decoded = Buffer.from(compact, /[-_]/.test(compact) ? 'base64url' : 'base64');
    const gz = decoded[0] === 0x1f && decoded[1] === 0x8b ? inflate('gzip', decoded) : undefined;
    if (gz) out.push(...bodyPlaces(gz, '', [...containers, 'base64', 'gzip'], offset, depth + 1));
    else out.push(...bodyPlaces(decoded, '', [...containers, 'base64'], offset, depth + 1));
  }
  return done();
}

/** Places of the HTTP/1.x requests at the start of a client's stream; undefined when it is not HTTP. */
export function httpRequestPlaces(b: Buffer): Place[] | undefined {
  const out: Place[] = [];
  let at = 0;
  while (at < b.length) {
    const head = b.subarray(at, Math.min(b.length, at + 8192)).toString('latin1');
    const m = REQUEST_LINE.exec(head);
    if (!m) break;
    const headerEnd = head.search(/\r?\n\r?\n/);
    const headText = headerEnd < 0 ? head : head.slice(0, headerEnd);
    const bodyStart =
      headerEnd < 0
        ? b.length
        : at + headerEnd + (/\r\n\r\n/.test(head.slice(headerEnd, headerEnd + 4)) ? 4 : 2);
    const target = m[2]!;
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    out.push({ where: 'URL path', bytes: Buffer.from(path), containers: [], offset: at });
    const dpath = safeDecode(path);
    if (dpath !== path)
      out.push({ where: 'URL path', bytes: Buffer.from(dpath), containers: ['urlencode'], offset: at });
    if (q >= 0) {
      for (const pair of target.slice(q + 1).split('&')) {
        const eq = pair.indexOf('=');
        const k = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
        const v = eq < 0 ? '' : pair.slice(eq + 1);
        out.push({ where: `URL query ${k}`, bytes: Buffer.from(v), containers: [], offset: at });
        const dv = safeDecode(v);
        if (dv !== v)
          out.push({
            where: `URL query ${k}`,
            bytes: Buffer.from(dv),
            containers: ['urlencode'],
            offset: at,
          });
      }
    }
    const headers = new Map<string, string>();
    for (const line of headText.split(/\r?\n/).slice(1)) {
      const c = line.indexOf(':');
      if (c <= 0) continue;
      const name = line.slice(0, c).trim();
      const value = line.slice(c + 1).trim();
      headers.set(name.toLowerCase(), value);
      if (name.toLowerCase() === 'host') continue; // the flow's name, judged as a name
      if (name.toLowerCase() === 'cookie') {
        for (const kv of value.split(';')) {
          const eq = kv.indexOf('=');
          const k = (eq < 0 ? kv : kv.slice(0, eq)).trim();
          out.push({
            where: `header Cookie key ${k}`,
            bytes: Buffer.from(eq < 0 ? '' : kv.slice(eq + 1).trim(), 'latin1'),
            containers: [],
            offset: at,
          });
        }
      } else
        out.push({
          where: `header ${name}`,
          bytes: Buffer.from(value, 'latin1'),
          containers: [],
          offset: at,
        });
    }
    let body: Buffer;
    let end: number;
    if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) ({ body, end } = dechunk(b, bodyStart));
    else {
      const len = Number.parseInt(headers.get('content-length') ?? '0', 10);
      const n = Number.isFinite(len) && len > 0 ? len : 0;
      body = b.subarray(bodyStart, Math.min(b.length, bodyStart + n));
      end = bodyStart + n;
    }
    const containers: string[] = [];
    for (const coding of (headers.get('content-encoding') ?? '')
      .split(',')
      .map((x) => x.trim().toLowerCase())
      .filter((x) => x && x !== 'identity')
      .reverse()) {
      const inflated = inflate(coding, body);
      if (!inflated) break;
      body = inflated;
      containers.push(coding);
    }
    if (body.length > 0) out.push(...bodyPlaces(body, headers.get('content-type') ?? '', containers, at));
    if (end <= at) break;
    at = end;
  }
  return out.length ? out : undefined;
}

/** The labels of a DNS message's question, each a place (`DNS label 1` is the leftmost). */
export function dnsQuestionPlaces(d: Uint8Array, offset: number): Place[] {
  if (d.length < 13) return [];
  const out: Place[] = [];
  let at = 12;
  for (let i = 1; at < d.length && i <= 127; i++) {
    const len = d[at]!;
    if (len === 0 || len > 63) break;
    out.push({ where: `DNS label ${i}`, bytes: d.subarray(at + 1, at + 1 + len), containers: [], offset });
    at += 1 + len;
  }
  return out;
}
