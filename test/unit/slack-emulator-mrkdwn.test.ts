import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderMessageBody } from "../../slack-emulator/block-render.ts";
import { renderMrkdwn } from "../../slack-emulator/mrkdwn.ts";

describe("mrkdwn to HTML", () => {
  test("bold, italic, strike and inline code", () => {
    assert.equal(
      renderMrkdwn("*VIP* on _node01_, ~old~ `pg-0` up"),
      "<b>VIP</b> on <i>node01</i>, <s>old</s> <code>pg-0</code> up",
    );
  });

  test("no formatting inside code, and snake_case words stay words", () => {
    assert.equal(renderMrkdwn("`*not bold*` max_lag_bytes"), "<code>*not bold*</code> max_lag_bytes");
  });

  test("code blocks keep their lines", () => {
    assert.equal(
      renderMrkdwn("log:\n```line 1\n*line* 2```done"),
      'log:<br><pre class="code">line 1\n*line* 2</pre>done',
    );
  });

  test("links, mentions, channels and special mentions", () => {
    const html = renderMrkdwn(
      "see <https://harbor.example/x?a=1&amp;b=2|the runbook> <@U0ALICE> <#C0HARBOR|ops> <!here>",
      {
        userName: (id) => (id === "U0ALICE" ? "alice" : undefined),
      },
    );
    assert.equal(
      html,
      'see <a href="https://harbor.example/x?a=1&#38;b=2" target="_blank" rel="noreferrer">the runbook</a> ' +
        '<span class="mention" data-user-id="U0ALICE">@alice</span> <span class="mention">#ops</span> ' +
        '<span class="mention">@here</span>',
    );
  });

  test("emoji stay as their text", () => {
    assert.equal(renderMrkdwn(":white_check_mark: done"), ":white_check_mark: done");
  });

  test("nothing in the text can make markup: entities stay text, javascript links stay text", () => {
    assert.equal(
      renderMrkdwn("&lt;script&gt;alert(1)&lt;/script&gt; a & b"),
      "&#60;script&#62;alert(1)&#60;/script&#62; a &#38; b",
    );
    assert.equal(renderMrkdwn("<javascript:alert(1)|click>"), "click");
    assert.equal(
      renderMrkdwn('<https://x.test/"onmouseover="x|y>'),
      '<a href="https://x.test/&#34;onmouseover=&#34;x" target="_blank" rel="noreferrer">y</a>',
    );
  });

  test("quotes", () => {
    assert.equal(
      renderMrkdwn("&gt; quoted *line*\nafter"),
      "<blockquote>quoted <b>line</b></blockquote>after",
    );
  });
});

describe("Block Kit to HTML", () => {
  test("header, section with fields, context, divider and buttons with their data attributes", () => {
    const html = renderMessageBody({
      text: "fallback",
      blocks: [
        { type: "header", block_id: "h", text: { type: "plain_text", text: "Failover *needed*" } },
        {
          type: "section",
          block_id: "s",
          text: { type: "mrkdwn", text: "primary *down*" },
          fields: [{ type: "mrkdwn", text: "*node*\nnode01" }],
        },
        { type: "context", block_id: "c", elements: [{ type: "plain_text", text: "3 s ago" }] },
        { type: "divider", block_id: "d" },
        {
          type: "actions",
          block_id: "approval",
          elements: [
            {
              type: "button",
              action_id: "approve",
              value: "inc-1",
              style: "primary",
              text: { type: "plain_text", text: "Approve" },
            },
            {
              type: "button",
              action_id: "reject",
              value: "inc-1",
              style: "danger",
              text: { type: "plain_text", text: "Reject" },
            },
          ],
        },
      ],
    });
    assert.match(html, /<div class="sk-block sk-header" data-block-id="h">Failover \*needed\*<\/div>/);
    assert.match(html, /primary <b>down<\/b>/);
    assert.match(html, /<div class="sk-field"><b>node<\/b><br>node01<\/div>/);
    assert.match(html, /sk-context.*3 s ago/);
    assert.match(html, /<hr>/);
    assert.match(
      html,
      /<button type="button" class="sk-button sk-button-primary" data-action-id="approve" data-block-id="approval" data-value="inc-1">Approve<\/button>/,
    );
    assert.match(html, /sk-button-danger" data-action-id="reject"/);
    assert.doesNotMatch(html, /fallback/, "with blocks, the text is only the notification fallback");
  });

  test("a button without a value has no data-value: a click then sends none, as Slack's does", () => {
    const html = renderMessageBody({
      text: "",
      blocks: [
        {
          type: "actions",
          block_id: "b",
          elements: [{ type: "button", action_id: "ok", text: { type: "plain_text", text: "OK" } }],
        },
      ],
    });
    assert.match(html, /data-action-id="ok" data-block-id="b">OK<\/button>/);
  });

  test("a message without blocks shows its text as mrkdwn", () => {
    assert.equal(renderMessageBody({ text: "*hi*", blocks: [] }), '<div class="sk-text"><b>hi</b></div>');
  });

  test("images are their alt text: the page loads nothing from outside", () => {
    const html = renderMessageBody({
      text: "",
      blocks: [{ type: "image", image_url: "https://x.test/a.png", alt_text: "graph" }],
    });
    assert.doesNotMatch(html, /<img|https:\/\/x\.test/);
    assert.match(html, /\[image: graph\]/);
  });
});
