/**
 * Issue 14's attack on the deployed lab: valid access to the control-plane Redis, no site key.
 * A `postgres.rejoin {allowReclone: true}` (which would wipe node02's data) and a
 * `postgres.promote` (which would make two primaries) are pushed with plain BullMQ
 * `new Queue(...).add(...)` to node02's queue. The agent refuses both before any effect: the
 * jobs end failed with the reason, node02's PostgreSQL data folder and system identifier and
 * its containers (ids, start times) are unchanged, it is still a standby, the audit log records
 * the refusals, and the alert channel (the Slack emulator, posted by the real bot) shows them.
 * Root needed; the lab always comes down.
 */
import assert from "node:assert/strict";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue } from "bullmq";
import { readSiteKey, renderSiteKey } from "../../config/site-key.ts";
import { COMPONENT_LABEL } from "../../jobs/adapters/containers.ts";
import { connectSsh } from "../../jobs/adapters/remote-shell.ts";
import { AuditLog, type RecordedAuditEntry } from "../../jobs/audit-log.ts";
import { controllerLeaseKey } from "../../jobs/controller-lease-key.ts";
import { postgresDataPath } from "../../jobs/deploy/postgres-config.ts";
import { ensureSiteKeyOnNode } from "../../jobs/deploy/site-key-install.ts";
import { queueEventsFromNow } from "../../jobs/queue-events.ts";
import { nodeQueueName, queuePrefix } from "../../jobs/queue-names.ts";
import { ADDRESS, failoverSite } from "../support/failover-site.ts";
import { openLabRedis } from "../support/lab-redis.ts";

const site = failoverSite("forged-jobs-test");

before(() => site.start());
after(() => site.stop());

/** What must not change on node02: its data folder, its cluster's identity and role, its containers. */
async function node02State() {
  const config = site.site;
  const node = config.nodes.find((candidate) => candidate.name === "node02") ?? assert.fail("no node02");
  const [identity] = await site.query<{ id: string; standby: boolean }>(
    ADDRESS.node02,
    "select system_identifier::text as id, pg_is_in_recovery() as standby from pg_control_system()",
  );
  const containers = await site.docker("node02").listContainers({
    all: true,
    filters: { label: [COMPONENT_LABEL] },
  });
  const started = await Promise.all(
    containers.map(async (c) => {
      const inspected = await site.docker("node02").getContainer(c.Id).inspect();
      return `${inspected.Name} ${c.Id} ${inspected.State.StartedAt} ${inspected.State.Status}`;
    }),
  );
  return {
    dataFolder: (await readdir(postgresDataPath(config, node))).sort(),
    identity,
    containers: started.sort(),
  };
}

test("forged postgres.rejoin {allowReclone} and postgres.promote on node02's queue are refused: nothing happens on the node, the audit log and the alert channel say so", async () => {
  await site.settled("node01");
  const before = await node02State();
  assert.equal(before.identity?.standby, true, "node02 is the standby before the attack");
  assert.ok(before.dataFolder.includes("PG_VERSION"), before.dataFolder.join(", "));

  // An attacker with the controller's Redis login (TLS, ACL user): everything but the site key.
  const connection = await openLabRedis("controller", { maxRetriesPerRequest: null });
  const eventsConnection = await openLabRedis("controller", { maxRetriesPerRequest: null });
  const prefix = queuePrefix(site.site.site);
  const queue = new Queue(nodeQueueName("node02"), { connection, prefix });
  const events = await queueEventsFromNow(nodeQueueName("node02"), prefix, connection, eventsConnection);
  try {
    // The token is the real one, read from Redis as an attacker can: only the signature is missing.
    const lease = JSON.parse((await connection.get(controllerLeaseKey(site.site.site))) ?? "{}") as {
      token?: number;
    };
    const fencingToken = lease.token ?? 1;
    const rejoin = await queue.add("postgres.rejoin", {
      fencingToken,
      primary: { node: "node01", address: ADDRESS.node01 },
      allowReclone: true,
    });
    const promote = await queue.add("postgres.promote", { fencingToken });
    for (const job of [rejoin, promote]) {
      await assert.rejects(job.waitUntilFinished(events, 20_000), /job refused: not signed/);
      assert.equal(await job.getState(), "failed");
    }

    const after = await node02State();
    assert.deepEqual(after, before, "node02's data folder, identity, role and containers are unchanged");

    const audit = new AuditLog(connection, site.site.site, await readSiteKey(site.site.security.siteKeyFile));
    for (const [name, job] of [
      ["postgres.rejoin", rejoin],
      ["postgres.promote", promote],
    ] as const) {
      // The bot records the agent's refusal as it reads the security events: wait for it.
      let entry: RecordedAuditEntry | undefined;
      for (let attempt = 0; attempt < 150 && !entry; attempt += 1) {
        entry = (await audit.recent(50)).find((candidate) =>
          Boolean(candidate.detail?.startsWith(`${name} ${job.id}: not signed`)),
        );
        if (!entry) await sleep(100);
      }
      assert.deepEqual(
        entry && [entry.actor, entry.action, entry.outcome],
        ["agent:node02", "job.refused", "refused"],
        `audit entry for ${name}`,
      );
      const alert = await site.emulator.waitForMessage(
        site.site.slack.alertChannel,
        (message) => message.text.includes(`\`${name}\` job \`${job.id}\``),
        20_000,
      );
      assert.match(alert.text, /^:rotating_light: forged or malformed job refused on node02: not signed/);
    }
    // No executor ran: the remediation log lines of an action never appeared for these jobs.
    assert.equal(await site.currentPrimary(), "node01", "still exactly one primary");
  } finally {
    await Promise.all([queue.close(), events.close()]);
    connection.disconnect();
    eventsConnection.disconnect();
  }
});

test("host.agent's key step over real sshd: a missing or different copy is written mode 600, an equal one is left alone", async () => {
  const node = site.site.nodes.find((candidate) => candidate.name === "node02") ?? assert.fail("no node02");
  const key = await readSiteKey(site.site.security.siteKeyFile);
  const file = join(site.paths.node("node02").disk, "key-install-test", "site.key");
  const shell = await connectSsh(node);
  try {
    assert.deepEqual(await ensureSiteKeyOnNode(shell, { file, key }, false), { status: "would-install" });
    assert.deepEqual(await ensureSiteKeyOnNode(shell, { file, key }, true), { status: "installed" });
    assert.equal(await readFile(file, "utf8"), renderSiteKey(key.bytes));
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await ensureSiteKeyOnNode(shell, { file, key }, true), { status: "same" });
    // The lab's own key path is shared with the operations host: the same file, nothing to copy.
    assert.deepEqual(await ensureSiteKeyOnNode(shell, { file: site.site.security.siteKeyFile, key }, true), {
      status: "same",
    });
  } finally {
    await shell.close();
    await rm(join(site.paths.node("node02").disk, "key-install-test"), { recursive: true, force: true });
  }
});
