import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { SiteKey } from "../../config/site-key.ts";
import type { ApprovalRequest, ApprovalStatus } from "./approval-rules.ts";
import { approvalSeal, sealHolds } from "./approval-seal.ts";

/**
 * Approval requests in the control-plane Redis, so that a restarted bot knows every pending
 * one. A decision is one atomic step (a Lua script): it succeeds only while the request is
 * pending, so of two clicks, two approvers or a retry, exactly one wins.
 */

type Draft = Omit<
  ApprovalRequest,
  "id" | "status" | "decidedBy" | "decidedAt" | "messageTs" | "approvals" | "approvalsNeeded"
>;

export type DecideResult =
  | { readonly won: true }
  | { readonly won: false; readonly current: ApprovalRequest | undefined };

export type ApproveResult =
  /** This approval completed the request: it is approved now, by this click. */
  | { readonly outcome: "approved" }
  /** Counted; the request waits for more approvers. */
  | { readonly outcome: "recorded"; readonly approvals: readonly string[] }
  /** This approver had already approved it (a double click). */
  | { readonly outcome: "already" }
  /** Decided meanwhile by someone else. */
  | { readonly outcome: "lost"; readonly current: ApprovalRequest | undefined };

/** Kept this long after expiry, for "already decided" answers and the audit's context. */
const KEEP_AFTER_EXPIRY_S = 7 * 24 * 3600;

// KEYS[1] the request; ARGV: new status, user, now (ms), seal. Returns 1 when this call decided it.
const DECIDE_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'decidedBy', ARGV[2], 'decidedAt', ARGV[3], 'seal', ARGV[4])
return 1`;

export type SealedApproval =
  | { readonly ok: true; readonly request: ApprovalRequest }
  | { readonly ok: false; readonly detail: string };

// KEYS[1] the request; ARGV: user, approvals needed, now (ms), the approved request's seal. Adds the user to the approvals
// (comma-separated, each once) and approves when there are enough: 1 approved, 3 recorded,
// 2 already counted, 0 no longer pending.
const APPROVE_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'pending' then return 0 end
local list = redis.call('HGET', KEYS[1], 'approvals') or ''
local count = 0
for id in string.gmatch(list, '[^,]+') do
  if id == ARGV[1] then return 2 end
  count = count + 1
end
if list == '' then list = ARGV[1] else list = list .. ',' .. ARGV[1] end
count = count + 1
if count >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'approvals', list, 'status', 'approved', 'decidedBy', ARGV[1], 'decidedAt', ARGV[3], 'seal', ARGV[4])
  return 1
end
redis.call('HSET', KEYS[1], 'approvals', list)
return 3`;

export class ApprovalStore {
  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    private readonly siteKey: SiteKey,
    /** Stamped on every new request: 2 with the two-person rule, else 1. */
    private readonly approvalsNeeded = 1,
  ) {}

  private key(id: string): string {
    return `harbor-ha:${this.site}:approval:${id}`;
  }

  async create(draft: Draft): Promise<ApprovalRequest> {
    const request: ApprovalRequest = {
      ...draft,
      id: randomUUID().slice(0, 13).replace("-", ""),
      status: "pending",
      decidedBy: null,
      decidedAt: null,
      messageTs: null,
      approvals: [],
      approvalsNeeded: this.approvalsNeeded,
    };
    const key = this.key(request.id);
    await this.redis
      .multi()
      .hset(key, {
        data: JSON.stringify(draft),
        status: "pending",
        seal: approvalSeal(this.siteKey, request),
        approvalsNeeded: String(request.approvalsNeeded),
      })
      .pexpireat(key, request.expiresAt + KEEP_AFTER_EXPIRY_S * 1000)
      .exec();
    return request;
  }

  async setMessage(id: string, messageTs: string): Promise<void> {
    await this.redis.hset(this.key(id), "messageTs", messageTs);
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    const fields = await this.redis.hgetall(this.key(id));
    if (!fields.data || !fields.status) return undefined;
    const draft = JSON.parse(fields.data) as Draft;
    return {
      ...draft,
      id,
      status: fields.status as ApprovalStatus,
      decidedBy: fields.decidedBy || null,
      decidedAt: fields.decidedAt ? Number(fields.decidedAt) : null,
      messageTs: fields.messageTs || null,
      approvals: fields.approvals ? fields.approvals.split(",") : [],
      // A request stored before approvals were counted needs what the site asks for now.
      approvalsNeeded: Number(fields.approvalsNeeded) || this.approvalsNeeded,
    };
  }

  /** The request, only if its seal holds: as asked while pending, as approved once approved. */
  async verified(id: string): Promise<SealedApproval> {
    const [request, seal] = await Promise.all([this.get(id), this.redis.hget(this.key(id), "seal")]);
    if (!request) return { ok: false, detail: `approval request ${id} does not exist` };
    if (!sealHolds(this.siteKey, request, seal ?? undefined)) {
      return { ok: false, detail: `approval request ${id} (${request.status}) does not carry a valid seal` };
    }
    return { ok: true, request };
  }

  /** Moves a pending request to `status`; only one caller ever wins. */

  /** Counts one approver's approval; the one that makes enough approves the request, atomically. */
  async approve(id: string, user: string, now: number): Promise<ApproveResult> {
    // The click that completes the request seals it approved, and only over a request whose own
    // seal holds: one edited in Redis is never approved.
    const asked = await this.verified(id);
    if (!asked.ok) return { outcome: "lost", current: await this.get(id) };
    const needed = asked.request.approvalsNeeded;
    const seal = approvalSeal(this.siteKey, {
      ...asked.request,
      status: "approved",
      decidedBy: user,
      decidedAt: now,
    });
    const result = await this.redis.eval(
      APPROVE_SCRIPT,
      1,
      this.key(id),
      user,
      String(needed),
      String(now),
      seal,
    );
    switch (result) {
      case 1:
        return { outcome: "approved" };
      case 2:
        return { outcome: "already" };
      case 3:
        return { outcome: "recorded", approvals: (await this.get(id))?.approvals ?? [user] };
      default:
        return { outcome: "lost", current: await this.get(id) };
    }
  }

  async decide(
    id: string,
    status: Exclude<ApprovalStatus, "pending" | "approved">,
    user: string,
    now: number,
  ): Promise<DecideResult> {
    const won = await this.redis.eval(DECIDE_SCRIPT, 1, this.key(id), status, user, String(now), "");
    return won === 1 ? { won: true } : { won: false, current: await this.get(id) };
  }
}
