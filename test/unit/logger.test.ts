import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";
import { createLogger } from "../../support/logger.ts";
import { redactRedisUrl } from "../../support/redis.ts";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).trim().split("\n"));
      done();
    },
  });
  return { lines, destination };
}

test("every line carries component and node, and secrets are redacted", () => {
  const { lines, destination } = capture();
  const logger = createLogger({ component: "agent", node: "node02", destination });
  logger.info(
    { db: { password: "hunter2" }, env: { HARBOR_HA_PG_PASSWORD: "hunter2" }, token: "xoxb-1" },
    "hello",
  );
  const line = JSON.parse(lines[0] ?? "{}");
  assert.equal(line.component, "agent");
  assert.equal(line.node, "node02");
  assert.equal(line.msg, "hello");
  assert.doesNotMatch(lines[0] ?? "", /hunter2|xoxb-1/);
  assert.equal(line.db.password, "[redacted]");
});

test("a Redis URL is shown without its password", () => {
  assert.equal(redactRedisUrl("redis://user:s3cret@10.77.0.1:6379/0"), "redis://user:***@10.77.0.1:6379/0");
  assert.equal(redactRedisUrl("redis://10.77.0.1:6379/0"), "redis://10.77.0.1:6379/0");
});
