import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  assignBlockIds,
  LIMITS,
  validateBlocks,
  validateMessageContent,
} from "../../slack-emulator/block-kit.ts";

const section = (text: string) => ({ type: "section", text: { type: "mrkdwn", text } });
const button = (text: string, extra: Record<string, unknown> = {}) => ({
  type: "button",
  text: { type: "plain_text", text },
  action_id: `a-${text.slice(0, 10)}-${Math.random()}`,
  ...extra,
});
const errorsOf = (blocks: unknown) => {
  const check = validateBlocks(blocks);
  assert.equal(check.ok, false, "expected the blocks to be refused");
  if (check.ok) return [];
  assert.equal(check.error, "invalid_blocks");
  return check.errors ?? [];
};

describe("Block Kit limits", () => {
  test("a status message within every limit passes", () => {
    const check = validateBlocks([
      { type: "header", text: { type: "plain_text", text: "Harbor status" } },
      section("x".repeat(LIMITS.sectionText)),
      {
        type: "section",
        fields: Array.from({ length: 10 }, () => ({ type: "mrkdwn", text: "y".repeat(2_000) })),
      },
      { type: "divider" },
      { type: "context", elements: [{ type: "mrkdwn", text: "updated just now" }] },
      {
        type: "actions",
        elements: [
          button("Approve", { style: "primary", value: "v".repeat(2_000) }),
          button("Reject", { style: "danger" }),
        ],
      },
    ]);
    assert.deepEqual(check, { ok: true });
  });

  test("51 blocks are refused as a whole", () => {
    const errors = errorsOf(Array.from({ length: 51 }, () => ({ type: "divider" })));
    assert.deepEqual(errors, ["a message may have at most 50 blocks (it has 51) [json-pointer:/blocks]"]);
  });

  test("a section text of 3001 characters is named by its block", () => {
    const errors = errorsOf([section("ok"), { type: "divider" }, section("x".repeat(3_001))]);
    assert.deepEqual(errors, [
      "section text must be at most 3000 characters (it has 3001) [json-pointer:/blocks/2/text/text]",
    ]);
  });

  test("fields: at most 10, each at most 2000 characters", () => {
    const tooMany = errorsOf([
      { type: "section", fields: Array.from({ length: 11 }, () => ({ type: "mrkdwn", text: "f" })) },
    ]);
    assert.match(tooMany.join("\n"), /at most 10 fields \(it has 11\) \[json-pointer:\/blocks\/0\/fields\]/);
    const tooLong = errorsOf([
      {
        type: "section",
        fields: [
          { type: "mrkdwn", text: "f" },
          { type: "plain_text", text: "g".repeat(2_001) },
        ],
      },
    ]);
    assert.match(tooLong.join("\n"), /\[json-pointer:\/blocks\/0\/fields\/1\/text\]/);
  });

  test("a header is plain_text of at most 150 characters", () => {
    assert.match(
      errorsOf([{ type: "header", text: { type: "plain_text", text: "h".repeat(151) } }])[0] ?? "",
      /150.*\/blocks\/0\/text\/text/,
    );
    assert.match(
      errorsOf([{ type: "header", text: { type: "mrkdwn", text: "*h*" } }])[0] ?? "",
      /plain_text.*\/blocks\/0\/text\/type/,
    );
  });

  test("actions: at most 25 elements; buttons' text, value and style checked", () => {
    const many = errorsOf([
      { type: "actions", elements: Array.from({ length: 26 }, (_, i) => button(`b${i}`)) },
    ]);
    assert.match(many.join("\n"), /at most 25 elements \(it has 26\) \[json-pointer:\/blocks\/0\/elements\]/);
    const bad = errorsOf([
      section("approve?"),
      {
        type: "actions",
        elements: [
          button("t".repeat(76)),
          button("ok", { value: "v".repeat(2_001) }),
          button("x", { style: "warning" }),
        ],
      },
    ]);
    assert.deepEqual(
      bad.map((error) => error.replace(/^.*\[json-pointer:(.*)\]$/, "$1")),
      ["/blocks/1/elements/0/text/text", "/blocks/1/elements/1/value", "/blocks/1/elements/2/style"],
    );
  });

  test("duplicate block_ids and action_ids are refused, unknown block types too", () => {
    const errors = errorsOf([
      { type: "divider", block_id: "same" },
      {
        type: "actions",
        block_id: "same",
        elements: [
          { ...button("a"), action_id: "x" },
          { ...button("b"), action_id: "x" },
        ],
      },
      { type: "carousel" },
    ]);
    assert.equal(errors.length, 3);
    assert.match(errors[0] ?? "", /block_id "same".*\/blocks\/1\/block_id/);
    assert.match(errors[1] ?? "", /action_id "x".*\/blocks\/1\/elements\/1\/action_id/);
    assert.match(errors[2] ?? "", /unknown block type "carousel".*\/blocks\/2\/type/);
  });

  test("blocks that are not an array are a format error", () => {
    assert.deepEqual(validateBlocks({ type: "divider" }), { ok: false, error: "invalid_blocks_format" });
  });
});

describe("message content", () => {
  test("neither text nor blocks is no_text", () => {
    assert.deepEqual(validateMessageContent({}), { ok: false, error: "no_text" });
    assert.deepEqual(validateMessageContent({ text: "  ", blocks: [] }), { ok: false, error: "no_text" });
  });

  test("text over 40,000 characters is msg_too_long; exactly 40,000 passes", () => {
    assert.deepEqual(validateMessageContent({ text: "x".repeat(40_001) }), {
      ok: false,
      error: "msg_too_long",
    });
    assert.deepEqual(validateMessageContent({ text: "x".repeat(40_000) }), { ok: true });
  });

  test("blocks alone are enough", () => {
    assert.deepEqual(validateMessageContent({ blocks: [section("hi")] }), { ok: true });
  });
});

test("blocks without a block_id get one of their own, distinct from the app's", () => {
  const given = [{ type: "divider", block_id: "keep" }, { type: "divider" }, { type: "divider" }];
  const withIds = assignBlockIds(given) as { block_id: string }[];
  assert.equal(withIds[0]?.block_id, "keep");
  const ids = withIds.map((block) => block.block_id);
  assert.equal(new Set(ids).size, 3);
  assert.ok(ids.every((id) => /^[A-Za-z0-9]{4,}$/.test(id)));
  assert.equal((given[1] as { block_id?: string }).block_id, undefined, "the input is not changed");
});
