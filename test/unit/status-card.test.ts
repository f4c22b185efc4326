import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LIMITS } from "../../bot/views/block-kit.ts";
import { statusCard } from "../../bot/views/status-card.ts";
import { buildSnapshot } from "../../jobs/controller/snapshot.ts";
import type { NodeObservation } from "../../probes/observation.ts";
import { healthyObservation, healthyPair, snapshotInput } from "../support/observation-fixtures.ts";

const allText = (card: ReturnType<typeof statusCard>) => JSON.stringify(card.blocks);

function assertWithinLimits(card: ReturnType<typeof statusCard>) {
  assert.ok(card.blocks.length <= LIMITS.blocks, `${card.blocks.length} blocks`);
  for (const block of card.blocks) {
    if (block.type === "section") {
      assert.ok((block.text?.text.length ?? 0) <= LIMITS.sectionText, "section text within 3,000");
      assert.ok((block.fields?.length ?? 0) <= LIMITS.fields);
      for (const field of block.fields ?? []) assert.ok(field.text.length <= LIMITS.fieldText);
    }
    if (block.type === "header") assert.ok(block.text.text.length <= LIMITS.headerText);
  }
}

describe("the status card", () => {
  test("names the state, the VIP holder, the primary and a section per node", () => {
    const card = statusCard(buildSnapshot(snapshotInput(healthyPair())));
    const [head, summary] = card.blocks;
    assert.equal(head?.type, "header");
    assert.match(JSON.stringify(head), /lab: healthy/);
    assert.match(JSON.stringify(summary), /VIP 10\.77\.0\.100 on \*node01\* · primary \*node01\*/);
    const nodeSections = card.blocks.filter((b) => b.type === "section" && b.fields);
    assert.deepEqual(
      nodeSections.map((b) => (b.type === "section" ? b.text?.text.split(" ")[0] : "")),
      ["*node01*", "*node02*"],
    );
    assert.match(allText(card), /standby tl1, lag 0 B \/ 0\.2 s, streaming from 10\.77\.0\.11/);
    assert.match(allText(card), /commits wait for ANY 1 \(\W+node02\W+\)/);
    assert.match(allText(card), /MASTER \(prio 150\)/);
    assert.match(allText(card), /Open problems:\* none/);
    assert.match(card.text, /lab: healthy\. VIP 10\.77\.0\.100 on \*node01\*/);
    assertWithinLimits(card);
  });

  test("lists the findings of a broken site, marked by severity", () => {
    const observations = healthyPair();
    observations.set("node02", healthyObservation("node02", { primary: false, holdsVip: true }));
    const card = statusCard(buildSnapshot(snapshotInput(observations)));
    assert.match(JSON.stringify(card.blocks[0]), /CRITICAL/);
    assert.match(
      allText(card),
      /Open problems \(1\):\*\\n:red_circle: the VIP is on 2 nodes: node01, node02/,
    );
  });

  test("stays within Block Kit's limits for 200 nodes with long error texts", () => {
    const nodes = Array.from({ length: 200 }, (_, i) => ({
      name: `node${i}`,
      address: `10.0.${i >> 8}.${i & 255}`,
    }));
    const observations = new Map<string, NodeObservation>();
    for (const [i, node] of nodes.entries()) {
      const healthy = healthyObservation(node.name, { primary: i === 0 });
      observations.set(node.name, {
        ...healthy,
        harbor: { ok: false, error: "x".repeat(5_000), durationMs: 1 },
      });
    }
    const card = statusCard(buildSnapshot({ ...snapshotInput(observations), nodes }));
    assertWithinLimits(card);
    const text = allText(card);
    const listed = nodes.filter((node) => text.includes(`${node.name}*`) || text.includes(`${node.name}: `));
    const untold = Number(/…and (\d+) more nodes/.exec(text)?.[1]);
    assert.ok(listed.length >= 44, `${listed.length} nodes shown`);
    assert.equal(listed.length + untold, nodes.length, "every node is shown or counted");
  });

  test("text that looks like a mention or a link is escaped, not rendered", () => {
    const observations = healthyPair();
    const node02 = healthyObservation("node02", { primary: false });
    observations.set("node02", {
      ...node02,
      harbor: { ok: false, error: "<!channel> <http://x|y>", durationMs: 1 },
    });
    const text = allText(statusCard(buildSnapshot(snapshotInput(observations))));
    assert.doesNotMatch(text, /<!channel>/);
    assert.match(text, /&lt;!channel&gt;/);
  });
});
