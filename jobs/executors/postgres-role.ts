import { type PostgresRoleObservation, readPostgresRoleOnce } from "../../probes/postgres.ts";
import type { AgentContext } from "./agent-context.ts";

const PROBE_TIMEOUT_MS = 2_000;

/** The node's PostgreSQL role, as the deploy plan needs it to keep the primary where it is. */
export function postgresRole(context: AgentContext): Promise<PostgresRoleObservation> {
  return readPostgresRoleOnce(
    { host: context.node.address, port: context.site.postgres.port, password: context.secrets.pgPassword },
    context.docker,
    PROBE_TIMEOUT_MS,
  );
}
