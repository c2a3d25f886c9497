/**
 * The lab DNS's answers: every name resolves, to a stable address inside the simulated internet.
 * Pure: a query message in, a response message out.
 */
import dnsPacket from 'dns-packet';
import { internetAddressFor } from './lab-plan.js';

/** TTL of every answer, seconds. */
export const LAB_DNS_TTL = 60;

/** Builds the response to one DNS query message; undefined for bytes that are not a query. */
export function labDnsResponse(query: Uint8Array): Buffer | undefined {
  let msg: dnsPacket.Packet;
  try {
    msg = dnsPacket.decode(Buffer.from(query));
  } catch {
    return undefined;
  }
  if (msg.type !== 'query') return undefined;
  const answers: dnsPacket.Answer[] = [];
  for (const q of msg.questions ?? []) {
    if (q.type === 'A')
      answers.push({
        type: 'A',
        name: q.name,
        ttl: LAB_DNS_TTL,
        class: 'IN',
        data: internetAddressFor(q.name),
      });
    // AAAA and everything else: the name exists but has no such record (the lab is IPv4 only).
  }
  return dnsPacket.encode({
    type: 'response',
    id: msg.id ?? 0,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
    questions: msg.questions ?? [],
    answers,
  });
}
