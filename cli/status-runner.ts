import type { RedisCredentials } from "../config/redis-credentials.ts";
import type { SiteConfig } from "../config/schema.ts";
import type { ClusterSnapshot, OverallState } from "../jobs/controller/snapshot.ts";
import { SnapshotStore } from "../jobs/controller/snapshot-store.ts";
import { assertControlPlaneReachable } from "../support/control-plane-redis.ts";
import { createLogger } from "../support/logger.ts";
import { statusTable } from "./status-table.ts";

export interface ShowStatusOptions {
  readonly site: SiteConfig;
  readonly redis: RedisCredentials;
  readonly pgPassword: string | undefined;
  readonly json: boolean;
  readonly watch: boolean;
  readonly waitMs: number;
  readonly logLevel: string;
}

/** Prints the snapshot once (or until Ctrl-C with watch) and returns the site's overall state. */
export async function showStatus(options: ShowStatusOptions): Promise<OverallState> {
  const { site } = options;
  await assertControlPlaneReachable(site.controlPlane, options.redis);
  const logger = createLogger({ component: "status", format: "json", level: options.logLevel });
  const store = new SnapshotStore({
    site,
    redis: options.redis,
    pgPassword: options.pgPassword,
    logger,
    checkTimeoutMs: Math.min(options.waitMs, 2_000),
  });
  await store.start();
  try {
    const print = (snapshot: ClusterSnapshot) =>
      console.log(options.json ? JSON.stringify(snapshot, null, 2) : statusTable(snapshot));
    if (!options.watch) {
      const snapshot = await store.refresh();
      print(snapshot);
      return snapshot.overall;
    }
    return await watch(store, options, print);
  } finally {
    await store.close();
  }
}

/** Redraws at most twice a second, re-checking through the VIP each second, until SIGINT/SIGTERM. */
async function watch(
  store: SnapshotStore,
  options: ShowStatusOptions,
  print: (snapshot: ClusterSnapshot) => void,
): Promise<OverallState> {
  let last = await store.refresh();
  let dirty = true;
  const unsubscribe = store.onObservation(() => {
    dirty = true;
  });
  const redraw = setInterval(() => {
    if (!dirty) return;
    dirty = false;
    last = store.current();
    if (!options.json && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
    print(last);
  }, 500);
  const recheck = setInterval(() => {
    void store.refresh().then(() => {
      dirty = true;
    });
  }, 1_000);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  clearInterval(redraw);
  clearInterval(recheck);
  unsubscribe();
  return last.overall;
}
