import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";
import type { DurabilityFacts } from "../../remediation/contract.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { type PgTarget, readFacts, withSession } from "./postgres-client.ts";
import { postgresHere, requireContainer } from "./postgres-node.ts";

/**
 * postgres.set-durability: whether this node's commits wait for a standby. Alone is an
 * ALTER SYSTEM override (synchronous_standby_names = '') and a reload, which also releases every
 * commit waiting now; waiting again is the override's RESET, back to what the deploy wrote into
 * postgresql.conf. The override lives in postgresql.auto.conf, which replication does not copy:
 * each node's own. The promotion uses the same switch before pg_promote (postgres-promote.ts), so
 * a new primary whose peer is gone does not start with writes that hang.
 */

const SETTING = "synchronous_standby_names";
const SETTLE_MS = 5_000;

/** What the deploy configured (postgresql.conf), and whether an ALTER SYSTEM override is on top. */
async function readConfigured(client: pg.Client): Promise<{ configured: string; overridden: boolean }> {
  const rows = (
    await client.query<{ setting: string | null; auto: boolean }>(
      `select setting, sourcefile like '%postgresql.auto.conf' as auto
         from pg_file_settings where name = $1 and error is null order by seqno`,
      [SETTING],
    )
  ).rows;
  const fromConf = rows.filter((row) => !row.auto).at(-1);
  return { configured: fromConf?.setting ?? "", overridden: rows.some((row) => row.auto) };
}

async function newSessionsSee(target: PgTarget, signal: AbortSignal, wanted: string, label: string) {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const value = await withSession(target, signal, async (client) => {
      const row = (await client.query<{ value: string }>(`select current_setting('${SETTING}') as value`))
        .rows[0];
      return row?.value ?? "";
    });
    if (value === wanted) return;
    if (Date.now() >= deadline) {
      throw new ActionFailure(
        "timeout",
        `new sessions on ${label} still see ${SETTING} = '${value}' ${SETTLE_MS / 1000} s after the reload, not '${wanted}'`,
        "read pg_file_settings on the server: another file may set it",
      );
    }
    await sleep(50, undefined, { signal });
  }
}

/**
 * Makes this server's commits wait for a standby as configured (alone false) or not at all
 * (alone true); works on a standby too, ahead of its promotion. Returns the value now in force
 * and whether this call changed it.
 */
export async function setCommitsAlone(
  target: PgTarget,
  signal: AbortSignal,
  alone: boolean,
  label: string,
): Promise<{ names: string; changed: boolean }> {
  const { configured, overridden } = await withSession(target, signal, readConfigured);
  const wanted = alone ? "" : configured;
  const needed = alone ? configured !== "" || overridden : overridden;
  if (needed) {
    await withSession(target, signal, async (client) => {
      await client.query(alone ? `alter system set ${SETTING} = ''` : `alter system reset ${SETTING}`);
      await client.query("select pg_reload_conf()");
    });
  }
  await newSessionsSee(target, signal, wanted, label);
  return { names: wanted, changed: needed };
}

export const setDurability: RemediationAction<"postgres.set-durability"> = async (
  context,
  request,
  signal,
  run,
) => {
  const here = postgresHere(context);
  const state = await run.step("inspect", () => requireContainer(here));
  if (!state.running) {
    throw new ActionFailure("not-running", `${here.label} is not running`, "nothing commits there");
  }
  const facts = await run.step("read its state", () => withSession(here.target, signal, readFacts));
  const { names, changed } = await run.step(request.alone ? `set ${SETTING} = ''` : `reset ${SETTING}`, () =>
    setCommitsAlone(here.target, signal, request.alone, here.label),
  );
  const learnt: DurabilityFacts = {
    synchronousStandbyNames: names,
    role: facts.role === "primary" ? "primary" : "standby",
  };
  const what = names === "" ? "commits without waiting for a standby" : `commits wait for ${names}`;
  return changed
    ? run.done(`${here.label} ${what} now`, learnt)
    : run.already(`${here.label} already ${what}`, learnt);
};
