import type Docker from "dockerode";
import pg from "pg";
import { listManagedContainers } from "./managed-containers.ts";
import type { PostgresFacts, PostgresRole, ProbeReading } from "./observation.ts";
import { POSTGRES_STATUS_SQL, postgresFactsFromStatus, roleFromContainers } from "./postgres-facts.ts";
import { describeError, readProbe, withTimeout } from "./reading.ts";

export interface PostgresTarget {
  readonly host: string;
  readonly port: number;
  readonly password: string;
}

/** What the `postgres.role` job answers (the deploy plan keeps the primary where it runs). */
export interface PostgresRoleObservation {
  readonly role: PostgresRole;
  readonly detail: string;
  readonly durationMs: number;
}

/** The share of a probe's time budget the server itself gets; Docker gets the rest. */
const SERVER_SHARE = 0.6;

/**
 * This node's PostgreSQL: its role, timeline, LSNs, lag and replication, from the server itself
 * and, when it does not answer, from the node's Docker (stopped or absent). Read-only.
 *
 * One connection is kept for a few seconds rather than made per probe (two a second): a new
 * connection forks a backend each time. It is dropped on any error or timeout, since a
 * connection in an unknown state could hold the next query, and made again on the next probe.
 */
/** How long the kept connection serves before a new one is made (see queryStatus). */
const RECONNECT_AFTER_MS = 2_000;

export class PostgresProbe {
  private client: pg.Client | undefined;
  private connectedAt = 0;

  constructor(
    private readonly target: PostgresTarget,
    private readonly docker: Docker,
    private readonly timeoutMs: number,
  ) {}

  read(): Promise<ProbeReading<PostgresFacts>> {
    return readProbe(this.timeoutMs, "PostgreSQL probe", async () => {
      const started = performance.now();
      const serverMs = this.timeoutMs * SERVER_SHARE;
      try {
        const row = await withTimeout(serverMs, `PostgreSQL at ${this.address()}`, () => this.queryStatus());
        return postgresFactsFromStatus(row);
      } catch (error) {
        this.drop();
        const reason = describeError(error);
        const left = Math.max(1, this.timeoutMs - (performance.now() - started));
        // Docker's answer is the fallback: when it fails too, the reading fails with both reasons.
        const containers = await withTimeout(left, "Docker", (signal) =>
          listManagedContainers(this.docker, signal, { component: "postgres", confirmRunning: true }),
        ).catch((dockerError: unknown) => {
          throw new Error(`${reason}; Docker: ${describeError(dockerError)}`);
        });
        return roleFromContainers(containers, reason);
      }
    });
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private address(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  private async queryStatus(): Promise<Readonly<Record<string, unknown>>> {
    // A frozen postmaster (SIGSTOP, a hung accept) keeps serving the backends it already forked:
    // the kept connection would say "primary" while no client can connect. A connection newer
    // than RECONNECT_AFTER_MS proves the server still takes new ones.
    if (this.client && performance.now() - this.connectedAt > RECONNECT_AFTER_MS) this.drop();
    const client = this.client ?? (await this.connect());
    const result = await client.query<Record<string, unknown>>(POSTGRES_STATUS_SQL);
    const [row] = result.rows;
    if (!row) throw new Error("the status query returned no row");
    return row;
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client({
      host: this.target.host,
      port: this.target.port,
      user: "postgres",
      password: this.target.password,
      database: "postgres",
      application_name: "harbor-ha-agent",
      connectionTimeoutMillis: Math.ceil(this.timeoutMs * SERVER_SHARE),
      // The server cancels a status query that outlives the probe, instead of running it on.
      statement_timeout: Math.ceil(this.timeoutMs),
      keepAlive: true,
    });
    const forget = () => {
      if (this.client === client) this.client = undefined;
    };
    // A dead server shows up as an error or end event between probes; the next probe reconnects.
    client.on("error", forget);
    client.on("end", forget);
    this.client = client;
    this.connectedAt = performance.now();
    try {
      await client.connect();
    } catch (error) {
      forget();
      throw error;
    }
    return client;
  }

  private drop(): void {
    void this.close();
  }
}

/** The role alone, from a probe made for one reading (the `postgres.role` job runs rarely). */
export async function readPostgresRoleOnce(
  target: PostgresTarget,
  docker: Docker,
  timeoutMs: number,
): Promise<PostgresRoleObservation> {
  const probe = new PostgresProbe(target, docker, timeoutMs);
  try {
    const reading = await probe.read();
    return reading.ok
      ? { role: reading.role, detail: reading.detail, durationMs: reading.durationMs }
      : { role: "unknown", detail: reading.error, durationMs: reading.durationMs };
  } finally {
    await probe.close();
  }
}
