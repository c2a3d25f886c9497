/**
 * DNS messages (over UDP, or over TCP with its 2-byte length prefix) reduced to what attribution
 * needs: the names asked for and the addresses and names given back. dns-packet does the decoding;
 * it has no SVCB/HTTPS support (types 64/65), so their RDATA (RFC 9460) is read here.
 */

import { createRequire } from 'node:module';
import type * as DnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { formatIpv6 } from '../packets/ip-text.js';
import { normaliseHostName } from './host-name.js';
import type { DnsMessageInfo } from './name.js';

// Loaded with require: importing this CommonJS package would have Node scan its source for named
// exports first (cjs-module-lexer), which tripled its load time (see cli/commander.ts).
const { decode } = createRequire(import.meta.url)('dns-packet') as typeof DnsPacket;

const TYPE_SVCB = 64;
const TYPE_HTTPS = 65;
/** SvcParamKeys (RFC 9460 §14.3.2) holding address hints. */
const KEY_IPV4HINT = 4;
const KEY_IPV6HINT = 6;
/** Record types kept in `answers`; the others (SOA, OPT, TXT, …) say nothing about where a name points. */
const KEPT = new Set(['A', 'AAAA', 'CNAME', 'SVCB', 'HTTPS']);

/** A DNS answer as DnsMessageInfo holds it. */
type DnsAnswer = DnsMessageInfo['answers'][number];

/** A DNS name as we keep it: lower case, no trailing dot; the root is "." and a malformed name "" . */
function dnsName(name: string | undefined): string {
  if (name === undefined) return '';
  if (name === '' || name === '.') return '.';
  return normaliseHostName(name) ?? '';
}

/** dns-packet names SVCB and HTTPS "UNKNOWN_64"/"UNKNOWN_65". */
function typeName(type: string): string {
  if (type === `UNKNOWN_${TYPE_SVCB}`) return 'SVCB';
  if (type === `UNKNOWN_${TYPE_HTTPS}`) return 'HTTPS';
  return type;
}

/**
 * Decodes one DNS message (a UDP payload, or one message of a TCP stream without its length
 * prefix). Undefined when it is not a well-formed DNS message; never throws.
 */
export function parseDnsMessage(payload: Uint8Array): DnsMessageInfo | undefined {
  if (payload.length < 12) return undefined;
  let packet: ReturnType<typeof decode>;
  try {
    packet = decode(Buffer.from(payload.buffer, payload.byteOffset, payload.length));
  } catch {
    return undefined;
  }
  // dns-packet keeps the QR bit out of `flags`; the rcode is its low 4 bits.
  const flags = packet.flags ?? 0;
  const info: DnsMessageInfo = {
    id: packet.id ?? 0,
    isResponse: packet.type === 'response',
    rcode: flags & 0x0f,
    questions: (packet.questions ?? []).map((q) => ({ name: dnsName(q.name), type: typeName(q.type) })),
    answers: [],
  };
  for (const a of packet.answers ?? []) {
    const answer = readAnswer(a);
    if (answer) info.answers.push(answer);
  }
  return info;
}

function readAnswer(a: Answer): DnsAnswer | undefined {
  const type = typeName(a.type);
  if (!KEPT.has(type)) return undefined;
  const name = dnsName(a.name);
  const ttl = 'ttl' in a && typeof a.ttl === 'number' ? a.ttl : 0;
  const data: unknown = 'data' in a ? a.data : undefined;
  if (type === 'A' || type === 'AAAA') {
    return typeof data === 'string' ? { name, type, ttl, data } : undefined;
  }
  if (type === 'CNAME') {
    return typeof data === 'string' ? { name, type, ttl, data: dnsName(data) } : undefined;
  }
  if (!(data instanceof Uint8Array)) return undefined;
  const svcb = readSvcb(data);
  if (!svcb) return undefined;
  // Target "." in ServiceMode means the owner name itself (RFC 9460 §2.5).
  const target = svcb.target === '.' && svcb.priority > 0 ? name : svcb.target;
  return svcb.hints.length > 0
    ? { name, type, ttl, data: target, hints: svcb.hints }
    : { name, type, ttl, data: target };
}

/** SVCB/HTTPS RDATA: priority, an uncompressed target name, then (key, length, value) params. */
function readSvcb(b: Uint8Array): { priority: number; target: string; hints: string[] } | undefined {
  if (b.length < 3) return undefined;
  const priority = (b[0]! << 8) | b[1]!;
  let p = 2;
  const labels: string[] = [];
  for (;;) {
    if (p >= b.length) return undefined;
    const len = b[p]!;
    if (len === 0) break;
    if (len > 63 || p + 1 + len > b.length) return undefined; // compression is not allowed here
    let label = '';
    for (let i = p + 1; i <= p + len; i++) label += String.fromCharCode(b[i]!);
    labels.push(label);
    p += 1 + len;
  }
  p++;
  const target = labels.length === 0 ? '.' : normaliseHostName(labels.join('.'));
  if (target === undefined) return undefined;
  const hints: string[] = [];
  while (p + 4 <= b.length) {
    const key = (b[p]! << 8) | b[p + 1]!;
    const end = p + 4 + ((b[p + 2]! << 8) | b[p + 3]!);
    if (end > b.length) return undefined;
    if (key === KEY_IPV4HINT) {
      for (let i = p + 4; i + 4 <= end; i += 4) hints.push(`${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}`);
    } else if (key === KEY_IPV6HINT) {
      for (let i = p + 4; i + 16 <= end; i += 16) hints.push(formatIpv6(b, i));
    }
    p = end;
  }
  return { priority, target, hints };
}

/**
 * Splits the bytes of a DNS-over-TCP stream (RFC 7766: each message after a 2-byte length) into
 * whole messages, with the bytes of an incomplete last one left in `rest` for the next call.
 * Zero-length frames are skipped.
 */
export function splitDnsTcpStream(bytes: Uint8Array): { messages: Uint8Array[]; rest: Uint8Array } {
  const messages: Uint8Array[] = [];
  let p = 0;
  while (p + 2 <= bytes.length) {
    const len = (bytes[p]! << 8) | bytes[p + 1]!;
    if (p + 2 + len > bytes.length) break;
    if (len > 0) messages.push(bytes.subarray(p + 2, p + 2 + len));
    p += 2 + len;
  }
  return { messages, rest: bytes.subarray(p) };
}
