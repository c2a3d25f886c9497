/**
 * A capture, start to finish: frames → packets → flows with their names, plus the DNS log, which
 * address is the phone, what was skipped and what the reader should be warned about. Pure apart
 * from reading the byte stream it is given.
 */

import type { Flow } from './flows/flow.js';
import { type ContentReader, FlowTable, type FlowTap, type PartyCount } from './flows/flow-table.js';
import type { GeoSummary, Locator } from './geo/locate.js';
import { LeakScanner, type LeakSearch, type SoughtIdentifier } from './identifiers/find-leaks.js';
import { identifierRedactor, redactFlows, redactWith } from './identifiers/redact.js';
import { StreamCollector } from './identifiers/stream-collector.js';
import {
  decryptedExchanges,
  type ExchangeLog,
  type InterceptSummary,
  joinExchanges,
  requestBytes,
} from './intercept/exchanges.js';
import type { DnsRecord } from './names/dns-join.js';
import { FlowNamer } from './names/flow-namer.js';
import { readCaptureFile } from './packets/capture-file.js';
import { readCapture } from './packets/capture-parser.js';
import type { CaptureSummary } from './packets/capture-summary.js';
import { canonicalIp } from './packets/ip-text.js';
import type { Frame, Skipped } from './packets/packet.js';
import { PacketDecoder } from './packets/packet-decoder.js';

/** What analyzeStream may be told. */
export interface AnalyzeOptions {
  /** The phone's addresses (canonical text). Without them the phone is inferred from the traffic. */
  deviceAddrs?: string[];
  /** Search every flow's bytes for these identifiers (harness/identifiers/find-leaks.ts). */
  identifiers?: {
    sought: SoughtIdentifier[];
    /** Key of the values' fingerprints. */
    key: string | Buffer;
    /** The phone's installed packages: a place naming many of them is an app list sent. */
    packages?: string[];
    /** Bytes kept per side of a flow (default 1 MiB). */
    capBytes?: number;
  };
  /** Says where each responder is and who runs it (harness/geo): sets every flow's resp.geo. */
  locator?: Locator;
  /**
   * What TLS interception saw (harness/intercept): joined to the flows, its decrypted requests
   * searched for identifiers; `ignore` are the hosts it let pass.
   */
  intercept?: { log: ExchangeLog; ignore: RegExp[] };
}

/** Everything one capture tells, as plain data (saved as flows.json). */
export interface Analysis {
  /** Version of this shape (2: responders carry resp.geo, and `geo` says what answered). */
  formatVersion: 2;
  /** What the capture file held (format, frames, bytes, link types, truncation). */
  capture: CaptureSummary;
  /** The connections, sorted by start time, the phone as originator where it took part. */
  flows: Flow[];
  /** Every DNS response seen, in capture order. */
  dns: DnsRecord[];
  /** The phone's addresses and whether they were inferred from the traffic rather than given. */
  device: { addrs: string[]; inferred: boolean };
  /** Frames the decoder passed over, by reason. */
  skipped: Skipped[];
  /** Things the reader of the results should know (a truncated capture, truncated packets, …). */
  warnings: string[];
  /** The identifier search, when identifiers were given: leaks, and what could not be searched. */
  identifiers?: LeakSearch;
  /** The location lookups, when a locator was given: the databases with their attributions. */
  geo?: GeoSummary;
  /** What interception covered, when the run intercepted. */
  intercept?: InterceptSummary;
}

/** Reads a whole capture (pcap or pcapng bytes) and returns its flows. Throws CaptureFormatError when it is not a capture. */
export async function analyzeStream(
  source: AsyncIterable<Uint8Array>,
  opts: AnalyzeOptions = {},
): Promise<Analysis> {
  return analyzeFrames((onFrame) => readCapture(plainBytes(source), onFrame), opts);
}

/**
 * Reads a capture file (pcap or pcapng) and returns its flows: the same as analyzeStream, with the
 * packet layer's own double-buffered file reader, which spends far less time waiting than a stream.
 */
export async function analyzeFile(path: string, opts: AnalyzeOptions = {}): Promise<Analysis> {
  return analyzeFrames((onFrame) => readCaptureFile(path, onFrame), opts);
}

/**
 * Frames in, packets and named flows out, as a capture is read: the one wiring of the packet
 * decoder, the flow table and the namer, for a whole file here and for a run's live figures.
 */
export class TrafficReader {
  readonly decoder = new PacketDecoder();
  /** Names flows from their content as the table hands it on, and joins the DNS. */
  readonly namer = new FlowNamer();
  readonly table: FlowTable<unknown>;

  /** With a collector, the table also hands it every flow's bytes (the identifier search). */
  constructor(readonly collector?: StreamCollector) {
    this.table = new FlowTable<unknown>(
      this.namer as ContentReader<unknown>,
      collector ? { tap: collector as FlowTap<unknown> } : {},
    );
  }

  /** Takes the next frame of the capture. */
  readonly frame = (frame: Frame): void => {
    const p = this.decoder.decode(frame);
    if (p !== undefined) this.table.add(p);
  };
}

async function analyzeFrames(
  read: (onFrame: (frame: Frame) => void) => Promise<CaptureSummary>,
  opts: AnalyzeOptions,
): Promise<Analysis> {
  const want = opts.identifiers;
  const scanner = want
    ? new LeakScanner(want.sought, { key: want.key, ...(want.packages ? { packages: want.packages } : {}) })
    : undefined;
  const reader = new TrafficReader(
    scanner ? new StreamCollector(scanner, { capBytes: want?.capBytes }) : undefined,
  );
  const { decoder, table, namer } = reader;
  const capture = await read(reader.frame);

  const warnings: string[] = [];
  const given = opts.deviceAddrs !== undefined && opts.deviceAddrs.length > 0;
  const addrs: string[] = [];
  for (const a of given ? opts.deviceAddrs! : inferDevice(table.parties())) {
    // Inferred addresses come from the packet layer, already in its text form.
    const canonical = given ? canonicalIp(a) : a;
    if (canonical === undefined) warnings.push(`device address "${a}" is not an IP address; ignored`);
    else if (!addrs.includes(canonical)) addrs.push(canonical);
  }
  const flows = table.flows(new Set(addrs), { release: true });

  const cut = capture.truncated;
  if (cut?.corrupt) {
    warnings.push(`capture is corrupt at byte ${cut.offset} (${cut.message}): what follows was not read`);
  } else if (cut) {
    warnings.push(
      `capture ends inside a record at byte ${cut.offset} (${cut.message}): what follows was lost`,
    );
  }
  const damaged = capture.damaged;
  if (damaged) {
    warnings.push(
      `${damaged.count} damaged block${damaged.count === 1 ? ' was' : 's were'} skipped ` +
        `(the first at byte ${damaged.offset}: ${damaged.message})`,
    );
  }
  const stats = decoder.stats();
  if (stats.truncated > 0) {
    warnings.push(
      `${stats.truncated} packets were cut short by the capture's snap length: names and byte counts may be incomplete`,
    );
  }
  if (stats.fragmentsIncomplete > 0) {
    warnings.push(`${stats.fragmentsIncomplete} fragmented IP datagrams never completed and were left out`);
  }
  if (capture.frames > 0 && flows.length === 0)
    warnings.push('no IP packets could be decoded from the capture');
  if (!given && addrs.length === 0 && flows.length > 0)
    warnings.push('could not tell which address is the phone');

  const geo = opts.locator?.locate(flows);
  if (geo) warnings.push(...geo.warnings);
  const intercept = opts.intercept
    ? joinExchanges(flows, opts.intercept.log, opts.intercept.ignore)
    : undefined;
  if (intercept) {
    warnings.push(...intercept.warnings);
    if (scanner)
      for (const { flow, exchange } of decryptedExchanges(flows, opts.intercept!.log))
        scanner.decrypted(flow.uid, requestBytes(exchange), exchange.ts, exchange.httpVersion);
  }
  const identifiers = scanner && reader.collector ? scanner.result(reader.collector.figures) : undefined;
  // From here on the values are known: what the analysis keeps shows them masked.
  if (want) {
    const fix = identifierRedactor(want.sought);
    redactFlows(flows, fix);
    redactWith([reader.namer.dns(), warnings, intercept], fix);
  }
  if (identifiers && identifiers.notSearched.flows > 0)
    warnings.push(
      `${identifiers.notSearched.flows} flows were not searched whole for identifiers: ` +
        `${identifiers.notSearched.overCap} bytes past the per-side cap, ${identifiers.notSearched.missing} bytes never captured`,
    );
  return {
    formatVersion: 2,
    capture,
    flows,
    dns: namer.dns(),
    device: { addrs, inferred: !given },
    skipped: decoder.skipped(),
    warnings,
    ...(identifiers ? { identifiers } : {}),
    ...(geo ? { geo } : {}),
    ...(intercept ? { intercept } : {}),
  };
}

/**
 * Why an analysis holds nothing to judge, or undefined when it holds flows. A capture with no packet,
 * or none phonehome could decode, proves nothing about the phone: it must never be judged "allowed"
 * (analyze refuses it, a run is broken by it).
 */
export function nothingToJudge(a: Pick<Analysis, 'capture' | 'flows' | 'skipped'>): string | undefined {
  if (a.flows.length > 0) return undefined;
  const frames = a.capture.frames;
  if (frames === 0) return `the capture holds no packet (${a.capture.format}, ${a.capture.bytes} bytes)`;
  const reasons = a.skipped.map((s) => `${s.reason} ×${s.count}`).join(', ');
  return (
    `none of its ${frames} frame${frames === 1 ? '' : 's'} could be decoded into a connection ` +
    `(link type${a.capture.linkTypes.length === 1 ? '' : 's'} ${a.capture.linkTypes.join(', ') || 'none'}` +
    `${reasons ? `; skipped: ${reasons}` : ''})`
  );
}

/**
 * The chunks as plain Uint8Array views. Node streams yield Buffers, and every subarray of a Buffer
 * is a Buffer built by a JavaScript constructor; frames and payloads are cut from each chunk
 * hundreds of thousands of times, and plain views cost a fraction of that.
 */
async function* plainBytes(source: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const chunk of source) {
    yield Buffer.isBuffer(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : chunk;
  }
}

/**
 * The phone's addresses, guessed from who takes part in flows. Each address scores two per flow it
 * originated and one per flow it answered (so the phone beats its resolver, and an inbound-only
 * capture still finds it). IPv4: the private or carrier-grade NAT address with the best score, or
 * the best-scoring address when none is private. IPv6: the best-scoring address (phones mostly
 * talk from global addresses; their link-local one only does neighbour discovery). The version with more flows decides
 * first; the other version's pick is kept only when it takes part in more than half of that
 * version's flows, so that a router's occasional link-local chatter does not count as the phone.
 */
export function inferDevice(parties: ReadonlyMap<string, PartyCount>): string[] {
  const picks: { addr: string; share: number; flows: number }[] = [];
  for (const v6 of [false, true]) {
    let flows = 0;
    let best: string | undefined;
    let bestScore = 0;
    let bestLocal = false;
    let bestShare = 0;
    for (const [addr, c] of parties) {
      if (addr.includes(':') !== v6) continue;
      flows += c.originated;
      if (!isUnicast(addr)) continue;
      const local = !v6 && isLocalAddress(addr);
      const score = 2 * c.originated + c.answered;
      if ((local && !bestLocal) || (local === bestLocal && score > bestScore)) {
        best = addr;
        bestScore = score;
        bestLocal = local;
        bestShare = c.originated + c.answered;
      }
    }
    if (best !== undefined) picks.push({ addr: best, share: bestShare, flows });
  }
  picks.sort((a, b) => b.flows - a.flows);
  const out: string[] = [];
  for (const [i, p] of picks.entries()) {
    if (i === 0 || p.share * 2 > p.flows) out.push(p.addr);
  }
  return out;
}

/** False for the unspecified, broadcast and multicast addresses, which no phone holds. */
function isUnicast(addr: string): boolean {
  if (addr.includes(':')) return addr !== '::' && !addr.startsWith('ff');
  const a = octet(addr, 0);
  return addr !== '0.0.0.0' && addr !== '255.255.255.255' && !(a >= 224 && a <= 239);
}

/** The decimal number starting at position i of a dotted quad (up to the next dot). */
function octet(addr: string, i: number): number {
  let v = 0;
  for (let c = addr.charCodeAt(i); c >= 0x30 && c <= 0x39; c = addr.charCodeAt(++i)) v = v * 10 + c - 0x30;
  return v;
}

/** True for addresses a phone holds on a local network: RFC 1918, CGNAT 100.64/10, link-local, IPv6 ULA and link-local. */
export function isLocalAddress(addr: string): boolean {
  if (addr.includes(':')) {
    const first = Number.parseInt(addr.split(':', 1)[0] || '0', 16);
    return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
  }
  const a = octet(addr, 0);
  const b = octet(addr, addr.indexOf('.') + 1);
  return (
    a === 10 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}
