import type { RemediationJobName } from "../../job-types.ts";
import type { Executor } from "../executor.ts";
import { fencedAction } from "./fenced-executor.ts";
import { restartHarbor } from "./harbor-restart.ts";
import { setKeepalivedRole } from "./keepalived-set-role.ts";
import { startKeepalived } from "./keepalived-start.ts";
import { stopKeepalived } from "./keepalived-stop.ts";
import { setDurability } from "./postgres-durability.ts";
import { fencePostgres } from "./postgres-fence.ts";
import { promotePostgres } from "./postgres-promote.ts";
import { rejoinPostgres } from "./postgres-rejoin.ts";
import { restartPostgres } from "./postgres-restart.ts";
import { waitReplay } from "./postgres-wait-replay.ts";
import { allowWrites, blockWrites } from "./postgres-writes.ts";

/** Every remediation action, each behind the fencing-token check (fenced-executor.ts). */
export const REMEDIATION_EXECUTORS: { readonly [N in RemediationJobName]: Executor<N> } = {
  "postgres.fence": fencedAction("postgres.fence", fencePostgres),
  "postgres.promote": fencedAction("postgres.promote", promotePostgres),
  "postgres.restart": fencedAction("postgres.restart", restartPostgres),
  "postgres.rejoin": fencedAction("postgres.rejoin", rejoinPostgres),
  "postgres.block-writes": fencedAction("postgres.block-writes", blockWrites),
  "postgres.allow-writes": fencedAction("postgres.allow-writes", allowWrites),
  "postgres.wait-replay": fencedAction("postgres.wait-replay", waitReplay),
  "postgres.set-durability": fencedAction("postgres.set-durability", setDurability),
  "keepalived.stop": fencedAction("keepalived.stop", stopKeepalived),
  "keepalived.start": fencedAction("keepalived.start", startKeepalived),
  "keepalived.set-role": fencedAction("keepalived.set-role", setKeepalivedRole),
  "harbor.restart": fencedAction("harbor.restart", restartHarbor),
};
