import { addressOf } from "./lab-facts.ts";
import { lostWrites } from "./lost-writes.ts";
import { isPrimary, type PgTarget, pgQuery } from "./pg-client.ts";
import { sleep } from "./processes.ts";
import { ANY_SERVER, writableAgainAt } from "./recovery.ts";
import type { FaultSample } from "./results.ts";
import type { BenchSystem, FaultKind } from "./system.ts";
import type { VipWatch } from "./vip-watch.ts";
import { WRITER_TABLE, type Writer } from "./writer.ts";

export interface FaultRunContext {
  readonly writer: Writer;
  readonly vip: VipWatch;
  readonly password: string;
  readonly limitMs: number;
  readonly log: (line: string) => void;
}

/**
 * One fault on one system: inject it, wait (bounded) for the first acknowledged write on the
 * expected primary, time the milestones, count the acknowledged writes the survivor lacks, and
 * let the system restore itself before the next run.
 */
export async function runFault(
  system: BenchSystem,
  kind: FaultKind,
  ctx: FaultRunContext,
): Promise<FaultSample> {
  const before = ctx.writer.lastAckedId();
  const fault = await system.injectFault(kind);
  const target: PgTarget = { host: addressOf(fault.expectedPrimary), password: ctx.password };
  const movesRole = fault.expectedPrimary !== fault.oldPrimary;
  let promotedAt: number | undefined;
  let writableAt: number | undefined;
  const deadline = fault.at + ctx.limitMs;
  // The peer's role is polled on its own, every 50 ms, so that waiting for writes never delays it.
  const poll = (async () => {
    while (movesRole && promotedAt === undefined && writableAt === undefined && Date.now() < deadline) {
      if (await isPrimary(target, 300)) promotedAt = Date.now();
      else await sleep(50);
    }
  })();
  while (Date.now() < deadline && writableAt === undefined) {
    // Any server will do once the VIP has moved: the outage that counts begins there (before it,
    // the old primary still serves, and a stray failed write is no outage).
    const from = fault.anyServer && movesRole ? ctx.vip.arrivedAt(fault.expectedPrimary, fault.at) : fault.at;
    writableAt =
      from === undefined
        ? undefined
        : writableAgainAt(
            ctx.writer.acksSince(from),
            ctx.writer.failuresSince(from),
            from,
            fault.anyServer ? ANY_SERVER : fault.expectedPrimary,
            fault.oldPrimary,
          );
    if (writableAt === undefined) await sleep(25);
  }
  const timedOut = writableAt === undefined;
  await poll;
  // When the first write came before the poll's next look, the write bounds the promotion.
  if (movesRole && !fault.anyServer && promotedAt === undefined && !timedOut) promotedAt = writableAt;
  // The writes must be on the server that took the first write after the outage.
  const server = ctx.writer.acksSince(writableAt ?? fault.at)[0]?.server;
  const survivor: PgTarget =
    server && server !== "?" && !timedOut ? { host: addressOf(server), password: ctx.password } : target;
  // Writes acknowledged up to now are what the survivor must hold.
  await sleep(1_000);
  const acked = ctx.writer.ackedAfter(before);
  let lost = 0;
  try {
    const rows = await pgQuery<{ id: string }>(
      survivor,
      `select id from ${WRITER_TABLE} where id > ${before}`,
      5_000,
    );
    lost = lostWrites(
      acked,
      rows.map((row) => Number(row.id)),
    ).length;
  } catch (error) {
    ctx.log(`  could not read the writes back from ${fault.expectedPrimary}: ${(error as Error).message}`);
  }
  const own = await system
    .milestones(fault)
    .catch(() => ({}) as Awaited<ReturnType<BenchSystem["milestones"]>>);
  const since = (at: number | undefined) => (at === undefined ? undefined : at - fault.at);
  const sample: FaultSample = {
    writableMs: timedOut ? ctx.limitMs : (writableAt as number) - fault.at,
    timedOut,
    detectedMs: own.detectedMs,
    fencedMs: own.fencedMs,
    // The earlier of the system's own account (its log's line, after the action's own check) and the poll.
    promotedMs: movesRole ? earliest(own.promotedMs, since(promotedAt)) : undefined,
    vipMovedMs: movesRole ? since(ctx.vip.arrivedAt(fault.expectedPrimary, fault.at)) : undefined,
    acked: acked.length,
    lost,
  };
  ctx.log(
    `  ${system.name} (${system.replication}) ${kind}: ${timedOut ? `not writable within ${ctx.limitMs} ms` : `writable after ${sample.writableMs} ms`}` +
      `${sample.promotedMs !== undefined ? `, promoted ${sample.promotedMs} ms` : ""}` +
      `${sample.vipMovedMs !== undefined ? `, VIP ${sample.vipMovedMs} ms` : ""}, lost ${lost}/${acked.length}`,
  );
  await system.restore(fault);
  return sample;
}

function earliest(...values: (number | undefined)[]): number | undefined {
  const present = values.filter((value): value is number => value !== undefined);
  return present.length === 0 ? undefined : Math.min(...present);
}
