/**
 * A phone's traffic agent: a child process inside the phone's network namespace that makes the
 * traffic its behaviour profile describes for the current phone state, and runs lookups and TCP
 * "touches" for the phone's shell. Controlled over stdin/stdout JSON lines (agent-protocol.ts).
 */
import { createSocket } from 'node:dgram';
import { connect as h2connect } from 'node:http2';
import { type Socket, connect as tcpConnect } from 'node:net';
import { createInterface } from 'node:readline';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import dnsPacket from 'dns-packet';
import type { TrafficState } from '../contracts.js';
import type { AgentEvent, AgentRequest } from './agent-protocol.js';
import { buildQuicInitial } from './quic-initial.js';
import { activeBehaviours, eventOccurrences, fillIds, fillJson } from './traffic-plan.js';
import { type Behaviour, durationSeconds, type TrafficProfile } from './traffic-schema.js';

const IO_TIMEOUT_MS = 10_000;

let config: Extract<AgentRequest, { type: 'config' }> | undefined;
let state: TrafficState | undefined;
const timers = new Map<string, NodeJS.Timeout>();
let stopped = false;

function emit(e: AgentEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

function logConn(
  proto: 'tcp' | 'udp',
  localPort: number | undefined,
  pkg: string,
  host: string,
  behaviour: string,
) {
  if (localPort) emit({ type: 'conn', proto, localPort, package: pkg, host, behaviour, ts: Date.now() });
}

/** Resolves an A record with the lab DNS over UDP, logging the lookup's port for attribution. */
function resolve(host: string, pkg: string): Promise<string> {
  const cfg = config;
  if (!cfg) return Promise.reject(new Error('agent not configured'));
  return new Promise((res, rej) => {
    const sock = createSocket('udp4');
    const id = Math.floor(Math.random() * 65536);
    let tries = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = (err: Error | undefined, addr?: string) => {
      clearTimeout(timer);
      sock.close();
      if (err) rej(err);
      else res(addr!);
    };
    const query = dnsPacket.encode({
      type: 'query',
      id,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: host, class: 'IN' }],
    });
    const send = () => {
      tries += 1;
      sock.send(query, 53, cfg.dnsServer);
      timer = setTimeout(() => (tries < 3 ? send() : done(new Error(`${host}: DNS timeout`))), 1500);
    };
    sock.on('error', (e) => done(e));
    sock.on('message', (msg) => {
      let r: dnsPacket.Packet;
      try {
        r = dnsPacket.decode(msg);
      } catch {
        return;
      }
      if (r.id !== id) return;
      const a = r.answers?.find((x) => x.type === 'A');
      if (a?.type === 'A') done(undefined, a.data);
      else done(new Error(`${host}: no address`));
    });
    sock.bind(0, () => {
      logConn('udp', sock.address().port, pkg, host, 'dns');
      send();
    });
  });
}

/** A request's parts as the behaviour makes them. */
interface RequestParts {
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
}

/** The request the behaviour sends (path, query, headers, body), before any framing. */
function requestParts(b: Behaviour, st: TrafficState): RequestParts {
  const query = b.query
    ? `?${Object.entries(b.query)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(fillIds(v, st.ids))}`)
        .join('&')}`
    : '';
  const headers: [string, string][] = Object.entries(b.headers ?? {}).map(([k, v]) => [
    k,
    fillIds(v, st.ids),
  ]);
  let body: Buffer = b.up > 0 ? Buffer.alloc(b.up, 0x41) : Buffer.alloc(0);
  if (b.body) {
    const form = b.body.form;
    body = form
      ? Buffer.from(
          Object.entries(form)
            .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(fillIds(v, st.ids))}`)
            .join('&'),
        )
      : Buffer.from(JSON.stringify(fillJson(b.body.json ?? {}, st)));
    headers.push(['Content-Type', form ? 'application/x-www-form-urlencoded' : 'application/json']);
    if (b.body.gzip) {
      body = gzipSync(body);
      headers.push(['Content-Encoding', 'gzip']);
    }
  }
  headers.push(['x-sim-down', String(b.down)]);
  return { method: body.length > 0 ? 'POST' : 'GET', target: `${b.path}${query}`, headers, body };
}

const USER_AGENT = 'Dalvik/2.1.0 (Linux; U; Android 14)';

/** The whole HTTP/1.1 request (head and body) as the behaviour sends it. */
function request(b: Behaviour, host: string, st: TrafficState): Buffer {
  const r = requestParts(b, st);
  const head =
    `${r.method} ${r.target} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: ${USER_AGENT}\r\n` +
    r.headers.map(([k, v]) => `${k}: ${v}\r\n`).join('') +
    `${r.body.length > 0 ? `Content-Length: ${r.body.length}\r\n` : ''}Connection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), r.body]);
}

/** The same request over HTTP/2 on an open TLS connection; resolves when the answer has ended. */
function exchangeH2(sock: TLSSocket, b: Behaviour, host: string, st: TrafficState): Promise<void> {
  const r = requestParts(b, st);
  return new Promise((res, rej) => {
    const session = h2connect(`https://${host}`, { createConnection: () => sock });
    session.on('error', rej);
    const headers: Record<string, string> = {
      ':method': r.method,
      ':path': r.target,
      'user-agent': USER_AGENT,
    };
    for (const [k, v] of r.headers) headers[k.toLowerCase()] = v;
    const stream = session.request(headers);
    stream.setTimeout(IO_TIMEOUT_MS, () => stream.close());
    stream.on('error', rej);
    stream.resume();
    stream.on('close', () => {
      session.close();
      res();
    });
    stream.end(r.body);
  });
}

/**
 * Sends the request, reads the answer to the end, and closes. With `splitAt`, the request goes in two
 * TCP segments cut in the middle of that value, as a phone writing in pieces does.
 */
function exchange(sock: Socket, req: Buffer, splitAt?: string): Promise<void> {
  return new Promise((res, rej) => {
    sock.setTimeout(IO_TIMEOUT_MS, () => sock.destroy(new Error('timeout')));
    sock.on('error', rej);
    sock.on('close', () => res());
    sock.on('data', () => undefined);
    const at = splitAt ? req.indexOf(splitAt) : -1;
    if (at < 0) {
      sock.write(req);
      return;
    }
    const cut = at + Math.floor(splitAt!.length / 2);
    sock.setNoDelay(true);
    sock.write(req.subarray(0, cut));
    setTimeout(() => sock.write(req.subarray(cut)), 50);
  });
}

/** mDNS's IPv4 group and port (RFC 6762). */
const MDNS_GROUP = '224.0.0.251';
const MDNS_PORT = 5353;
/** How long a service discovery listens for answers before it leaves the group. */
const MDNS_LISTEN_MS = 300;

/**
 * One DNS-SD browse, as Android's service discovery makes it: join the mDNS group on the phone's
 * interface (the kernel reports the membership with IGMP), ask for the service type's PTR records,
 * listen briefly, leave. Nothing in the lab answers.
 */
async function discover(b: Behaviour, serviceType: string): Promise<void> {
  const cfg = config;
  if (!cfg) throw new Error('agent not configured');
  const sock = createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r, j) => {
    sock.once('error', j);
    sock.bind(MDNS_PORT, () => r());
  });
  try {
    logConn('udp', sock.address().port, b.package, serviceType, b.id);
    sock.addMembership(MDNS_GROUP, cfg.phoneIp);
    sock.setMulticastInterface(cfg.phoneIp);
    sock.setMulticastTTL(255);
    const query = dnsPacket.encode({
      type: 'query',
      id: 0,
      questions: [{ type: 'PTR', name: serviceType, class: 'IN' }],
    });
    await new Promise<void>((r, j) => sock.send(query, MDNS_PORT, MDNS_GROUP, (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, MDNS_LISTEN_MS));
  } finally {
    sock.close();
  }
}

async function contact(b: Behaviour, host: string, st: TrafficState): Promise<void> {
  if (b.protocol === 'mdns') return discover(b, host);
  if (b.protocol === 'dns') {
    // The question itself carries the data (a label the resolver's logs keep).
    const label = b.label ? fillIds(b.label, st.ids) : '';
    await resolve(label ? `${label}.${host}` : host, b.package).catch(() => undefined);
    return;
  }
  const ip = await resolve(host, b.package);
  if (b.protocol === 'quic') {
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, () => r()));
    logConn('udp', sock.address().port, b.package, host, b.id);
    await new Promise<void>((r, j) =>
      sock.send(buildQuicInitial(host).datagram, 443, ip, (e) => (e ? j(e) : r())),
    );
    // The lab's QUIC listener never answers; a real client would give up after its handshake timeout.
    setTimeout(() => sock.close(), 300);
    return;
  }
  const head = request(b, host, st);
  if (b.protocol === 'http') {
    const sock = tcpConnect({ host: ip, port: 80 });
    sock.once('connect', () => logConn('tcp', sock.localPort, b.package, host, b.id));
    await new Promise<void>((r, j) => {
      sock.once('connect', () => r());
      sock.once('error', j);
    });
    await exchange(sock, head, b.splitAt ? fillIds(b.splitAt, st.ids) : undefined);
    return;
  }
  // The phone's trust store decides whom it talks to: the lab's certificate stands for the public
  // roots (one certificate for every name, so names are not checked against it), and a CA installed
  // in the store (mitmproxy's) is trusted from then on. A pinned app accepts the lab's certificate only.
  const labCert = config?.labCert;
  const ca = b.pinned ? (labCert ? [labCert] : []) : (st.trust ?? (labCert ? [labCert] : []));
  const sock = tlsConnect({
    host: ip,
    port: 443,
    servername: host,
    ...(ca.length > 0
      ? { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined }
      : { rejectUnauthorized: false }),
    ALPNProtocols: [b.http2 ? 'h2' : 'http/1.1'],
  });
  sock.once('connect', () => logConn('tcp', sock.localPort, b.package, host, b.id));
  await new Promise<void>((r, j) => {
    sock.once('secureConnect', () => r());
    sock.once('error', j);
    sock.setTimeout(IO_TIMEOUT_MS, () => sock.destroy(new Error('TLS handshake timeout')));
  });
  if (b.http2 && sock.alpnProtocol === 'h2') {
    await exchangeH2(sock, b, host, st);
    return;
  }
  await exchange(sock, head, b.splitAt ? fillIds(b.splitAt, st.ids) : undefined);
}

function occurrence(b: Behaviour): void {
  const st = state;
  if (!st) return;
  for (const host of b.hosts)
    contact(b, host, st).catch((e: Error) => emit({ type: 'log', message: `${b.id} ${host}: ${e.message}` }));
}

function schedule(b: Behaviour, delayS: number): void {
  const speed = config?.speed ?? 1;
  const ms = Math.max(20, (delayS * 1000) / speed);
  timers.set(
    b.id,
    setTimeout(() => {
      if (stopped) return;
      occurrence(b);
      const every = durationSeconds(b.every ?? 0);
      schedule(b, every * (1 + b.jitter * (2 * Math.random() - 1)));
    }, ms),
  );
}

/** Starts the behaviours that became active, stops those that no longer are. */
function follow(profile: TrafficProfile, st: TrafficState): void {
  const active = activeBehaviours(profile, st, config?.misbehave ?? []);
  const ids = new Set(active.map((b) => b.id));
  for (const [id, t] of timers)
    if (!ids.has(id)) {
      clearTimeout(t);
      timers.delete(id);
    }
  for (const b of active)
    if (!timers.has(b.id)) {
      // A newly active behaviour starts soon (an app opening, a setting turned on), not a period later.
      schedule(b, Math.random() * Math.min(durationSeconds(b.every ?? 0), 20));
    }
}

/** Event counts the behaviours `on` events have answered up to. */
let eventsSeen: TrafficState['events'] | undefined;

/** Answers the events that happened since the last state: each soon after it (a few phone seconds). */
function answerEvents(profile: TrafficProfile, st: TrafficState): void {
  const due = eventOccurrences(profile, eventsSeen, st, config?.misbehave ?? []);
  eventsSeen = { ...st.events };
  const speed = config?.speed ?? 1;
  for (const b of due)
    setTimeout(
      () => {
        if (!stopped) occurrence(b);
      },
      Math.max(20, ((1 + Math.random() * 4) * 1000) / speed),
    );
}

async function handle(req: AgentRequest): Promise<void> {
  switch (req.type) {
    case 'config':
      config = req;
      if (state) {
        follow(req.profile, state);
        answerEvents(req.profile, state);
      }
      return;
    case 'state':
      state = req.state;
      if (config) {
        follow(config.profile, state);
        answerEvents(config.profile, state);
      }
      return;
    case 'resolve':
      try {
        emit({ type: 'reply', id: req.id, ok: true, address: await resolve(req.host, req.package) });
      } catch (e) {
        emit({ type: 'reply', id: req.id, ok: false, error: (e as Error).message });
      }
      return;
    case 'touch': {
      let address: string | undefined;
      try {
        address = await resolve(req.host, req.package);
        const sock = tcpConnect({ host: address, port: req.port });
        await new Promise<void>((r, j) => {
          sock.once('connect', () => {
            logConn('tcp', sock.localPort, req.package, req.host, 'touch');
            r();
          });
          sock.once('error', j);
          sock.setTimeout(req.timeoutMs, () => sock.destroy(new Error('connect timeout')));
        });
        sock.end();
        emit({ type: 'reply', id: req.id, ok: true, address });
      } catch (e) {
        emit({ type: 'reply', id: req.id, ok: false, address, error: (e as Error).message });
      }
      return;
    }
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let req: AgentRequest;
  try {
    req = JSON.parse(line) as AgentRequest;
  } catch {
    emit({ type: 'log', message: `bad request line: ${line.slice(0, 80)}` });
    return;
  }
  handle(req).catch((e: Error) => emit({ type: 'log', message: e.message }));
});
lines.on('close', () => {
  stopped = true;
  for (const t of timers.values()) clearTimeout(t);
  process.exit(0);
});
emit({ type: 'ready' });
