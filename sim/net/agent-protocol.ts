/**
 * The JSON-lines protocol between a phone's network side (phone-net.ts, host namespace) and its traffic
 * agent (traffic-agent.ts, inside the phone's namespace): one JSON object per line each way.
 */
import type { TrafficState } from '../contracts.js';
import type { TrafficProfile } from './traffic-schema.js';

/** Messages to the agent. */
export type AgentRequest =
  | {
      type: 'config';
      /** The behaviours to follow. */
      profile: TrafficProfile;
      /** Time compression: periods are divided by it. */
      speed: number;
      /** Misbehaviours switched on. */
      misbehave: string[];
      /** The lab DNS server's address. */
      dnsServer: string;
      /** The phone's own address on the lab network (multicast goes out of its interface). */
      phoneIp: string;
      /** The lab internet's certificate (PEM): what pinned apps accept, and nothing else. */
      labCert?: string;
    }
  | { type: 'state'; state: TrafficState }
  | { type: 'resolve'; id: number; host: string; package: string }
  | { type: 'touch'; id: number; host: string; port: number; package: string; timeoutMs: number };

/** A socket the agent opened, so capture can attribute its packets to the app. */
export interface AgentConnection {
  type: 'conn';
  /** Transport. */
  proto: 'tcp' | 'udp';
  /** The phone-side port. */
  localPort: number;
  /** Package that made it. */
  package: string;
  /** Host name it was for (the DNS server's for lookups). */
  host: string;
  /** Behaviour id, or "dns", "touch". */
  behaviour: string;
  /** Unix time, ms. */
  ts: number;
}

/** Messages from the agent. */
export type AgentEvent =
  | { type: 'ready' }
  | AgentConnection
  | { type: 'reply'; id: number; ok: boolean; address?: string; error?: string }
  | { type: 'log'; message: string };
