import pg from "pg";
import type { SiteConfig } from "../../../config/schema.ts";
import { HARBOR_DATABASE, HARBOR_DATABASE_USER } from "../../deploy/harbor-yml.ts";

/**
 * Harbor's external database must exist before Harbor starts (Harbor creates its tables, not the
 * database). It is reached the way Harbor reaches it: through the VIP, so it lands on the primary.
 */
export type DatabaseState =
  | { readonly kind: "exists" }
  | { readonly kind: "missing" }
  | { readonly kind: "unreachable"; readonly error: string };

function client(site: SiteConfig, password: string): pg.Client {
  const connection = new pg.Client({
    host: site.vip.address,
    port: site.postgres.port,
    database: "postgres",
    user: HARBOR_DATABASE_USER,
    password,
    connectionTimeoutMillis: 3_000,
    query_timeout: 10_000,
  });
  connection.on("error", () => {});
  return connection;
}

export async function harborDatabaseState(site: SiteConfig, password: string): Promise<DatabaseState> {
  const connection = client(site, password);
  try {
    await connection.connect();
    const found = await connection.query("select 1 from pg_database where datname = $1", [HARBOR_DATABASE]);
    return found.rowCount === 0 ? { kind: "missing" } : { kind: "exists" };
  } catch (error) {
    return { kind: "unreachable", error: (error as Error).message };
  } finally {
    await connection.end().catch(() => {});
  }
}

/** Creates the database; a concurrent creation by the other node's step counts as success. */
export async function createHarborDatabase(site: SiteConfig, password: string): Promise<void> {
  const connection = client(site, password);
  try {
    await connection.connect();
    await connection.query(`create database ${HARBOR_DATABASE}`);
  } catch (error) {
    if ((error as { code?: string }).code !== "42P04") throw error; // duplicate_database
  } finally {
    await connection.end().catch(() => {});
  }
}
