/**
 * What a person watching a run sees while the capture runs: connections, names and violations so
 * far, read from the capture's bytes as they are written. The final verdict comes from the file.
 */
import { TrafficReader } from '../analyze.js';
import { CaptureParser } from '../packets/capture-parser.js';
import type { Allowlist } from '../verdict/allowlist.js';
import { judgedFlows } from '../verdict/judged-flows.js';
import { judge } from '../verdict/verdict.js';
import type { CaptureBackend, CaptureSession } from './capture.js';

/** What the capture has shown so far of one run, for a person watching. */
export interface LiveStats {
  /** Connections (flows) seen, canaries left out. */
  connections: number;
  /** Distinct names (SNI, Host, DNS) seen, canaries left out. */
  names: number;
  /** Violations of the allowlist so far (grouped per subject and rule, as the verdict groups them). */
  violations: number;
  /** Bytes of capture read. */
  bytes: number;
}

/** Live figures are judged at most this often: judging is cheap, but not per chunk. */
const LIVE_EVERY_MS = 1_000;

/**
 * Reads a capture's bytes as they are written and keeps the flows so far: what a person watching
 * the run sees (connections, names, violations). Errors in the stream only stop the live figures.
 */
export class LiveTraffic {
  private readonly reader = new TrafficReader();
  private readonly parser = new CaptureParser(this.reader.frame);
  private bytes = 0;
  private broken = false;

  constructor(
    private readonly allowlist: Allowlist,
    private readonly canaryDomain: string,
    private readonly deviceAddrs: readonly string[],
  ) {}

  /** Feeds the next bytes of the capture. */
  push(chunk: Uint8Array): void {
    if (this.broken) return;
    this.bytes += chunk.length;
    try {
      this.parser.push(chunk);
    } catch {
      this.broken = true;
    }
  }

  /** The figures so far. */
  stats(): LiveStats {
    const flows = judgedFlows(this.reader.table.flows(new Set(this.deviceAddrs)), this.canaryDomain);
    const names = new Set<string>();
    for (const f of flows) for (const n of f.names) names.add(n.name);
    // Drops are only counted when the capture stops: judge as the final verdict will when there are none.
    const verdict = judge(flows, this.allowlist, { captureComplete: true });
    return {
      connections: flows.length,
      names: names.size,
      violations: verdict.violations.length,
      bytes: this.bytes,
    };
  }
}

/**
 * The backend with live figures: the session it starts feeds its bytes to a LiveTraffic, and
 * `onLive` gets the figures about once a second while bytes come in, and once more at stop().
 */
export function withLiveStats(
  backend: CaptureBackend,
  allowlist: Allowlist,
  canaryDomain: string,
  onLive: (stats: LiveStats) => void,
): CaptureBackend {
  return {
    name: backend.name,
    async start(o): Promise<CaptureSession> {
      const session = await backend.start(o);
      const live = new LiveTraffic(allowlist, canaryDomain, o.target.addrs);
      let dirty = false;
      const report = () => {
        if (!dirty) return;
        dirty = false;
        try {
          onLive(live.stats());
        } catch {
          // The live figures are a courtesy: the run's verdict comes from the file.
        }
      };
      session.onBytes((chunk) => {
        live.push(chunk);
        dirty = true;
      });
      const timer = setInterval(report, LIVE_EVERY_MS);
      timer.unref();
      return {
        file: session.file,
        onBytes: (l) => session.onBytes(l),
        async stop(so) {
          try {
            return await session.stop(so);
          } finally {
            clearInterval(timer);
            report();
          }
        },
      };
    },
  };
}
