import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { AllowWritesFacts } from "../../remediation/contract.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { type PgTarget, readFacts, verifyWrite, withSession } from "./postgres-client.ts";
import { type PostgresHere, postgresHere, requireContainer } from "./postgres-node.ts";

/**
 * postgres.block-writes and postgres.allow-writes, for a planned switchover: the primary stops
 * taking writes (default_transaction_read_only through ALTER SYSTEM and a reload, then every
 * client session ended so none keeps an open write), its LSN then is the last write a standby
 * must replay; allow-writes undoes it. ALTER SYSTEM lives in postgresql.auto.conf, which is not
 * replicated: the promoted standby does not inherit it, and pg_rewind gives the old primary the
 * new primary's copy.
 */

const SETTLE_MS = 5_000;
const SETTING = "default_transaction_read_only";

/** What a new session gets: a reload reaches the postmaster, and so new sessions, a moment later. */
async function newSessionsReadOnly(target: PgTarget, signal: AbortSignal): Promise<boolean> {
  return withSession(target, signal, async (client) => {
    const row = (await client.query<{ value: string }>(`select current_setting('${SETTING}') as value`))
      .rows[0];
    return row?.value === "on";
  });
}

async function waitNewSessions(here: PostgresHere, signal: AbortSignal, readOnly: boolean): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  while ((await newSessionsReadOnly(here.target, signal)) !== readOnly) {
    if (Date.now() >= deadline) {
      throw new ActionFailure(
        "timeout",
        `new sessions on ${here.label} still get ${SETTING} = ${readOnly ? "off" : "on"} ${SETTLE_MS / 1000} s after the reload`,
        "a setting in postgresql.conf overrides it? read pg_file_settings on the server",
      );
    }
    await sleep(50, undefined, { signal });
  }
}

async function requireRunning(here: PostgresHere): Promise<void> {
  const state = await requireContainer(here);
  if (!state.running) {
    throw new ActionFailure("not-running", `${here.label} is not running`, "nothing takes writes there");
  }
}

async function setReadOnly(client: pg.Client, on: boolean): Promise<void> {
  await client.query(on ? `alter system set ${SETTING} = on` : `alter system reset ${SETTING}`);
  await client.query("select pg_reload_conf()");
}

export const blockWrites: RemediationAction<"postgres.block-writes"> = async (
  context,
  _request,
  signal,
  run,
) => {
  const here = postgresHere(context);
  await run.step("inspect", () => requireRunning(here));
  const { facts, alreadyBlocked } = await run.step("read its state", () =>
    withSession(here.target, signal, async (client) => ({
      facts: await readFacts(client),
      alreadyBlocked: await newSessionsReadOnly(here.target, signal),
    })),
  );
  if (facts.role !== "primary") {
    throw new ActionFailure(
      "not-primary",
      `${here.label} is not the primary (${facts.detail})`,
      "block writes on the primary",
    );
  }
  let terminated = 0;
  if (!alreadyBlocked) {
    await run.step(`set ${SETTING} = on`, () =>
      withSession(here.target, signal, (c) => setReadOnly(c, true)),
    );
    await run.step("wait until new sessions are read-only", () => waitNewSessions(here, signal, true));
    terminated = await run.step("end client sessions", () =>
      withSession(here.target, signal, async (client) => {
        const result = await client.query<{ ended: string }>(
          `select count(*) filter (where pg_terminate_backend(pid)) as ended from pg_stat_activity
            where backend_type = 'client backend' and pid <> pg_backend_pid()`,
        );
        return Number(result.rows[0]?.ended ?? 0);
      }),
    );
  }
  const currentLsn = await run.step("read the LSN", () =>
    withSession(here.target, signal, async (client) => {
      const row = (await client.query<{ lsn: string }>("select pg_current_wal_lsn()::text as lsn")).rows[0];
      return row?.lsn ?? "";
    }),
  );
  const facts2 = { currentLsn, terminatedSessions: terminated };
  if (alreadyBlocked) {
    return run.already(`${here.label} already refuses writes; its WAL is at ${currentLsn}`, facts2);
  }
  return run.done(
    `${here.label} refuses writes now (${SETTING} = on, ${terminated} client sessions ended); its WAL is at ${currentLsn}`,
    facts2,
  );
};

export const allowWrites: RemediationAction<"postgres.allow-writes"> = async (
  context,
  _request,
  signal,
  run,
) => {
  const here = postgresHere(context);
  await run.step("inspect", () => requireRunning(here));
  const { facts, fromFile } = await run.step("read its state", () =>
    withSession(here.target, signal, async (client) => {
      const row = (
        await client.query<{ n: string }>(
          `select count(*) as n from pg_file_settings where name = '${SETTING}' and sourcefile like '%postgresql.auto.conf'`,
        )
      ).rows[0];
      return { facts: await readFacts(client), fromFile: Number(row?.n ?? 0) > 0 };
    }),
  );
  const role: AllowWritesFacts["role"] = facts.role === "primary" ? "primary" : "standby";
  const blocked = fromFile || (await newSessionsReadOnly(here.target, signal));
  if (blocked) {
    await run.step(`reset ${SETTING}`, () => withSession(here.target, signal, (c) => setReadOnly(c, false)));
    await run.step("wait until new sessions may write", () => waitNewSessions(here, signal, false));
  }
  if (role === "primary") {
    await run.step("verify a write", () =>
      withSession(here.target, signal, (c) => verifyWrite(c, `agent-${context.node.name}`)),
    );
  }
  const what = role === "primary" ? "accepts writes" : "is a standby: it takes writes once promoted";
  return blocked
    ? run.done(`${here.label} ${what} again (${SETTING} reset)`, { role })
    : run.already(`${here.label} never refused writes: it ${what}`, { role });
};
