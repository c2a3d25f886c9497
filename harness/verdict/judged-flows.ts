/**
 * Which of a capture's flows are the phone's own contacts, to be judged: not phonehome's canaries
 * (names under the canary domain, looked up and pinged by phonehome to prove the capture works),
 * and not ICMP the phone only received (a rejected QUIC packet, a port unreachable: the network's
 * answer to something the phone sent, judged with that). A run and an offline re-judge of its capture
 * leave out the same flows, so they reach the same verdict.
 */
import type { Flow } from '../flows/flow.js';
import { isUnderDomain } from '../names/host-name.js';

export { DEFAULT_CANARY_DOMAIN } from '../config/canary.js';

/** True for a flow named under the canary domain. */
export function isCanaryFlow(flow: Flow, canaryDomain: string): boolean {
  return flow.names.some((n) => isUnderDomain(n.name, canaryDomain));
}

/** The flows a verdict judges: all but the canaries and ICMP the phone only received. */
export function judgedFlows(flows: readonly Flow[], canaryDomain: string): Flow[] {
  return flows.filter((fl) => !isCanaryFlow(fl, canaryDomain) && !(fl.proto === 'icmp' && fl.origPkts === 0));
}
