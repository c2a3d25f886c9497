/**
 * The first message of a client stream, and what it names: a TLS ClientHello (server_name), an HTTP
 * request (Host, and for CONNECT the ClientHello inside the tunnel), or an HTTP/2 preface. The facts
 * go onto the flow with their strings pooled: flows to one host from one client stack share them.
 */
import type { ClientHelloInfo, Flow, HttpRequestInfo, NameSource } from '../flows/flow.js';
import { flat, type StringPool } from '../flows/string-pool.js';
import { flowName } from './host-name.js';
import { isHttp2Preface, readHttpRequest } from './http-request.js';
import { readTlsClientHello } from './tls-client-hello.js';

/** Distinct ClientHello facts shared between flows at most. */
const MAX_SHARED_HELLOS = 10_000;

/** What reading a stream's start found: a message, a CONNECT tunnel to read on, too few bytes, or nothing known. */
export type FirstMessage = 'found' | 'tunnel' | 'more' | 'none';

/** Reads first messages onto their flows. */
export class FirstMessages {
  /** Shared ClientHello facts, by content. */
  private readonly hellos = new Map<string, ClientHelloInfo>();

  constructor(private readonly strings: StringPool) {}

  /**
   * Reads a TLS ClientHello, HTTP request or HTTP/2 preface at the start of a client stream.
   * 'tunnel' for an HTTP CONNECT request whose header ends at `headerLength`: the proxy's client goes
   * on to speak to the CONNECT target through the same connection, so the stream is read on from
   * there (tunnelHello) for the ClientHello that names the host behind the proxy.
   */
  read(flow: Flow, b: Uint8Array): { found: FirstMessage; headerLength?: number } {
    const tls = readTlsClientHello(b);
    if (tls.status === 'ok') {
      flow.service = 'tls';
      flow.tls = this.helloInfo(tls.info);
      if (tls.info.sni !== undefined) this.addName(flow, tls.info.sni, 'sni');
      return { found: 'found' };
    }
    if (tls.status === 'need-more') return { found: 'more' };
    const http = readHttpRequest(b);
    if (http.status === 'ok') {
      flow.service = 'http';
      flow.http = this.requestInfo(http.info);
      if (http.info.host !== undefined) this.addName(flow, http.info.host, 'http-host');
      if (http.info.method !== 'CONNECT' || http.headerLength === undefined) return { found: 'found' };
      return { found: 'tunnel', headerLength: http.headerLength };
    }
    if (http.status === 'need-more') return { found: 'more' };
    if (isHttp2Preface(b)) {
      flow.service = 'http2';
      return { found: 'found' };
    }
    if (b.length < 24 && b[0] === 0x50 && b[1] === 0x52 && b[2] === 0x49) return { found: 'more' }; // "PRI…"
    return { found: 'none' };
  }

  /** The TLS ClientHello that starts a CONNECT tunnel's stream: its facts and server name join the flow's. */
  tunnelHello(flow: Flow, b: Uint8Array): 'found' | 'more' | 'none' {
    if (b.length === 0) return 'more';
    const tls = readTlsClientHello(b);
    if (tls.status === 'need-more') return 'more';
    if (tls.status !== 'ok') return 'none';
    flow.tls = this.helloInfo(tls.info);
    if (tls.info.sni !== undefined) this.addName(flow, tls.info.sni, 'sni');
    return 'found';
  }

  /** A QUIC Initial's ClientHello: its facts and server name. */
  quicHello(flow: Flow, hello: ClientHelloInfo): void {
    flow.tls = this.helloInfo(hello);
    if (hello.sni !== undefined) this.addName(flow, hello.sni, 'quic-sni');
  }

  private addName(flow: Flow, name: string, source: NameSource): void {
    // The flow's own evidence comes first among its names; DNS names follow when it is handed out.
    flow.names.push(flowName(this.strings.get(name), source));
  }

  /**
   * The ClientHello facts with their strings pooled; equal facts share one object (flows to one
   * host from one client stack all carry the same), so treat the result as read-only.
   */
  private helloInfo(h: ClientHelloInfo): ClientHelloInfo {
    const key = `${h.sni ?? ''}|${h.alpn.join(',')}|${h.ech ? 1 : 0}|${h.tlsVersion ?? ''}`;
    const hit = this.hellos.get(key);
    if (hit !== undefined) return hit;
    const out: ClientHelloInfo = { alpn: h.alpn.map((a) => this.strings.get(a)), ech: h.ech };
    if (h.sni !== undefined) out.sni = this.strings.get(h.sni);
    if (h.tlsVersion !== undefined) out.tlsVersion = h.tlsVersion;
    if (this.hellos.size < MAX_SHARED_HELLOS) this.hellos.set(flat(key), out);
    return out;
  }

  /** The request facts with their strings pooled (the target is flattened, not pooled: it is rarely repeated). */
  private requestInfo(r: HttpRequestInfo): HttpRequestInfo {
    const out: HttpRequestInfo = {
      method: this.strings.get(r.method),
      target: flat(r.target),
      version: this.strings.get(r.version),
    };
    if (r.host !== undefined) out.host = this.strings.get(r.host);
    return out;
  }
}
