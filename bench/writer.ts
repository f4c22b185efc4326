import pg from "pg";
import { closePg } from "../test/support/lab-postgres.ts";
import { sleep } from "./processes.ts";
import type { Ack } from "./recovery.ts";

export const WRITER_TABLE = "bench_writes";

/**
 * Commits numbered rows through the VIP, one at a time, the whole time the faults run. Each id
 * is acknowledged only when its commit returned; a failed or timed-out one is retried with the
 * next id on a new connection (the server behind the VIP may have changed). Bounded: it stops
 * when asked, or after `maxMs`.
 */
export class Writer {
  private next = 1;
  private readonly acked: Ack[] = [];
  private readonly failed: number[] = [];
  private running = false;
  private loop: Promise<void> | undefined;
  private client: pg.Client | undefined;

  constructor(
    private readonly host: string,
    private readonly password: string,
    private readonly maxMs = 3 * 60 * 60 * 1000,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    await this.drop();
  }

  /** Acknowledgements at or after `since` (Date.now() ms). */
  acksSince(since: number): Ack[] {
    const out: Ack[] = [];
    for (let i = this.acked.length - 1; i >= 0; i--) {
      const entry = this.acked[i];
      if (!entry || entry.at < since) break;
      out.push(entry);
    }
    return out.reverse();
  }

  failuresSince(since: number): number[] {
    return this.failed.filter((at) => at >= since);
  }

  /** Ids acknowledged after `afterId`. */
  ackedAfter(afterId: number): number[] {
    return this.acked.filter((entry) => entry.id > afterId).map((entry) => entry.id);
  }

  lastAckedId(): number {
    return this.acked.at(-1)?.id ?? 0;
  }

  private async drop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await closePg(client);
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      host: this.host,
      port: 5432,
      user: "postgres",
      password: this.password,
      database: "postgres",
      connectionTimeoutMillis: 500,
      // A commit that waits longer than this (a synchronous standby gone) is not acknowledged.
      query_timeout: 1_000,
    });
    client.on("error", () => {});
    await client.connect();
    await client.query(`create table if not exists ${WRITER_TABLE} (id bigint primary key, at timestamptz)`);
    return client;
  }

  private async run(): Promise<void> {
    const started = Date.now();
    while (this.running && Date.now() - started < this.maxMs) {
      const id = this.next++;
      try {
        this.client ??= await this.connect();
        const result = await this.client.query<{ name: string; data: string }>(
          `insert into ${WRITER_TABLE} values ($1, now()) returning current_setting('cluster_name') as name, current_setting('data_directory') as data`,
          [id],
        );
        const row = result.rows[0];
        this.acked.push({ id, at: Date.now(), server: row ? serverName(row.name, row.data) : "?" });
        // About 50 commits a second: dense enough to time a failover to 20 ms, light on 2 cores.
        await sleep(20);
      } catch {
        this.failed.push(Date.now());
        await this.drop();
        await sleep(50);
      }
    }
  }
}

/**
 * Which node took a write: the lab node in the server's data folder (the baselines keep theirs on
 * the node's disk; Patroni names every server after its scope), else its cluster_name (ours,
 * whose container sees one same path on every node).
 */
export function serverName(clusterName: string, dataDirectory: string): string {
  return /\/disks\/(node\d+)\//.exec(dataDirectory)?.[1] ?? clusterName;
}
