import { mkdir, open, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Redis } from "ioredis";
import { CLOCK_SKEW_MS } from "./job-signature.ts";

/**
 * The consumer's memory of the signed jobs it started, kept until each one's expiry: a captured
 * job added again after BullMQ removed the original carries a valid signature, and only this
 * memory tells it from a new one. A job id may start at most `maxStarts` times (its attempts,
 * plus one hand-back of a job whose agent died under it) and never again once it succeeded.
 */

export interface SeenJob {
  readonly starts: number;
  readonly succeeded: boolean;
  readonly expiresAt: number;
}

export type ClaimVerdict = { readonly ok: true } | { readonly ok: false; readonly detail: string };

export function judgeClaim(jobId: string, seen: SeenJob | undefined, maxStarts: number): ClaimVerdict {
  if (!seen) return { ok: true };
  if (seen.succeeded) return { ok: false, detail: `job ${jobId} already ran to the end here` };
  if (seen.starts >= maxStarts) {
    return { ok: false, detail: `job ${jobId} already started ${seen.starts} times (at most ${maxStarts})` };
  }
  return { ok: true };
}

export interface SeenJobs {
  /** Records a start, or says why this id may not start again. */
  claim(jobId: string, expiresAt: number, maxStarts: number, now: number): Promise<ClaimVerdict>;
  succeeded(jobId: string): Promise<void>;
}

interface Line {
  readonly id: string;
  readonly event: "start" | "success";
  readonly expiresAt: number;
}

/**
 * On the node's own disk (`<dataRoot>/agent/seen-jobs.jsonl`), not in Redis: whoever can write
 * to Redis must not be able to make an agent forget, and an agent restarted within a job's
 * expiry still refuses its replay. Each start is appended and synced before the job runs; the
 * file is compacted (expired ids dropped) when the agent starts.
 */
export class FileSeenJobs implements SeenJobs {
  private constructor(
    private readonly file: string,
    private readonly seen: Map<string, SeenJob>,
  ) {}

  static async open(file: string, now: number): Promise<FileSeenJobs> {
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") return "";
      throw error;
    });
    const seen = new Map<string, SeenJob>();
    for (const raw of text.split("\n")) {
      const line = parseLine(raw);
      if (!line || line.expiresAt + CLOCK_SKEW_MS < now) continue;
      const before = seen.get(line.id) ?? { starts: 0, succeeded: false, expiresAt: line.expiresAt };
      seen.set(
        line.id,
        line.event === "start" ? { ...before, starts: before.starts + 1 } : { ...before, succeeded: true },
      );
    }
    const compacted = [...seen].flatMap(([id, job]) => [
      ...Array.from({ length: job.starts }, () => lineText({ id, event: "start", expiresAt: job.expiresAt })),
      ...(job.succeeded ? [lineText({ id, event: "success", expiresAt: job.expiresAt })] : []),
    ]);
    await writeFile(`${file}.tmp`, compacted.join(""), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return new FileSeenJobs(file, seen);
  }

  async claim(jobId: string, expiresAt: number, maxStarts: number, now: number): Promise<ClaimVerdict> {
    forgetExpired(this.seen, now);
    const before = this.seen.get(jobId);
    const verdict = judgeClaim(jobId, before, maxStarts);
    if (!verdict.ok) return verdict;
    this.seen.set(jobId, { starts: (before?.starts ?? 0) + 1, succeeded: false, expiresAt });
    await this.append({ id: jobId, event: "start", expiresAt });
    return verdict;
  }

  async succeeded(jobId: string): Promise<void> {
    const before = this.seen.get(jobId);
    if (!before) return;
    this.seen.set(jobId, { ...before, succeeded: true });
    await this.append({ id: jobId, event: "success", expiresAt: before.expiresAt });
  }

  private async append(line: Line): Promise<void> {
    const handle = await open(this.file, "a", 0o600);
    try {
      await handle.write(lineText(line));
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }
}

/** An expired id needs no memory: its signature refuses it now. */
function forgetExpired(seen: Map<string, SeenJob>, now: number): void {
  for (const [id, job] of seen) if (job.expiresAt + CLOCK_SKEW_MS < now) seen.delete(id);
}

function lineText(line: Line): string {
  return `${JSON.stringify(line)}\n`;
}

function parseLine(raw: string): Line | undefined {
  if (!raw.trim()) return undefined;
  try {
    const line = JSON.parse(raw) as Partial<Line>;
    if (typeof line.id !== "string" || typeof line.expiresAt !== "number") return undefined;
    if (line.event !== "start" && line.event !== "success") return undefined;
    return line as Line;
  } catch {
    return undefined;
  }
}

// KEYS[1] the job's record; ARGV: max starts, expiry (ms since epoch). Returns 0 ok, 1 succeeded, 2 too many starts.
const CLAIM_SCRIPT = `
if redis.call('HGET', KEYS[1], 'succeeded') == '1' then return 1 end
local starts = tonumber(redis.call('HGET', KEYS[1], 'starts') or '0')
if starts >= tonumber(ARGV[1]) then return 2 end
redis.call('HINCRBY', KEYS[1], 'starts', 1)
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 0`;

/**
 * The controller queue's memory: every bot consumes that queue, so the ids are shared in Redis
 * (and kept in this process too, which Redis cannot make forget). Weaker than an agent's file
 * against someone who can delete Redis keys; the approval seal and the short expiry bound it.
 */
export class RedisSeenJobs implements SeenJobs {
  private readonly local = new Map<string, SeenJob>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
  ) {}

  async claim(jobId: string, expiresAt: number, maxStarts: number, now: number): Promise<ClaimVerdict> {
    forgetExpired(this.local, now);
    const before = this.local.get(jobId);
    const mine = judgeClaim(jobId, before, maxStarts);
    if (!mine.ok) return mine;
    const answer = await this.redis.eval(
      CLAIM_SCRIPT,
      1,
      `${this.keyPrefix}${jobId}`,
      String(maxStarts),
      String(expiresAt + CLOCK_SKEW_MS),
    );
    if (answer === 1) return { ok: false, detail: `job ${jobId} already ran to the end` };
    if (answer === 2) return { ok: false, detail: `job ${jobId} already started ${maxStarts} times` };
    this.local.set(jobId, { starts: (before?.starts ?? 0) + 1, succeeded: false, expiresAt });
    return { ok: true };
  }

  async succeeded(jobId: string): Promise<void> {
    const before = this.local.get(jobId);
    if (before) this.local.set(jobId, { ...before, succeeded: true });
    await this.redis.hset(`${this.keyPrefix}${jobId}`, "succeeded", "1");
  }
}
