/** Names a flow's responder is known by, each with where it came from. */

/** Where a name came from. */
export type NameSource =
  /** TLS ClientHello server_name over TCP. */
  | 'sni'
  /** TLS ClientHello server_name inside a QUIC Initial. */
  | 'quic-sni'
  /** HTTP/1.x Host header. */
  | 'http-host'
  /** A DNS answer for the responder's address seen earlier in the capture. */
  | 'dns'
  /** A name this flow asked a DNS resolver for (DNS flows only). */
  | 'dns-query';

/** One name of a flow's responder. */
export interface FlowName {
  /** The host name, lower case, without a trailing dot. Untrusted: it came off the wire. */
  name: string;
  /** How it was learnt. */
  source: NameSource;
}

/** What the first client message of a flow (TLS ClientHello, QUIC Initial or HTTP request) tells. */
export interface ClientHelloInfo {
  /** server_name, if present. */
  sni?: string;
  /** ALPN protocols offered, in order. */
  alpn: string[];
  /** True when the ClientHello carries an encrypted_client_hello extension (the SNI is then the outer, public name). */
  ech: boolean;
  /** Highest TLS version offered (e.g. 0x0304), from supported_versions when present. */
  tlsVersion?: number;
}

/** An HTTP/1.x request line and Host header. */
export interface HttpRequestInfo {
  method: string;
  /** The request target as sent (path and query); untrusted. */
  target: string;
  /** HTTP version string, e.g. "HTTP/1.1". */
  version: string;
  /** Host header value without port, lower case, if present. */
  host?: string;
}

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
