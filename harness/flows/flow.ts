/** A connection, in the vocabulary of Zeek's conn.log, with the names of its responder. */

import type { AppTag } from '../packets/packet.js';

/** One end of a connection. */
export interface Endpoint {
  /** IP address, canonical text form. */
  addr: string;
  /** TCP/UDP port; 0 for protocols without ports. */
  port: number;
  /** Where the address is and who runs it (the responder's, filled by harness/geo). */
  geo?: EndpointGeo;
}

/** Who is on the other end of a flow, in a privacy review's words (harness/geo/parties.ts). */
export type Party = 'first' | 'platform' | 'support' | 'third' | 'local';

/**
 * Where an address is, from the offline databases or the lab's overrides (harness/geo). Plain data,
 * saved in flows.json as `resp.geo`.
 */
export interface EndpointGeo {
  /**
   * The kind of special-purpose block the address is in (`private`, `link-local`, `unique-local` …;
   * partyWhy names the block and its RFC): such an address has no country.
   */
  special?: string;
  /**
   * The country (ISO 3166-1 alpha-2; CN is mainland China, HK, MO and TW are their own): the
   * override's, else the country sources' when they agree, else the first source's (and `disagree`).
   * Absent when no source knows, or for a special address.
   */
  country?: string;
  /** Each country source's answer, null where it has none; absent when no database was asked (a special address, no database). */
  countries?: { db: string; country: string | null }[];
  /** Present when two country sources give different answers. */
  disagree?: true;
  /** The city a city database gives, with its own country. */
  city?: { name: string; region?: string; country: string; db: string };
  /** The AS that announces the address (override's when it gives one). */
  asn?: number;
  /** The AS organisation's name as the ASN database writes it. */
  asOrg?: string;
  /** Who runs the address: the override's organisation, else asOrg. */
  org?: string;
  party: Party;
  /** Why that party. */
  partyWhy: string;
  /** The lab override that decided, when one did. */
  override?: { cidr: string; note: string; file: string; line: number };
}

/** Zeek's conn_state values. */
export type ConnState =
  | 'S0'
  | 'S1'
  | 'SF'
  | 'REJ'
  | 'S2'
  | 'S3'
  | 'RSTO'
  | 'RSTR'
  | 'RSTOS0'
  | 'RSTRH'
  | 'SH'
  | 'SHR'
  | 'OTH';

/** A connection between the originator (who spoke first, normally the phone) and the responder. */
export interface Flow {
  /** Unique id within one analysis ("C" + base36 counter), joins DNS, TLS and HTTP facts. */
  uid: string;
  /** Transport: "tcp", "udp", "icmp", "icmp6", or "ip-N" for other protocol numbers. */
  proto: string;
  /** The side that sent the first packet (for TCP: the SYN sender when the SYN was seen). */
  orig: Endpoint;
  /** The other side. */
  resp: Endpoint;
  /** Timestamp of the first packet, seconds since the epoch. */
  tsStart: number;
  /** Timestamp of the last packet. */
  tsEnd: number;
  /** IP payload bytes (transport header + data, as declared by IP headers) sent by the originator. */
  origBytes: number;
  /** IP payload bytes sent by the responder. */
  respBytes: number;
  /** Packets sent by the originator. */
  origPkts: number;
  /** Packets sent by the responder. */
  respPkts: number;
  /** TCP connection state (Zeek conn_state); undefined for other protocols. */
  connState?: ConnState;
  /**
   * Set when the capture holds no start of the connection (Zeek: "midstream traffic"): TCP with no
   * SYN, or QUIC (UDP port 443) whose client spoke first in a 1-RTT packet rather than an Initial. It
   * was already open when the capture began, or its start was lost: its first message, and with it
   * its names, was sent before what the capture holds.
   */
  midstream?: true;
  /** Service guessed from content: "tls", "quic", "http", "dns", or undefined. */
  service?: string;
  /** Names of the responder, each with its provenance, most direct evidence first. */
  names: FlowName[];
  /** The first client message's facts when it was a TLS or QUIC ClientHello. */
  tls?: ClientHelloInfo;
  /** The first HTTP request, kept as evidence. */
  http?: HttpRequestInfo;
  /** Set when the flow carries encrypted DNS (DoT, DoH to a known resolver, DoQ): names are hidden. */
  encryptedDns?: 'dot' | 'doh' | 'doq';
  /** The app that made the flow, when the capture tells (PCAPdroid trailer). */
  app?: AppTag;
  /** What TLS interception (mitmproxy) saw of it, when the run intercepted (harness/intercept). */
  intercepted?: InterceptedFlow;
}

/** What mitmproxy saw of one connection. */
export interface InterceptedFlow {
  /**
   * inside: requests were read inside it; pinned: the phone refused mitmproxy's certificate (an alert,
   * or it left during the handshake); no-request: TLS was set up, then closed with no request (a pin
   * checked after the handshake); failed: the handshake failed otherwise (a TLS version, upstream);
   * passed-through: an ignored host, not intercepted; not-seen: mitmproxy has no record of it.
   */
  status: 'inside' | 'pinned' | 'no-request' | 'failed' | 'passed-through' | 'not-seen';
  /** mitmproxy's words, when it failed. */
  why?: string;
  /** The requests read inside, in order. */
  requests: {
    ts: number;
    method: string;
    /** The URL as mitmproxy read it (identifiers masked in what phonehome writes). */
    url: string;
    httpVersion: string;
    status?: number;
    /** Request and response body bytes. */
    up: number;
    down: number;
    error?: string;
  }[];
}

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
  /**
   * Set when the name holds what no host name can (a control byte, a space, a quote, a dot inside a
   * DNS label…): it is kept as sent, escaped (`a\x00b.evil.test`), and no allowlist rule allows it.
   */
  invalid?: true;
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
