import type { OpOptions } from '../deadline.js';

/**
 * What the run pipeline needs from TLS interception. harness/intercept/ implements it with mitmdump;
 * the pipeline only starts a session around the capture and hands its exchanges file to the analysis.
 */

/** Interception that is running for one phone. */
export interface InterceptSession {
  /** The exchanges file (JSON lines) being written in the run folder. */
  readonly file: string;
  /** Lines for the run log: what was set up (the proxy's port, the rules). */
  readonly notes: string[];
  /** Stops the proxy and removes what was set up; resolves with what went wrong (empty when all is gone). */
  stop(): Promise<string[]>;
}

/** A way to see inside a phone's TLS. */
export interface Interceptor {
  /** mitmproxy. */
  readonly name: string;
  /** Hosts let through untouched (patterns as mitmproxy reads them). */
  readonly ignoreHosts: RegExp[];
  /** Whether interception that did not work breaks the run or only warns. */
  readonly onFailure: 'broken' | 'warn';
  /** Install the CA on phones that lack it (rooted ones), as a preparation step. */
  readonly installCa: boolean;
  /** The CA: its file name in Android's store (`<subject hash>.0`) and its certificate (PEM). */
  ca(): Promise<{ fileName: string; pem: string }>;
  /** Starts intercepting the phone's TCP 80 and 443 and blocking its UDP 443. Throws InterceptError. */
  start(opts: OpOptions & { dir: string; phoneAddrs: string[] }): Promise<InterceptSession>;
}

/** Interception could not be set up: the run is broken with this reason. */
export class InterceptError extends Error {
  override name = 'InterceptError';
}
