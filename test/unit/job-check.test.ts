import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jobSchemas } from "../../jobs/job-schemas.ts";
import { checkJob } from "../../jobs/signing/job-check.ts";
import { signJob } from "../../jobs/signing/job-signature.ts";
import { FileSeenJobs, judgeClaim } from "../../jobs/signing/seen-jobs.ts";
import { SITE_NODES, siteKeyForTest, VALID_REQUESTS } from "../support/job-fixtures.ts";

const key = siteKeyForTest();
const queue = "harbor-ha:lab:node.node02";
const schemas = jobSchemas(SITE_NODES);
const now = 1_800_000_000_000;

function signedJob(id: string, name: "postgres.promote" | "deploy.step", payload: unknown) {
  const data = signJob(key, { queue, name, jobId: id }, payload, { issuedAt: now, expiresAt: now + 60_000 });
  return { name, id, data: JSON.parse(JSON.stringify(data)) as unknown };
}

describe("the consumer's checks before a job runs", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "harbor-ha-job-check-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const check = (seen: FileSeenJobs, name: "postgres.promote" | "deploy.step" | "format-disk", at = now) => ({
    key,
    queue,
    seen,
    now: at,
    schema: name === "format-disk" ? undefined : schemas[name],
    maxStarts: 2,
  });

  it("hands over the validated payload of a signed, fresh, valid job", async () => {
    const seen = await FileSeenJobs.open(join(dir, "ok.jsonl"), now);
    const job = signedJob("a1", "postgres.promote", VALID_REQUESTS["postgres.promote"]);
    const verdict = await checkJob(job, check(seen, "postgres.promote"));
    assert.deepEqual(verdict.ok ? verdict.payload : verdict, VALID_REQUESTS["postgres.promote"]);
  });

  it("after a rotation, reads the key file again once and checks with the newer key", async () => {
    const seen = await FileSeenJobs.open(join(dir, "rotated.jsonl"), now);
    const job = signedJob("k1", "postgres.promote", VALID_REQUESTS["postgres.promote"]);
    const stale = siteKeyForTest();
    let reloads = 0;
    const withNewer = await checkJob(job, {
      ...check(seen, "postgres.promote"),
      key: stale,
      reloadKey: async () => {
        reloads += 1;
        return key;
      },
    });
    assert.deepEqual([withNewer.ok, reloads], [true, 1]);
    const unchanged = await checkJob(
      signedJob("k2", "postgres.promote", VALID_REQUESTS["postgres.promote"]),
      {
        ...check(seen, "postgres.promote"),
        key: stale,
        reloadKey: async () => undefined,
      },
    );
    assert.equal(unchanged.ok ? "ok" : unchanged.reason, "bad signature");
    // An unsigned job is refused as such: no reason to read the key file for it.
    const unsigned = await checkJob(
      { name: "postgres.promote", id: "k3", data: VALID_REQUESTS["postgres.promote"] },
      {
        ...check(seen, "postgres.promote"),
        reloadKey: async () => assert.fail("not read for an unsigned job"),
      },
    );
    assert.equal(unsigned.ok ? "ok" : unsigned.reason, "not signed");
  });

  it("refuses a replay of a job that ran, also after the consumer restarts", async () => {
    const file = join(dir, "replay.jsonl");
    const seen = await FileSeenJobs.open(file, now);
    const job = signedJob("r1", "postgres.promote", VALID_REQUESTS["postgres.promote"]);
    assert.equal((await checkJob(job, check(seen, "postgres.promote"))).ok, true);
    await seen.succeeded("r1");
    const again = await checkJob(job, check(seen, "postgres.promote", now + 1_000));
    assert.equal(again.ok ? "ok" : again.reason, "replayed");
    const restarted = await FileSeenJobs.open(file, now + 2_000);
    const afterRestart = await checkJob(job, check(restarted, "postgres.promote", now + 2_000));
    assert.deepEqual(afterRestart.ok ? "ok" : [afterRestart.reason, afterRestart.detail], [
      "replayed",
      "job r1 already ran to the end here",
    ]);
  });

  it("lets a job that failed start again up to its attempts, then refuses it", async () => {
    const seen = await FileSeenJobs.open(join(dir, "retry.jsonl"), now);
    const job = signedJob("t1", "postgres.promote", VALID_REQUESTS["postgres.promote"]);
    assert.equal((await checkJob(job, check(seen, "postgres.promote"))).ok, true);
    assert.equal((await checkJob(job, check(seen, "postgres.promote"))).ok, true, "a retry or a hand-back");
    const third = await checkJob(job, check(seen, "postgres.promote"));
    assert.equal(third.ok ? "ok" : third.reason, "replayed");
  });

  it("forgets ids once they expired: the file is compacted at start", async () => {
    const file = join(dir, "compact.jsonl");
    const seen = await FileSeenJobs.open(file, now);
    await checkJob(
      signedJob("old", "postgres.promote", VALID_REQUESTS["postgres.promote"]),
      check(seen, "postgres.promote"),
    );
    assert.match(await readFile(file, "utf8"), /"old"/);
    await FileSeenJobs.open(file, now + 3_600_000);
    assert.equal(await readFile(file, "utf8"), "");
  });

  it("refuses a signed job whose payload breaks its schema, before it could run", async () => {
    const seen = await FileSeenJobs.open(join(dir, "schema.jsonl"), now);
    const job = signedJob("s1", "deploy.step", {
      ...VALID_REQUESTS["deploy.step"],
      harborVersion: "../../../../tmp/x",
    });
    const verdict = await checkJob(job, check(seen, "deploy.step"));
    assert.deepEqual(verdict.ok ? "ok" : [verdict.reason, verdict.detail], [
      "malformed",
      "harborVersion: must be a version such as 2.2.2",
    ]);
  });

  it("refuses an unknown job and an unsigned one", async () => {
    const seen = await FileSeenJobs.open(join(dir, "unknown.jsonl"), now);
    const unknown = await checkJob({ name: "format-disk", id: "x", data: {} }, check(seen, "format-disk"));
    assert.equal(unknown.ok ? "ok" : unknown.reason, "unknown job");
    const unsigned = await checkJob(
      { name: "postgres.promote", id: "u1", data: { fencingToken: 7 } },
      check(seen, "postgres.promote"),
    );
    assert.equal(unsigned.ok ? "ok" : unsigned.reason, "not signed");
  });

  it("judges a claim from what was seen (pure)", () => {
    assert.deepEqual(judgeClaim("j", undefined, 1), { ok: true });
    assert.equal(judgeClaim("j", { starts: 1, succeeded: false, expiresAt: 0 }, 1).ok, false);
    assert.equal(judgeClaim("j", { starts: 1, succeeded: false, expiresAt: 0 }, 2).ok, true);
    assert.equal(judgeClaim("j", { starts: 1, succeeded: true, expiresAt: 0 }, 3).ok, false);
  });
});
