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

type Draft = Omit<ApprovalRequest, "id" | "status" | "decidedBy" | "decidedAt" | "messageTs">;

export type DecideResult =
  | { readonly won: true }
  | { readonly won: false; readonly current: ApprovalRequest | undefined };

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

export class ApprovalStore {
  constructor(
    private readonly redis: Redis,
    private readonly site: string,
    private readonly siteKey: SiteKey,
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
    };
    const key = this.key(request.id);
    await this.redis
      .multi()
      .hset(key, {
        data: JSON.stringify(draft),
        status: "pending",
        seal: approvalSeal(this.siteKey, request),
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
  async decide(
    id: string,
    status: Exclude<ApprovalStatus, "pending">,
    user: string,
    now: number,
  ): Promise<DecideResult> {
    // An approval is sealed only over a request whose own seal holds: one edited in Redis is not.
    const asked = await this.verified(id);
    const seal =
      status === "approved" && asked.ok
        ? approvalSeal(this.siteKey, { ...asked.request, status, decidedBy: user, decidedAt: now })
        : "";
    const won = await this.redis.eval(DECIDE_SCRIPT, 1, this.key(id), status, user, String(now), seal);
    return won === 1 ? { won: true } : { won: false, current: await this.get(id) };
  }
}
