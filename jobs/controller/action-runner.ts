import type { Durability, SiteConfig } from "../../config/schema.ts";
import { errorMessage, isHarborHaError } from "../../support/errors.ts";
import type { JobName, JobRequest, JobResult } from "../job-types.ts";
import type { NodeJobs } from "../node-jobs.ts";
import { walReceiverTimeoutMs } from "../primary-lease.ts";
import type { ActionResult } from "../remediation/contract.ts";
import { describeAction, type RemediationAction } from "./remediation.ts";
import { fenceOverSsh } from "./ssh-fence.ts";
import { checkThroughVip } from "./through-vip-checks.ts";

/** What one action of a plan did. */
export interface ActionReport {
  readonly action: RemediationAction;
  readonly ok: boolean;
  /** One sentence for the alert thread. */
  readonly detail: string;
  readonly durationMs: number;
  /** The fenced node's last WAL position (fence), or the promotion's loss (promote). */
  readonly lastLsn?: string | null;
  readonly lossBytes?: number | null;
  /** Why an agent's action failed (its result's reason: "rewind-failed", ...). */
  readonly reason?: string;
}

export interface PlanContext {
  readonly fencingToken: number;
  /** Jobs whose id repeats for a repeated decision run once (STYLE.md 6). */
  readonly planId: string;
  /** The fenced primary's last LSN, once the fence learnt it: promote reports the loss against it. */
  oldPrimaryLastLsn?: string | null;
  /** The primary's LSN once its writes were blocked (a switchover): the standby must replay it. */
  blockedLsn?: string;
  /** Nodes whose agent is silent: they are fenced over SSH, without waiting for their agent. */
  readonly silentNodes?: ReadonlySet<string>;
  /** Nodes this plan has fenced: their keepalived is stopped (or still stopping). */
  fencedHere?: Set<string>;
  /**
   * A node fenced on its lease's word alone (no agent, no SSH reached it): a promotion must then
   * see the replication link quiet for a wal_receiver_timeout first (jobs/primary-lease.ts).
   */
  presumedFenced?: string;
}

type RemediationResult = ActionResult<object>;

/**
 * Why set-roles leaves a node's role file alone, if it does. A silent node's cannot be written,
 * and waiting for its agent would only hold the promotion. A node fenced in this plan must not be
 * written either: a role file changed under a keepalived that is still exiting makes it advertise
 * a priority again after its priority-0 goodbye, and the peer then waits its full master down
 * timer (3.6 s) before taking the VIP. A rejoin sets the roles before keepalived starts again.
 */
function roleFileSkipped(node: string, context: PlanContext): string | undefined {
  if (context.silentNodes?.has(node)) return "not written, its agent is silent";
  if (context.fencedHere?.has(node))
    return "not written now, its keepalived is stopping (a rejoin sets it before starting it)";
  return undefined;
}

/**
 * How a promoted standby commits. Its peer, the old primary, is fenced: with "synchronous" it
 * commits alone until a standby streams again (the durability lane turns waiting back on), else
 * every write would hang; "strict" waits as configured (an override pg_rewind copied is undone);
 * "asynchronous" never waits.
 */
function commitAloneOnPromotion(durability: Durability): { commitAlone?: boolean } {
  if (durability === "asynchronous") return {};
  return { commitAlone: durability === "synchronous" };
}

/** An agent's answer as a plan step's outcome: whether it holds, and its sentence. */
const said = (result: RemediationResult): [boolean, string] => [result.ok, result.detail];

/**
 * Carries out a plan's actions through the nodes' agents, each as one or more jobs under the
 * controller's fencing token, in order; the first action that fails stops the plan (the next
 * decision sees the cluster as it is then). Verifying a write is the controller's own check.
 */
export class ActionRunner {
  constructor(
    private readonly site: SiteConfig,
    private readonly jobs: NodeJobs,
    private readonly pgPassword: string | undefined,
    /** Redis's PTTL of a node's primary lease: ms left, -2 once it is gone. */
    private readonly primaryLeaseLeftMs: (node: string) => Promise<number>,
  ) {}

  async run(action: RemediationAction, context: PlanContext, index: number): Promise<ActionReport> {
    const started = performance.now();
    const report = (ok: boolean, detail: string, extra: Partial<ActionReport> = {}): ActionReport => ({
      action,
      ok,
      detail,
      durationMs: performance.now() - started,
      ...extra,
    });
    try {
      switch (action.kind) {
        case "fence": {
          if (context.silentNodes?.has(action.node))
            return report(...(await this.fenceWithoutAgent(action.node, context)));
          let keepalived: Awaited<ReturnType<typeof this.send<"keepalived.stop">>>;
          try {
            // keepalived's graceful exit takes about a second; an agent that says nothing in 6 s is gone.
            keepalived = await this.send(
              action.node,
              "keepalived.stop",
              { untilVipReleased: true },
              context,
              `${index}a`,
              6_000,
            );
          } catch (error) {
            if (!isHarborHaError(error) || error.code !== "JOB_TIMEOUT") throw error;
            return report(...(await this.fenceWithoutAgent(action.node, context)));
          }
          // Whatever the outcome, its keepalived was told to stop: set-roles leaves its role file alone.
          context.fencedHere ??= new Set();
          context.fencedHere.add(action.node);
          const postgres = await this.send(action.node, "postgres.fence", {}, context, `${index}b`);
          const lastLsn = postgres.ok ? postgres.lastLsn : null;
          context.oldPrimaryLastLsn = lastLsn;
          return report(keepalived.ok && postgres.ok, `${keepalived.detail}; ${postgres.detail}`, {
            lastLsn,
          });
        }
        case "set-roles": {
          const results = await Promise.all(
            this.site.nodes.map((node) => {
              const skipped = node.name === action.primary ? undefined : roleFileSkipped(node.name, context);
              if (skipped) return { ok: false, detail: `${node.name}: ${skipped}` } as RemediationResult;
              return this.send(
                node.name,
                "keepalived.set-role",
                { role: node.name === action.primary ? "primary" : "standby" },
                context,
                `${index}-${node.name}`,
                3_000,
              ).catch(
                (error: unknown) =>
                  ({ ok: false, detail: `${node.name}: ${errorMessage(error)}` }) as RemediationResult,
              );
            }),
          );
          // A silent node's role file cannot be written; the primary-to-be's must be.
          const primaryOk = results[this.site.nodes.findIndex((n) => n.name === action.primary)]?.ok ?? false;
          return report(primaryOk, results.map((r) => r.detail).join("; "));
        }
        case "promote": {
          const promoted = await this.send(
            action.node,
            "postgres.promote",
            {
              ...(context.oldPrimaryLastLsn ? { oldPrimaryLastLsn: context.oldPrimaryLastLsn } : {}),
              ...(context.presumedFenced
                ? { upstreamQuietMs: walReceiverTimeoutMs(this.site.policy.probeIntervalMs) }
                : {}),
              ...commitAloneOnPromotion(this.site.postgres.durability),
            },
            context,
            String(index),
          );
          return report(
            promoted.ok,
            promoted.detail,
            promoted.ok ? { lossBytes: promoted.lossBytes } : { lossBytes: null, reason: promoted.reason },
          );
        }
        case "verify-write":
          return await this.verifyWrite(action.node, report);
        case "restart-postgres":
          return report(
            ...said(await this.send(action.node, "postgres.restart", {}, context, String(index))),
          );
        case "rejoin": {
          // Rejoined, it is a standby like any other: set-roles writes its role file again.
          context.fencedHere?.delete(action.node);
          const primary = this.site.nodes.find((node) => node.name === action.primary);
          if (!primary) return report(false, `no node named ${action.primary}`);
          const result = await this.send(
            action.node,
            "postgres.rejoin",
            {
              primary: { node: primary.name, address: primary.address },
              ...(action.allowReclone ? { allowReclone: true } : {}),
            },
            context,
            String(index),
          );
          return report(result.ok, result.detail, result.ok ? {} : { reason: result.reason });
        }
        case "start-keepalived":
          return report(
            ...said(await this.send(action.node, "keepalived.start", {}, context, String(index))),
          );
        case "restart-keepalived": {
          const stopped = await this.send(action.node, "keepalived.stop", {}, context, `${index}a`);
          const started2 = await this.send(action.node, "keepalived.start", {}, context, `${index}b`);
          return report(stopped.ok && started2.ok, `${stopped.detail}; ${started2.detail}`);
        }
        case "block-writes": {
          const result = await this.send(action.node, "postgres.block-writes", {}, context, String(index));
          if (result.ok) context.blockedLsn = result.currentLsn;
          return report(result.ok, result.detail);
        }
        case "wait-replay": {
          if (!context.blockedLsn) return report(false, "no LSN to wait for: block-writes did not run first");
          const lsn = context.blockedLsn;
          return report(
            ...said(await this.send(action.node, "postgres.wait-replay", { lsn }, context, String(index))),
          );
        }
        case "set-durability": {
          const request = { alone: action.alone };
          return report(
            ...said(await this.send(action.node, "postgres.set-durability", request, context, String(index))),
          );
        }
        case "restart-harbor": {
          const request = { components: action.components };
          return report(
            ...said(await this.send(action.node, "harbor.restart", request, context, String(index))),
          );
        }
        default: {
          const unknown: never = action;
          return report(false, `unknown action ${JSON.stringify(unknown)}`);
        }
      }
    } catch (error) {
      return report(false, `${describeAction(action)} failed: ${errorMessage(error)}`);
    }
  }

  private async send<N extends JobName>(
    node: string,
    name: N,
    request: Omit<JobRequest<N>, "fencingToken">,
    context: PlanContext,
    step: string,
    waitMs?: number,
  ): Promise<JobResult<N> & RemediationResult> {
    const outcome = await this.jobs.send(
      node,
      name,
      { ...request, fencingToken: context.fencingToken } as unknown as JobRequest<N>,
      { jobId: `${context.planId}-${step}-${name}-${node}`, ...(waitMs ? { waitMs } : {}) },
    );
    return outcome.result as JobResult<N> & RemediationResult;
  }

  /**
   * A silent agent's node is fenced over SSH. A node unreachable both ways is presumed fenced once
   * its primary lease has run out: its agent stops its PostgreSQL when it reaches neither Redis nor
   * a streaming standby (jobs/primary-lease.ts). Presumed, not proven: an agent that still reaches
   * its standby keeps its primary serving, so the promotion that follows checks the same link from
   * the standby's side and refuses while it streams. A lease still renewed means the primary is
   * alive and talking to Redis: the plan stops there for a person.
   */
  private async fenceWithoutAgent(name: string, context: PlanContext): Promise<[boolean, string]> {
    const node = this.site.nodes.find((candidate) => candidate.name === name);
    if (!node) return [false, `no node named ${name}`];
    const result = await fenceOverSsh(node);
    if (result.ok) return [result.ok, result.detail];
    const leaseMs = this.site.policy.primaryLeaseMs;
    const deadline = performance.now() + leaseMs + 1_000;
    for (;;) {
      const left = await this.primaryLeaseLeftMs(name);
      if (left === -2) {
        context.presumedFenced = name;
        return [
          true,
          `${result.detail}; ${name}'s primary lease has run out: presumed fenced (its agent stops its PostgreSQL unless a standby still streams from it, and then that standby refuses to be promoted)`,
        ];
      }
      if (performance.now() >= deadline) {
        return [
          false,
          `${result.detail}; and ${name}'s primary lease is still being renewed (${left} ms left): its primary may still take writes, so promoting another node could make two primaries. Check ${name} by hand, stop its PostgreSQL, then run /harbor failover`,
        ];
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(left, 50), 250)));
    }
  }

  /** A write through the VIP that lands on the expected node; the VIP may take a moment to move. */
  private async verifyWrite(
    node: string,
    report: (ok: boolean, detail: string) => ActionReport,
  ): Promise<ActionReport> {
    const deadline = performance.now() + 15_000;
    let last = "no attempt";
    while (performance.now() < deadline) {
      const checks = await checkThroughVip(this.site, this.pgPassword, 1_000);
      const write = checks.postgresWrite;
      if (write.ok && write.serverNode === node) {
        return report(
          true,
          `a write through the VIP ${this.site.vip.address} landed on ${node} (${Math.round(write.durationMs)} ms)`,
        );
      }
      last = write.ok ? `the write landed on ${write.serverNode}, not ${node}` : write.error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return report(false, `no write through the VIP reached ${node} within 15 s: ${last}`);
  }
}
