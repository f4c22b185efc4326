import { JOB_POLICIES, type JobName } from "../job-types.ts";
import type { RemediationAction } from "./remediation.ts";

/**
 * Whether the control loop is making progress. The controller's lease renews on its own timer;
 * without this, a loop stuck in a call that never returns (a hung SSH exec, a Docker call with no
 * answer) would hold the lease forever and no other bot could take over (issue 15). Each turn of
 * the loop, and each step of a plan, announces how long it may take; the lease is renewed only
 * while the current one is within its budget.
 */

/**
 * A turn of the loop outside any plan step: memory, the snapshot, decide(), and posting an
 * approval (which waits for Slack's pace). Seconds normally; a minute means something hangs.
 */
export const EVALUATION_BUDGET_MS = 60_000;
/** Posting, saving memory and the controller's own bookkeeping around a step. */
const STEP_MARGIN_MS = 15_000;

/** The jobs each plan step may send, in order; the fence may also fall back to SSH and the lease. */
const STEP_JOBS: { readonly [K in RemediationAction["kind"]]: readonly JobName[] } = {
  fence: ["keepalived.stop", "postgres.fence"],
  "set-roles": ["keepalived.set-role"],
  promote: ["postgres.promote"],
  "verify-write": [],
  "restart-postgres": ["postgres.restart"],
  rejoin: ["postgres.rejoin"],
  "start-keepalived": ["keepalived.start"],
  "restart-keepalived": ["keepalived.stop", "keepalived.start"],
  "restart-harbor": ["harbor.restart"],
  "block-writes": ["postgres.block-writes"],
  "wait-replay": ["postgres.wait-replay"],
  "set-durability": ["postgres.set-durability"],
};

/**
 * The longest a plan step can take when every call in it honours its timeout: each job's timeout
 * times its attempts, plus (for the fence) an SSH session and a wait for the primary lease.
 */
export function stepBudgetMs(action: RemediationAction, primaryLeaseMs: number): number {
  const jobs = STEP_JOBS[action.kind].reduce(
    (sum, name) => sum + JOB_POLICIES[name].timeoutMs * JOB_POLICIES[name].attempts,
    0,
  );
  const fallback = action.kind === "fence" ? 30_000 + primaryLeaseMs + 1_000 : 0;
  return jobs + fallback + STEP_MARGIN_MS;
}

export interface Overdue {
  readonly what: string;
  readonly overdueMs: number;
}

/**
 * Work nests (a plan's steps inside a turn of the loop): the innermost piece is the one that must
 * be within its budget, and the piece around it gets its whole budget again once it resumes.
 */
export class LoopWatchdog {
  private readonly stack: Array<{ what: string; budgetMs: number; deadline: number }> = [];

  /** A piece of work begins that should end within budgetMs; call the answer when it ends. */
  begin(what: string, budgetMs: number, now = Date.now()): (ended?: number) => void {
    const entry = { what, budgetMs, deadline: now + budgetMs };
    this.stack.push(entry);
    return (ended = Date.now()) => {
      const at = this.stack.lastIndexOf(entry);
      if (at < 0) return;
      this.stack.splice(at);
      const outer = this.stack[this.stack.length - 1];
      if (outer) outer.deadline = ended + outer.budgetMs;
    };
  }

  /** What has run past its budget, if anything: the loop is wedged and must not keep the lease. */
  overdue(now = Date.now()): Overdue | undefined {
    const current = this.stack[this.stack.length - 1];
    if (!current || now <= current.deadline) return undefined;
    return { what: current.what, overdueMs: now - current.deadline };
  }
}
