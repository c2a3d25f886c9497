/**
 * One fuzz target per reader of untrusted input: capture files (and the whole analysis behind them),
 * link-layer frames, DNS messages, TLS ClientHellos, QUIC Initials, HTTP requests, PCAPdroid trailers,
 * allowlists and device profiles. Each starts from real seeds (the fixtures and PCAPdroid's captures)
 * and says which errors are the reader's documented answer to bad input; any other throw is a finding.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from 'dns-packet';
import { TrafficReader } from '../harness/analyze.js';
import { parseProfile } from '../harness/device/profiles.js';
import { ConfigError } from '../harness/errors.js';
import { parseDnsMessage } from '../harness/names/dns-message.js';
import { readHttpRequest } from '../harness/names/http-request.js';
import { QuicInitialReader } from '../harness/names/quic-initial.js';
import { readTlsClientHello } from '../harness/names/tls-client-hello.js';
import { CaptureParser } from '../harness/packets/capture-parser.js';
import { CaptureFormatError, type Frame } from '../harness/packets/packet.js';
import { PacketDecoder } from '../harness/packets/packet-decoder.js';
import { PcapdroidTrailerReader } from '../harness/packets/pcapdroid-trailer.js';
import { parseAllowlist } from '../harness/verdict/allowlist.js';
import { chromiumQuicFixture, chromiumTlsFixture, hexFixture } from '../testing/names-test-data.js';

/** A reader under fuzzing. */
export interface FuzzTarget {
  name: string;
  /** Real inputs the mutations start from. */
  seeds(): Uint8Array[];
  /** Reads one input; throws only when the reader misbehaves (its documented errors are caught). */
  run(input: Uint8Array): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

/** Every capture file phonehome's tests read: the fixtures and PCAPdroid's. */
function captureFiles(): string[] {
  const dirs = ['fixtures/captures', '../shared/captures/pcapdroid'];
  return dirs.flatMap((d) => {
    try {
      return readdirSync(d)
        .filter((n) => /\.pcap(ng)?$/.test(n))
        .map((n) => join(d, n));
    } catch {
      return [];
    }
  });
}

/** The captures as seeds, at most 256 KiB each so that one input stays quick. */
function captureSeeds(): Uint8Array[] {
  return captureFiles()
    .map((f) => new Uint8Array(readFileSync(f)))
    .filter((b) => b.length <= 256 * 1024);
}

/** Frames of the captures, with their link types, as seeds for the packet decoder and trailer reader. */
let frameCache: { linkType: number; data: Uint8Array }[] | undefined;
function captureFrames(): { linkType: number; data: Uint8Array }[] {
  if (frameCache) return frameCache;
  const out: { linkType: number; data: Uint8Array }[] = [];
  for (const bytes of captureSeeds()) {
    const parser = new CaptureParser((f) => {
      if (out.length < 2000) out.push({ linkType: f.linkType, data: f.data.slice() });
    });
    parser.push(bytes);
    parser.end();
  }
  frameCache = out;
  return out;
}

/** Link types a frame input is decoded as: its first byte picks one (the rest is the frame). */
const LINK_TYPES = [1, 101, 113, 276, 0, 228, 229, 12];

function tolerate(e: unknown, ...kinds: (new (...args: never[]) => Error)[]): void {
  if (!kinds.some((k) => e instanceof k)) throw e;
}

function splitPush(parser: CaptureParser, input: Uint8Array): void {
  // Chunk sizes from the input's own bytes: records straddle chunks in every way.
  let pos = 0;
  let k = 0;
  while (pos < input.length) {
    const size = 1 + ((input[k++ % input.length]! * 37) % 4096);
    parser.push(input.subarray(pos, pos + size));
    pos += size;
  }
}

const FRAME: Frame = {
  ts: 0,
  linkType: 1,
  interfaceId: 0,
  data: new Uint8Array(0),
  origLen: 0,
  index: 0,
  offset: 0,
};

export const TARGETS: FuzzTarget[] = [
  {
    name: 'capture-reader',
    seeds: captureSeeds,
    run(input) {
      const parser = new CaptureParser(() => {});
      try {
        splitPush(parser, input);
        parser.end();
      } catch (e) {
        tolerate(e, CaptureFormatError);
      }
    },
  },
  {
    // The whole analysis: frames → packets → flows → names, as `phonehome analyze` runs it.
    name: 'analysis',
    seeds: captureSeeds,
    run(input) {
      const reader = new TrafficReader();
      const parser = new CaptureParser(reader.frame);
      try {
        parser.push(input);
        parser.end();
      } catch (e) {
        tolerate(e, CaptureFormatError);
      }
      reader.table.flows(undefined, { release: true });
      reader.namer.dns();
    },
  },
  {
    name: 'packet-decoder',
    seeds: () => captureFrames().map((f) => Uint8Array.of(LINK_TYPES.indexOf(f.linkType) & 0xff, ...f.data)),
    run(input) {
      if (input.length === 0) return;
      const decoder = new PacketDecoder();
      FRAME.linkType = LINK_TYPES[input[0]! % LINK_TYPES.length]!;
      FRAME.data = input.subarray(1);
      FRAME.origLen = FRAME.data.length;
      decoder.decode(FRAME);
      decoder.stats();
    },
  },
  {
    name: 'pcapdroid-trailer',
    seeds: () => captureFrames().map((f) => f.data),
    run(input) {
      const reader = new PcapdroidTrailerReader();
      for (const at of [0, Math.max(0, input.length - 32), input.length >> 1]) reader.read(input, at);
    },
  },
  {
    name: 'dns-message',
    seeds: () =>
      [
        encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'api.ad.intl.xiaomi.com' }] }),
        encode({
          type: 'response',
          id: 2,
          questions: [{ type: 'A', name: 'www.example.com' }],
          answers: [
            { type: 'CNAME', name: 'www.example.com', data: 'edge.example.net' },
            { type: 'A', name: 'edge.example.net', data: '203.0.113.7' },
            { type: 'AAAA', name: 'edge.example.net', data: '2001:db8::7' },
            { type: 'TXT', name: 'edge.example.net', data: 'v=1' },
          ],
        }),
      ].map((b) => new Uint8Array(b)),
    run(input) {
      parseDnsMessage(input);
    },
  },
  {
    name: 'tls-client-hello',
    seeds: () => [chromiumTlsFixture().stream],
    run(input) {
      readTlsClientHello(input);
    },
  },
  {
    name: 'quic-initial',
    seeds: () => [
      ...chromiumQuicFixture().datagrams,
      hexFixture('rfc9001-a2-client-initial.hex'),
      hexFixture('rfc9369-a2-client-initial.hex'),
    ],
    run(input) {
      const reader = new QuicInitialReader();
      reader.push(input);
      reader.push(input.subarray(input.length >> 1));
      reader.result();
    },
  },
  {
    name: 'http-request',
    seeds: () =>
      [
        'GET /mistats/v2/report?imei=1&aid=2 HTTP/1.1\r\nHost: data.mistat.intl.xiaomi.com\r\nUser-Agent: x\r\n\r\n',
        'CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n',
        'POST http://[2001:db8::1]:8080/x HTTP/1.0\nContent-Length: 0\n\n',
      ].map((t) => enc.encode(t)),
    run(input) {
      readHttpRequest(input);
    },
  },
  {
    name: 'allowlist',
    seeds: () => yamlSeeds(/allowlists\/.*\.yaml$/),
    run(input) {
      try {
        parseAllowlist(dec.decode(input), 'fuzz.yaml');
      } catch (e) {
        tolerate(e, ConfigError);
      }
    },
  },
  {
    name: 'device-profile',
    seeds: () => yamlSeeds(/\/profile\.yaml$/),
    run(input) {
      try {
        parseProfile(dec.decode(input), 'devices/fuzz/profile.yaml');
      } catch (e) {
        tolerate(e, ConfigError);
      }
    },
  },
];

/** The project's own YAML files whose path matches, as seeds. */
function yamlSeeds(path: RegExp): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (path.test(p)) out.push(new Uint8Array(readFileSync(p)));
    }
  };
  walk('devices');
  return out;
}
