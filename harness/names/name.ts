/** What the names stage reads off the wire besides the flow's own fields (harness/flows/flow.ts). */

/** One DNS message seen on the wire, reduced to what attribution needs. */
export interface DnsMessageInfo {
  /** Transaction id. */
  id: number;
  /** True for responses. */
  isResponse: boolean;
  /** Response code (0 NOERROR, 3 NXDOMAIN, …). */
  rcode: number;
  /** Questions: name (lower case, no trailing dot) and type ("A", "AAAA", "HTTPS", …). */
  questions: { name: string; type: string }[];
  /**
   * Answer records: owner name, type, TTL and data: an address for A/AAAA, a name for CNAME,
   * a target name plus ipv4hint/ipv6hint addresses for HTTPS/SVCB (as "target ip ip …").
   */
  answers: { name: string; type: string; ttl: number; data: string; hints?: string[] }[];
}
