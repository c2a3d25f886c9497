import type { OpOptions } from '../deadline.js';
import type { CaptureRecord } from '../record/run-record.js';

/**
 * What the run pipeline needs from a capture. The backends in harness/capture/ implement it; the
 * pipeline never knows which tool records the traffic.
 */

/** Honest figures about a finished capture: what the run record keeps. */
export type CaptureStats = CaptureRecord;

/** What the phone is, for the capture filter. */
export interface CaptureTarget {
  /** The phone's IP addresses on the lab network, if known. */
  addrs: string[];
  /** The phone's MAC address, if known. */
  mac?: string;
}

/** A capture that is running. */
export interface CaptureSession {
  /** Path of the pcap file being written in the run folder. */
  readonly file: string;
  /**
   * Subscribes to the capture's bytes as they are written (the pcap header first), for live analysis.
   * Backends that only produce a file at the end (pcapdroid) call the listener once, after stop().
   */
  onBytes(listener: (chunk: Uint8Array) => void): void;
  /** Stops the capture, flushes the file and reports the figures. */
  stop(opts?: OpOptions): Promise<CaptureStats>;
}

/** A way to record a phone's traffic. */
export interface CaptureBackend {
  /** Backend name: tcpdump, cap, pcapdroid, file. */
  readonly name: string;
  /**
   * Starts recording into `file`. Resolves once the tool is really capturing (so the first canary is
   * not missed), or rejects with CaptureError.
   */
  start(opts: OpOptions & { file: string; target: CaptureTarget }): Promise<CaptureSession>;
}
