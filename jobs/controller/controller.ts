import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import type { SiteConfig } from "../../config/schema.ts";
import type { NodeObservation } from "../../probes/observation.ts";
import { errorMessage } from "../../support/errors.ts";
import type { Logger } from "../../support/logger.ts";
import { deployLock, describeHolder } from "../deploy/deploy-lock.ts";
import { vrrpTakeoverMs } from "../deploy/keepalived-conf.ts";
import type { NodeJobs } from "../node-jobs.ts";
import { primaryLeaseKey } from "../primary-lease.ts";
import type { LockHolder } from "../site-lock.ts";
import { ActionRunner, type PlanContext } from "./action-runner.ts";
import { confirmationCounts, type Sighting, updateConfirmations } from "./confirmations.ts";
import { decideMemory, loadMemory, type StoredMemory, saveMemory } from "./controller-memory.ts";
import { decide } from "./decide.ts";
import { confirmingStandby, decideDurability } from "./durability.ts";
import {
  awaitsApproval,
  followedBy,
  type Incident,
  type IncidentReporter,
  milestone,
  withTimeline,
} from "./incident.ts";
import { LeaseHolder } from "./lease-holder.ts";
import { EVALUATION_BUDGET_MS, LoopWatchdog, stepBudgetMs } from "./loop-watchdog.ts";
import type { Decision } from "./remediation.ts";
import { type ClusterSnapshot, readingOf, streamsFromUpstream } from "./snapshot.ts";
import type { SnapshotStore } from "./snapshot-store.ts";

export interface ControllerOptions {
  readonly site: SiteConfig;
  readonly store: SnapshotStore;
  readonly jobs: NodeJobs;
  readonly redis: Redis;
  readonly reporter: IncidentReporter;
  readonly pgPassword: string | undefined;
  readonly logger: Logger;
  /** How long the lease lives unrenewed: a dead controller's successor takes over after it. */
  readonly leaseTtlMs?: number;
}

/** The requester of what the controller asks on its own (an automatic remediation). */
export const AUTOMATIC = "controller";

/** A plan that ran is not run again, unchanged, sooner than this. */
const SAME_PLAN_AGAIN_AFTER_MS = 10_000;

/** A durability change that took is not sent again while the probes catch up with it. */
const DURABILITY_SETTLE_MS = 3_000;
/** One that failed is tried again after this long. */
const RETRY_DURABILITY_MS = 10_000;

/** After a plan fails, the same scenario is not tried again automatically for this long. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * The control loop (DESIGN §3): on every observation (and every probe interval), update the
 * confirmations, call decide(), and either run the plan through the agents, ask a person, or
 * close the incident once the site is sound. Only the lease holder acts; the loop never dies
 * (an unexpected error is logged and the next evaluation goes on).
 */
export class Controller {
  private readonly lease: LeaseHolder;
  private readonly runner: ActionRunner;
  private readonly watchdog = new LoopWatchdog();
  private sightings = new Map<string, Sighting>();
  private memory: StoredMemory | undefined;
  private busy = false;
  private pending = false;
  private timer: NodeJS.Timeout | undefined;
  private checker: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly dockerEvents = new Set<string>();
  private lastFailure: { scenario: string; at: number } | undefined;
  /**
   * A promote refused because its standby still streamed from the old primary: that primary is
   * alive. The failover is held (said once, not retried every minute) while the stream lives,
   * and tried again the moment it ends.
   */
  private heldPromote: { scenario: string; standby: string } | undefined;
  private asked: string | undefined;
  private lastFindings = "";
  private lastDecision = "";
  private lastRunAt = 0;
  private lastDurability: { key: string; at: number; ok: boolean } | undefined;
  /** The primary told to commit alone, until an observation shows it so (track()). */
  private aloneOn: string | undefined;

  constructor(private readonly options: ControllerOptions) {
    this.runner = new ActionRunner(options.site, options.jobs, options.pgPassword, (node) =>
      options.redis.pttl(primaryLeaseKey(options.site.site, node)),
    );
    this.lease = new LeaseHolder(
      options.redis,
      options.site.site,
      `bot@${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
      options.leaseTtlMs ?? 3_000,
      {
        onAcquired: (token) => {
          options.logger.info(
            { event: "controller.lease.acquired", fencingToken: token },
            `controller active (token ${token})`,
          );
          this.memory = undefined;
        },
        onLost: () =>
          options.logger.warn({ event: "controller.lease.lost" }, "controller lease lost: passive"),
        wedged: () => {
          const overdue = this.watchdog.overdue();
          return overdue && `${overdue.what} is ${Math.round(overdue.overdueMs / 1000)} s past its budget`;
        },
        onWedged: (reason) =>
          options.logger.error(
            { event: "controller.wedged", reason },
            `the control loop is stuck (${reason}): lease given up so that another bot takes over`,
          ),
      },
    );
  }

  start(): void {
    this.lease.start();
    this.unsubscribe = this.options.store.onObservation((observation) => this.observed(observation));
    this.timer = setInterval(() => this.schedule(), this.options.site.policy.probeIntervalMs);
    // The controller's own view as a client (a write and Harbor's health through the VIP), kept
    // fresh: decide() trusts a silent agent's primary only while writes still reach it.
    this.checker = setInterval(
      () => {
        if (this.lease.current() !== undefined) void this.options.store.refresh().catch(() => {});
      },
      Math.max(2 * this.options.site.policy.probeIntervalMs, 1_000),
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.checker);
    this.unsubscribe?.();
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 50));
    await this.lease.stop();
  }

  get token(): number | undefined {
    return this.lease.current();
  }

  /** Pause or resume automation (alerts still go out). */
  async setPaused(paused: boolean): Promise<void> {
    const memory = await this.remembered();
    await this.remember({ ...memory, paused });
  }

  /** Where the primary last was and its last LSN, for a forced failover's plan. */
  async lastPrimary(): Promise<{ node: string | null; lsn: string | null }> {
    const memory = await this.remembered();
    return { node: memory.lastPrimary, lsn: memory.lastPrimaryLsn };
  }

  async paused(): Promise<boolean> {
    return (await this.remembered()).paused;
  }

  private observed(observation: NodeObservation): void {
    if (observation.trigger === "docker-event") this.dockerEvents.add(observation.node);
    this.schedule();
  }

  private schedule(): void {
    if (this.busy) {
      this.pending = true;
      return;
    }
    this.busy = true;
    const ended = this.watchdog.begin("an evaluation", EVALUATION_BUDGET_MS);
    void this.evaluate()
      .catch((error: unknown) =>
        this.options.logger.error(
          { event: "controller.error", err: errorMessage(error) },
          "evaluation failed; going on",
        ),
      )
      .finally(() => {
        ended();
        this.release();
      });
  }

  /** Ends a turn of the loop; an evaluation asked for meanwhile runs now. */
  private release(): void {
    this.busy = false;
    if (this.pending) {
      this.pending = false;
      this.schedule();
    }
  }

  /** The deploy running now, if one is (its lock's holder); unknown reads as none. */
  private async deploying(): Promise<LockHolder | undefined> {
    return deployLock(this.options.redis, this.options.site.site)
      .current()
      .catch(() => undefined);
  }

  private async remembered(): Promise<StoredMemory> {
    this.memory ??= await loadMemory(this.options.redis, this.options.site.site);
    return this.memory;
  }

  private async remember(memory: StoredMemory): Promise<void> {
    this.memory = memory;
    await saveMemory(this.options.redis, this.options.site.site, memory);
  }

  private async evaluate(): Promise<void> {
    const { site, logger } = this.options;
    const now = Date.now();
    const snapshot = this.options.store.current(now);
    this.sightings = updateConfirmations(this.sightings, snapshot, {
      required: site.policy.confirmations,
      intervalMs: site.policy.probeIntervalMs,
      now,
      dockerEventNodes: new Set(this.dockerEvents),
    });
    this.dockerEvents.clear();
    const findings = snapshot.findings
      .map((finding) => `${finding.code}:${finding.node ?? "site"}`)
      .join(",");
    if (findings !== this.lastFindings) {
      this.lastFindings = findings;
      logger.debug(
        { event: "controller.findings", findings, primaries: snapshot.primaries, vip: snapshot.vip.holders },
        "findings changed",
      );
    }
    const token = this.lease.current(now);
    if (token === undefined) return;
    await this.keepDurability(snapshot, token, now);
    let memory = this.track(await this.remembered(), snapshot);
    let decision = decide({
      snapshot,
      policy: site.policy,
      memory: decideMemory(memory, confirmationCounts(this.sightings)),
      now,
      vrrpTakeoverMs: vrrpTakeoverMs(site.keepalived.advertInt),
    });
    if (decision.scenario === "healthy") {
      const request = awaitsApproval(memory.incident, now, site.policy.approvalExpiryMinutes * 60_000);
      if (request === "expired") {
        memory = await this.close(memory, "closed: the request was not approved in time", now);
      } else if (
        request === undefined &&
        memory.incident &&
        !snapshot.findings.some((finding) => finding.severity === "critical")
      ) {
        memory = await this.resolve(memory, now);
      }
      if (memory !== this.memory) await this.remember(memory);
      return;
    }
    if (this.heldPromote?.scenario === decision.scenario) {
      if (streamsFromUpstream(snapshot, this.heldPromote.standby)) return;
      this.heldPromote = undefined;
      this.lastFailure = undefined;
    }
    if (
      this.lastFailure?.scenario === decision.scenario &&
      now - this.lastFailure.at < RETRY_AFTER_FAILURE_MS
    )
      return;
    const deploying = decision.needsApproval ? undefined : await this.deploying();
    if (deploying) {
      // A deploy restarts services one node at a time: a plan run beside it would act on a
      // half-changed node. A person decides, with both in view.
      decision = {
        ...decision,
        needsApproval: true,
        reason: `${describeHolder(deploying)}, so nothing runs without a person: ${decision.reason}`,
      };
    }
    const decisionKey = `${decision.scenario}|${decision.needsApproval}|${JSON.stringify(decision.actions)}`;
    if (decisionKey === this.lastDecision) {
      // The same plan again: a question is asked once; a plan that ran and did not cure the
      // finding waits before it runs again, rather than spinning.
      if (decision.needsApproval || now - this.lastRunAt < SAME_PLAN_AGAIN_AFTER_MS) return;
    }
    this.lastDecision = decisionKey;
    logger.info(
      {
        event: "controller.decision",
        scenario: decision.scenario,
        needsApproval: decision.needsApproval,
        actions: decision.actions,
      },
      decision.reason,
    );
    memory = await this.openIncident(memory, decision, now);
    if (decision.needsApproval) {
      const key = `${memory.incident?.id}:${decision.reason}`;
      if (this.asked !== key) {
        this.asked = key;
        const incident = { ...(memory.incident as Incident), state: "needs-approval" as const };
        memory = { ...memory, incident };
        await this.remember(memory);
        await this.options.reporter.update(incident);
        await this.options.reporter.askApproval(incident, decision, AUTOMATIC);
      }
      return;
    }
    this.lastRunAt = now;
    await this.execute(decision, { token });
  }

  /**
   * An operator's plan (switchover, failover, rejoin): it joins the open incident or opens one,
   * then runs now, or is asked when it needs approval. It waits for any evaluation in progress:
   * one plan at a time. `actor` (a Slack user ID or "cli:USER") is the approval's requester, so
   * they cannot approve their own request.
   */
  async runManual(decision: Decision, actor: string): Promise<"ran" | "failed" | "asked"> {
    if (this.lease.current() === undefined)
      throw new Error("this bot is not the active controller: it may not act");
    return this.holdingLoop("an operator's plan", async () => {
      const now = Date.now();
      let memory = await this.remembered();
      if (memory.incident && memory.incident.state !== "resolved") {
        this.tell(this.options.reporter.note(memory.incident, `<@${actor}> asked: ${decision.reason}`));
      } else {
        const incident = {
          ...this.newIncident(decision, now),
          reason: `${decision.reason} (asked by ${actor})`,
          requestedBy: actor,
        };
        memory = { ...memory, incident: { ...incident, thread: await this.options.reporter.open(incident) } };
        await this.remember(memory);
      }
      if (decision.needsApproval) {
        // The request waits for its approval as an incident of its own: a sound site does not
        // resolve it, so the approved plan posts its steps in this thread (awaitsApproval).
        const asked = memory.incident as Incident;
        const incident: Incident = {
          ...withTimeline(asked, `asked for approval by ${actor}`, now),
          state: asked.requestedBy ? "needs-approval" : asked.state,
        };
        await this.remember({ ...memory, incident });
        this.tell(this.options.reporter.update(incident));
        await this.options.reporter.askApproval(incident, decision, actor);
        return "asked";
      }
      return (await this.execute(decision, { requester: actor })) ? "ran" : "failed";
    });
  }

  /**
   * A request that will not run (its approval was rejected): the incident it opened is closed,
   * so that the thread says so and the next fault opens a new one. An incident the controller
   * opened on a finding stays open: the finding is still there.
   */
  async withdraw(incidentId: string, why: string): Promise<void> {
    await this.holdingLoop("a withdrawn request", async () => {
      const memory = await this.remembered();
      if (memory.incident?.id !== incidentId || !memory.incident.requestedBy) return;
      await this.remember(await this.close(memory, `closed: ${why}`, Date.now()));
    });
  }

  /** The snapshot as the controller sees it now (the last checks through the VIP included). */
  snapshotNow(): ClusterSnapshot {
    return this.options.store.current();
  }

  /** What decide() says now, without acting: an approval's re-plan compares it with the asked plan. */
  async decideNow(): Promise<Decision> {
    const now = Date.now();
    const snapshot = this.options.store.current(now);
    const memory = this.track(await this.remembered(), snapshot);
    return decide({
      snapshot,
      policy: this.options.site.policy,
      memory: decideMemory({ ...memory, paused: false }, confirmationCounts(this.sightings)),
      now,
      vrrpTakeoverMs: vrrpTakeoverMs(this.options.site.keepalived.advertInt),
    });
  }

  get running(): boolean {
    return this.busy;
  }

  /**
   * An approved plan: it waits for the turn of the loop in progress and holds the loop while it
   * runs, so that it never runs beside an automatic plan (issue 15: plans must not overlap).
   * `requester` asked for it: a re-clone it leads to is asked in their name.
   */
  async runApproved(decision: Decision, options: { readonly requester?: string } = {}): Promise<boolean> {
    return this.holdingLoop("an approved plan", () => this.execute(decision, options));
  }

  /** Runs work as a turn of the loop: after the turn in progress, and nothing else beside it. */
  private async holdingLoop<T>(what: string, work: () => Promise<T>): Promise<T> {
    while (this.busy) await new Promise((resolve) => setTimeout(resolve, 20));
    this.busy = true;
    const ended = this.watchdog.begin(what, EVALUATION_BUDGET_MS);
    try {
      return await work();
    } finally {
      ended();
      this.release();
    }
  }

  /**
   * Runs an approved or automatic plan under the current lease; the caller holds the loop.
   * `requester` asked for the plan (the controller itself by default).
   */
  private async execute(
    decision: Decision,
    options: { readonly token?: number; readonly requester?: string } = {},
  ): Promise<boolean> {
    const { logger, reporter } = this.options;
    const token = options.token ?? this.lease.current();
    if (token === undefined) throw new Error("this controller does not hold the lease: it may not act");
    let memory = await this.openedIncident(await this.remembered(), decision);
    let incident: Incident = { ...(memory.incident as Incident), state: "remediating" };
    await this.remember({ ...memory, incident });
    // Posting waits for Slack's pace; the plan never waits for posting.
    this.tell(reporter.update(incident));
    const silentNodes = new Set(
      this.options.store
        .current()
        .nodes.filter((view) => view.stale)
        .map((view) => view.node),
    );
    const context: PlanContext = {
      fencingToken: token,
      planId: `plan-${incident.id}-${Date.now()}`,
      silentNodes,
    };
    for (const [index, action] of decision.actions.entries()) {
      if (this.lease.current() !== token) {
        await reporter.note(
          incident,
          ":warning: this controller lost its lease mid-plan; it stops here and the next controller decides",
        );
        return false;
      }
      const stepEnded = this.watchdog.begin(
        `step ${index + 1} (${action.kind})`,
        stepBudgetMs(action, this.options.site.policy.primaryLeaseMs),
      );
      const report = await this.runner.run(action, context, index).finally(() => stepEnded());
      logger.info(
        { event: "controller.action", action, ok: report.ok, durationMs: Math.round(report.durationMs) },
        report.detail,
      );
      this.tell(reporter.step(incident, report));
      memory = await this.remembered();
      if (report.ok) {
        const label = milestone(report);
        if (label) incident = withTimeline(incident, label, Date.now());
        if (report.lossBytes !== undefined && report.lossBytes !== null)
          incident = { ...incident, lossBytes: report.lossBytes };
        if (action.kind === "promote" && memory.confirmingStandby === action.node)
          incident = { ...incident, confirmedBy: action.node };
        memory = this.afterAction(memory, decision, action, report.lastLsn);
      }
      await this.remember({ ...memory, incident });
      if (!report.ok && action.kind === "fence" && decision.forced) {
        this.tell(
          reporter.note(
            incident,
            `:warning: ${action.node} could not be fenced; going on as the approved forced failover says`,
          ),
        );
        continue;
      }
      if (
        !report.ok &&
        action.kind === "rejoin" &&
        report.reason === "rewind-failed" &&
        !action.allowReclone
      ) {
        // DESIGN §4, S2: re-cloning discards what only that node holds, so a person decides.
        const reclone: Decision = {
          scenario: "rejoin",
          actions: [
            { ...action, allowReclone: true },
            { kind: "start-keepalived", node: action.node },
          ],
          needsApproval: true,
          nodes: [action.node],
          reason: `pg_rewind could not rejoin ${action.node} to ${action.primary}: re-clone it with pg_basebackup (its own divergent data is discarded)?`,
        };
        incident = { ...incident, state: "needs-approval" };
        await this.remember({ ...memory, incident });
        this.tell(reporter.update(incident));
        await reporter.askApproval(incident, reclone, options.requester ?? AUTOMATIC);
        this.lastFailure = { scenario: decision.scenario, at: Date.now() };
        return false;
      }
      if (!report.ok) {
        incident = { ...incident, state: "failed" };
        const alive = context.presumedFenced;
        const upstreamAlive = action.kind === "promote" && report.reason === "upstream-alive";
        if (upstreamAlive && alive) {
          // Presumed fenced, it was not: its standby still streams from it. It serves on, and
          // its own failure later must fail over like any primary's.
          memory = { ...memory, fenced: memory.fenced.filter((node) => node !== alive) };
        }
        await this.remember({ ...memory, incident });
        this.tell(reporter.update(incident));
        if (upstreamAlive) {
          this.heldPromote = { scenario: decision.scenario, standby: action.node };
          this.tell(
            reporter.note(
              incident,
              `:pause_button: Failover held: ${action.node} still receives WAL from its primary, so that primary is alive and serving, only cut off from the control host. Restore its link to the control host (Redis, SSH); the failover is tried again the moment ${action.node}'s stream ends, not before.`,
            ),
          );
        }
        this.lastFailure = { scenario: decision.scenario, at: Date.now() };
        return false;
      }
    }
    return true;
  }

  /**
   * postgres.durability, kept on every turn (a deploy and a paused site included: a commit that
   * waits for a standby that is gone is an outage, not a remediation): the primary commits alone
   * while no standby streams, and waits again once one has caught up (durability.ts decides).
   */
  private async keepDurability(snapshot: ClusterSnapshot, token: number, now: number): Promise<void> {
    const { site, logger, reporter } = this.options;
    const change = decideDurability({
      snapshot,
      durability: site.postgres.durability,
      policy: site.policy,
      confirmations: confirmationCounts(this.sightings),
      nodes: site.nodes.map((node) => node.name),
    });
    if (!change) return;
    const key = `${change.node}:${change.alone}`;
    // The probes show the new setting a round later; and a failed change is not hammered.
    const last = this.lastDurability;
    if (last?.key === key && now - last.at < (last.ok ? DURABILITY_SETTLE_MS : RETRY_DURABILITY_MS)) return;
    if (change.alone) {
      // Forgotten before the first commit alone: a failover after it may lose acknowledged writes.
      this.aloneOn = change.node;
      const memory = await this.remembered();
      if (memory.confirmingStandby !== null) await this.remember({ ...memory, confirmingStandby: null });
    }
    const action = { kind: "set-durability" as const, node: change.node, alone: change.alone };
    const context: PlanContext = { fencingToken: token, planId: `durability-${now}` };
    const ended = this.watchdog.begin(
      "a durability change",
      stepBudgetMs(action, site.policy.primaryLeaseMs),
    );
    const report = await this.runner.run(action, context, 0).finally(() => ended());
    this.lastDurability = { key, at: Date.now(), ok: report.ok };
    logger.info(
      { event: "controller.durability", node: change.node, alone: change.alone, ok: report.ok },
      report.ok ? change.reason : report.detail,
    );
    if (!report.ok) return;
    if (!change.alone && this.aloneOn === change.node) this.aloneOn = undefined;
    const text = change.alone
      ? `:warning: *Replication asynchronous on ${change.node}.* ${change.reason}.`
      : `:white_check_mark: *Replication synchronous again on ${change.node}.* ${change.reason}.`;
    this.tell(reporter.announce(text));
  }

  /** A report to the channel that the control loop does not wait for (posts keep their order). */
  private tell(posting: Promise<unknown>): void {
    posting.catch((error: unknown) =>
      this.options.logger.warn(
        { event: "controller.report.failed", err: errorMessage(error) },
        "could not report",
      ),
    );
  }

  /** What a successful action changes in the controller's memory. */
  private afterAction(
    memory: StoredMemory,
    decision: Decision,
    action: Decision["actions"][number],
    lastLsn: string | null | undefined,
  ): StoredMemory {
    switch (action.kind) {
      case "fence":
        return {
          ...memory,
          fenced: [...new Set([...memory.fenced, action.node])],
          diverged:
            decision.scenario === "two writable primaries"
              ? [...new Set([...memory.diverged, action.node])]
              : memory.diverged,
          lastPrimaryLsn: lastLsn ?? memory.lastPrimaryLsn,
        };
      case "promote":
        return {
          ...memory,
          lastPrimary: action.node,
          failovers: [...memory.failovers, Date.now()].slice(-20),
        };
      case "rejoin":
        return { ...memory, diverged: memory.diverged.filter((node) => node !== action.node) };
      default:
        return memory;
    }
  }

  /** Where the primary is, and which fenced nodes are back in service. */
  private track(memory: StoredMemory, snapshot: ClusterSnapshot): StoredMemory {
    let next = memory;
    const [primary] = snapshot.primaries;
    if (snapshot.primaries.length === 1 && primary) {
      const lsn =
        readingOf(snapshot.nodes.find((view) => view.node === primary)?.observation?.postgres)?.currentLsn ??
        null;
      const names =
        readingOf(snapshot.nodes.find((view) => view.node === primary)?.observation?.postgres)
          ?.synchronousStandbyNames ?? null;
      // Told to commit alone, the primary is not trusted to wait again until it is seen alone.
      if (this.aloneOn === primary && names?.trim() === "") this.aloneOn = undefined;
      const confirming = this.aloneOn === primary ? null : confirmingStandby(names);
      if (
        primary !== next.lastPrimary ||
        lsn !== next.lastPrimaryLsn ||
        confirming !== next.confirmingStandby
      )
        next = { ...next, lastPrimary: primary, lastPrimaryLsn: lsn, confirmingStandby: confirming };
    }
    const rejoined = next.fenced.filter((node) => {
      const view = snapshot.nodes.find((candidate) => candidate.node === node);
      const postgres = readingOf(view?.observation?.postgres);
      if (!view || view.stale) return false;
      // Presumed fenced on its lease's word, it kept serving (its standby refused to be promoted
      // beside it): as the only primary it is in service, and its failure must fail over again.
      if (postgres?.role === "primary" && snapshot.primaries.length === 1) return true;
      return postgres?.role === "standby" && readingOf(view.observation?.keepalived)?.running;
    });
    if (rejoined.length > 0)
      next = { ...next, fenced: next.fenced.filter((node) => !rejoined.includes(node)) };
    return next;
  }

  private newIncident(decision: Decision, now: number): Incident {
    const firstSeen = Math.min(now, ...[...this.sightings.values()].map((sighting) => sighting.firstAt));
    return {
      id: randomUUID().slice(0, 8),
      scenario: decision.scenario,
      nodes: decision.nodes,
      state: "detected",
      reason: decision.reason,
      openedAt: now,
      timeline: [{ label: `detected: ${decision.scenario}`, at: firstSeen }],
      thread: null,
      lossBytes: null,
    };
  }

  private async openIncident(memory: StoredMemory, decision: Decision, now: number): Promise<StoredMemory> {
    if (memory.incident && memory.incident.state !== "resolved") {
      if (memory.incident.scenario === decision.scenario) return memory;
      // A follow-up (the old primary back after the failover) belongs to the same incident.
      this.tell(
        this.options.reporter.note(memory.incident, `next: ${decision.scenario}: ${decision.reason}`),
      );
      const incident = followedBy(memory.incident, decision);
      if (incident === memory.incident) return memory;
      this.tell(this.options.reporter.update(incident));
      const renamed = { ...memory, incident };
      await this.remember(renamed);
      return renamed;
    }
    return this.openedIncident(memory, decision, now);
  }

  /**
   * The open incident a plan reports in, or a new one with its thread: an approved plan whose
   * incident resolved meanwhile (the site was sound while it waited) still shows its steps.
   */
  private async openedIncident(
    memory: StoredMemory,
    decision: Decision,
    now = Date.now(),
  ): Promise<StoredMemory> {
    if (memory.incident && memory.incident.state !== "resolved") return memory;
    const incident = this.newIncident(decision, now);
    const opened = {
      ...memory,
      incident: { ...incident, thread: await this.options.reporter.open(incident) },
    };
    await this.remember(opened);
    return opened;
  }

  /** Ends an incident that did not resolve on its own (a request withdrawn or expired). */
  private async close(memory: StoredMemory, label: string, now: number): Promise<StoredMemory> {
    const incident = memory.incident;
    if (!incident) return memory;
    await this.options.reporter.update({ ...withTimeline(incident, label, now), state: "resolved" });
    this.asked = undefined;
    return { ...memory, incident: null };
  }

  private async resolve(memory: StoredMemory, now: number): Promise<StoredMemory> {
    // A fault after the site was sound again is a new one, not a retry of the plan that failed.
    this.lastFailure = undefined;
    this.heldPromote = undefined;
    return this.close(memory, "resolved: the site is sound", now);
  }
}
