import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { securityAlertText } from "../../bot/alerts/security-alerts.ts";

describe("the security alert's text", () => {
  it("says what was refused where and why on its first line, then the job and the detail", () => {
    const text = securityAlertText({
      kind: "job.refused",
      consumer: "node01",
      queue: "harbor-ha:lab:node.node01",
      job: "postgres.promote",
      jobId: "7",
      reason: "bad signature",
      detail: "postgres.promote 7 on harbor-ha:lab:node.node01 was not signed with this site's key",
    });
    const [first, second] = text.split("\n");
    assert.equal(first, ":rotating_light: forged or malformed job refused on node01: bad signature");
    assert.match(second ?? "", /^`postgres.promote` job `7` on `harbor-ha:lab:node.node01`: .*not signed/);
  });
});
