import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { refusalAuditEntry, securityAlertText } from "../../bot/alerts/security-alerts.ts";

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

  it("becomes the audit entry of whoever refused it, the reason first in its detail", () => {
    const event = {
      kind: "job.refused",
      actor: "agent:node02",
      consumer: "node02",
      queue: "harbor-ha:lab:node.node02",
      job: "postgres.rejoin",
      jobId: "12",
      reason: "not signed",
      detail: "no signature",
    };
    assert.deepEqual(refusalAuditEntry(event), {
      actor: "agent:node02",
      action: "job.refused",
      outcome: "refused",
      detail: "postgres.rejoin 12: not signed: no signature",
      where: "harbor-ha:lab:node.node02",
    });
    // An event written before refusals named their actor still names the node's agent.
    const { actor: _unused, ...older } = event;
    assert.equal(refusalAuditEntry(older).actor, "agent:node02");
  });
});
