import { setTimeout as sleep } from "node:timers/promises";
import type { Containers, ExecResult } from "../../adapters/containers.ts";
import { PGDATA, postgresContainerName } from "../../deploy/postgres-config.ts";
import { type ControlData, parseControlData } from "../../deploy/postgres-controldata.ts";
import { parseServerState, type ServerState, serverStateQuery } from "../../deploy/postgres-server-state.ts";
import { PostgresStepFailure, tail } from "./postgres-failure.ts";

/** How long a server gets to accept connections after a start (crash recovery included). */
const READY_TIMEOUT_MS = 60_000;

/** Why a server would not start, from its last log lines: the hint names the usual causes. */
export function startFailureHint(log: string, port: number, node: string): string {
  if (/Address already in use|could not create any TCP\/IP sockets/i.test(log)) {
    return `port ${port} on ${node} is taken by another process: stop it (ss -ltnp 'sport = :${port}') or change postgres.port`;
  }
  if (/Permission denied|wrong ownership|invalid permissions/i.test(log)) {
    return `the data folder's owner or mode is wrong: it must belong to the image's postgres user, mode 700`;
  }
  if (/database files are incompatible/i.test(log)) {
    return "the data folder was made by another PostgreSQL major version than the image's";
  }
  return `read the server's log: docker logs ${postgresContainerName(node)}`;
}

/**
 * One node's PostgreSQL server, reached with `docker exec` into its container: psql over the
 * container's own socket (peer authentication as postgres), so it works before any password is set.
 */
export class PostgresServer {
  constructor(
    private readonly containers: Containers,
    readonly container: string,
    /** The socket's name carries the port: psql must be told one that is not 5432. */
    private readonly port: number,
  ) {}

  async psql(sql: string, database = "postgres"): Promise<ExecResult> {
    // With postgres.durability synchronous or strict a commit waits for a standby, and the primary step creates its
    // roles before any standby exists: the deploy's own writes wait for the local disk only.
    const env = { PGOPTIONS: "-c synchronous_commit=local" };
    return this.containers.exec(
      this.container,
      [
        "psql",
        "-X",
        "-A",
        "-t",
        "-q",
        "-v",
        "ON_ERROR_STOP=1",
        "-p",
        String(this.port),
        "-d",
        database,
        "-c",
        sql,
      ],
      { env },
    );
  }

  /** Runs SQL that must succeed; `what` names it in the failure. */
  async run(sql: string, what: string): Promise<string> {
    const result = await this.psql(sql);
    if (result.exitCode !== 0) {
      throw new PostgresStepFailure(
        `${what} failed in ${this.container} (psql exit ${result.exitCode})`,
        `run it by hand to see why: docker exec -it ${this.container} psql`,
        tail(result.stderr || result.stdout),
      );
    }
    return result.stdout.trim();
  }

  async state(roles: readonly string[]): Promise<ServerState> {
    return parseServerState(await this.run(serverStateQuery(roles), "reading the server's state"));
  }

  async controlData(): Promise<ControlData> {
    const result = await this.containers.exec(this.container, ["pg_controldata", "-D", PGDATA]);
    const parsed = result.exitCode === 0 ? parseControlData(result.stdout) : undefined;
    if (!parsed) {
      throw new PostgresStepFailure(
        `pg_controldata failed in ${this.container}`,
        "the data folder's pg_control is unreadable: read the output below",
        tail(result.stderr || result.stdout),
      );
    }
    return parsed;
  }

  /**
   * Waits until the server answers a query. A container that stops on the way fails at once,
   * with its log's tail (a port that is taken, a bad setting, a wrong owner).
   */
  async waitReady(node: string, port: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last: ExecResult | undefined;
    while (Date.now() < deadline) {
      signal.throwIfAborted();
      const state = await this.containers.inspect(this.container);
      if (!state?.running) {
        const log = await this.containers.logsTail(this.container, 10);
        throw new PostgresStepFailure(
          `${this.container} stopped while starting (exit code ${state?.exitCode ?? "?"})`,
          startFailureHint(log, port, node),
          tail(log),
        );
      }
      last = await this.psql("select 1").catch(() => undefined);
      if (last?.exitCode === 0) return;
      await sleep(200, undefined, { signal });
    }
    throw new PostgresStepFailure(
      `${this.container} did not accept connections within ${READY_TIMEOUT_MS / 1000} s`,
      `read docker logs ${this.container}`,
      tail(`${last?.stderr ?? ""}\n${await this.containers.logsTail(this.container, 20)}`),
    );
  }
}
