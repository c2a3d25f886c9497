/**
 * The DNS join: every DNS message the phone's flows carried is logged, and each answer remembered, so
 * that a flow is named by what its client resolved for its responder's address at or before it began
 * (following CNAME chains back to the name asked, and HTTPS/SVCB address hints), as lab studies name
 * endpoints. DNS flows are named by the names they asked.
 */
import type { Flow } from '../flows/flow.js';
import type { StringPool } from '../flows/string-pool.js';
import { flowName } from './host-name.js';
import type { DnsMessageInfo } from './name.js';

/** One DNS response seen on the wire, as the flow table logs it. */
export interface DnsRecord {
  /** Timestamp of the response, seconds since the epoch. */
  ts: number;
  /** The address that asked (the response's destination). */
  client: string;
  /** The resolver that answered (the response's source). */
  server: string;
  /** uid of the flow that carried it. */
  uid: string;
  /** The first question's name (lower case, no trailing dot), "" when the response had none. */
  query: string;
  /** The first question's type ("A", "AAAA", "HTTPS", …), "" when none. */
  type: string;
  /** Response code (0 NOERROR, 3 NXDOMAIN, …). */
  rcode: number;
  /** Answer records as "TYPE data": "A 1.2.3.4", "AAAA 2001:db8::1", "CNAME x.example", "HTTPS 1 . 1.2.3.4 …". */
  answers: string[];
}

/** A name the client resolved for an address, and when. */
interface Resolution {
  ts: number;
  name: string;
}

/** Where a DNS message went: the packet's time and addresses. */
export interface DnsPacket {
  ts: number;
  src: string;
  dst: string;
}

export class DnsJoin {
  private readonly records: DnsRecord[] = [];
  /** client → address → names it resolved to, in capture order (a new entry only when the name changes). */
  private readonly resolved = new Map<string, Map<string, Resolution | Resolution[]>>();
  /** DNS flows (by their flow object) → the names they asked, in order. */
  private readonly queries = new Map<Flow, string | string[]>();

  constructor(private readonly strings: StringPool) {}

  /** A DNS message carried by `flow` in packet `p`. */
  message(flow: Flow, p: DnsPacket, m: DnsMessageInfo): void {
    flow.service = 'dns';
    // Responses repeat the question: names asked still show when the query itself was not captured.
    for (const q of m.questions) this.addQuery(flow, q.name);
    if (!m.isResponse) return;
    const q0 = m.questions[0];
    const client = p.dst;
    this.records.push({
      ts: p.ts,
      client,
      server: p.src,
      uid: flow.uid,
      query: this.strings.get(q0?.name ?? ''),
      type: this.strings.get(q0?.type ?? ''),
      rcode: m.rcode,
      answers: m.answers.map((a) => this.strings.get(`${a.type} ${a.data}`)),
    });
    if (m.answers.length === 0) return;
    // CNAME chains lead back to the name the client asked for.
    let aliasOf: Map<string, string> | undefined;
    for (const a of m.answers) {
      if (a.type !== 'CNAME') continue;
      aliasOf ??= new Map();
      aliasOf.set(a.data, a.name);
    }
    const askedFor = (owner: string): string => {
      let n = owner;
      for (let i = 0; i < 16 && aliasOf !== undefined; i++) {
        const up = aliasOf.get(n);
        if (up === undefined || up === n) break;
        n = up;
      }
      return n;
    };
    for (const a of m.answers) {
      if (a.type === 'A' || a.type === 'AAAA') this.remember(client, a.data, askedFor(a.name), p.ts);
      else if ((a.type === 'HTTPS' || a.type === 'SVCB') && a.hints) {
        const name = askedFor(a.name);
        for (const h of a.hints) this.remember(client, h, name, p.ts);
      }
    }
  }

  /**
   * Names a flow being handed out (`flow`, turned so that its originator is the client) from the DNS:
   * the name its client resolved for its responder, then the names it asked if it carried DNS.
   * `key` is the flow object the messages were given with (the same one, or the one `flow` copies).
   */
  nameFlow(flow: Flow, key: Flow): void {
    const dnsName = this.resolvedName(flow.orig.addr, flow.resp.addr, flow.tsStart);
    if (dnsName !== undefined) flow.names.push(flowName(dnsName, 'dns'));
    const q = this.queries.get(key);
    if (typeof q === 'string') flow.names.push(flowName(q, 'dns-query'));
    else if (q) for (const name of q) flow.names.push(flowName(name, 'dns-query'));
  }

  /** Every DNS response seen, in capture order. */
  responses(): DnsRecord[] {
    return this.records;
  }

  private addQuery(flow: Flow, name: string): void {
    // Most DNS flows ask for one name: no array for those.
    const q = this.queries.get(flow);
    if (q === undefined) this.queries.set(flow, this.strings.get(name));
    else if (typeof q === 'string') {
      if (q !== name) this.queries.set(flow, [q, this.strings.get(name)]);
    } else if (!q.includes(name)) q.push(this.strings.get(name));
  }

  private remember(client: string, addr: string, name: string, ts: number): void {
    let byAddr = this.resolved.get(client);
    if (byAddr === undefined) {
      byAddr = new Map();
      this.resolved.set(client, byAddr);
    }
    // Most addresses only ever resolve to one name: no array for those.
    const had = byAddr.get(addr);
    if (had === undefined) byAddr.set(this.strings.get(addr), { ts, name: this.strings.get(name) });
    else if (!Array.isArray(had)) {
      if (had.name !== name) byAddr.set(addr, [had, { ts, name: this.strings.get(name) }]);
    } else if (had[had.length - 1]!.name !== name) had.push({ ts, name: this.strings.get(name) });
  }

  /** The name client most recently resolved to addr at or before ts. */
  private resolvedName(client: string, addr: string, ts: number): string | undefined {
    const list = this.resolved.get(client)?.get(addr);
    if (list === undefined) return undefined;
    if (!Array.isArray(list)) return list.ts <= ts ? list.name : undefined;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.ts <= ts) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? list[lo - 1]!.name : undefined;
  }
}
