/**
 * The primary's lease (DESIGN §4): the agent on the node that runs the primary renews a key in
 * the control-plane Redis on every observation round. When the node is cut off, the key runs
 * out; before it does, the agent has stopped its own PostgreSQL, because it could reach neither
 * Redis nor a peer. So a controller that cannot fence the node, by its agent or by SSH, may still
 * promote the standby safely once the key is gone: nobody is left taking writes on the far side.
 * This file is the shared, pure part: the key and the agent's verdict.
 */

export function primaryLeaseKey(site: string, node: string): string {
  return `harbor-ha:${site}:primary-lease:${node}`;
}

export interface SelfFenceInput {
  /** This node's PostgreSQL accepts writes. */
  readonly isPrimary: boolean;
  /** Since the last renewal that Redis acknowledged (or since the node became primary). */
  readonly sinceRenewedMs: number;
  readonly leaseMs: number;
  /** Whether any peer node answered a TCP connection just now; undefined: not asked yet. */
  readonly peerReachable: boolean | undefined;
}

/**
 * Half the lease: the other half covers the stop itself (a fast shutdown takes a tenth of a
 * second) and the clocks' small disagreement, so the agent is done before the key expires.
 */
export function selfFenceAfterMs(leaseMs: number): number {
  return Math.floor(leaseMs / 2);
}

export type SelfFenceVerdict = "hold" | "ask-peers" | "fence";

/**
 * A Redis outage alone must not stop a healthy primary: only a node that reaches neither Redis
 * nor any peer fences itself (then it is the one cut off, not the others).
 */
export function selfFenceVerdict(input: SelfFenceInput): SelfFenceVerdict {
  if (!input.isPrimary || input.sinceRenewedMs < selfFenceAfterMs(input.leaseMs)) return "hold";
  if (input.peerReachable === undefined) return "ask-peers";
  return input.peerReachable ? "hold" : "fence";
}
