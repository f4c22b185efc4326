import assert from "node:assert/strict";
import { test } from "node:test";
import bolt from "@slack/bolt";
import { signedHeaders, slackSignature } from "../../slack-emulator/signing.ts";

test("the signature matches Slack's documented example", () => {
  // https://api.slack.com/authentication/verifying-requests-from-slack (the worked example).
  const body =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
  assert.equal(
    slackSignature("8f742231b10e8888abcd99yyyzzz85a5", 1531420618, body),
    "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
  );
});

test("Bolt's own verification accepts the headers, and refuses them for another body or secret", () => {
  const now = 1_700_000_000_123;
  const body = "command=%2Fharbor&text=status";
  const headers = signedHeaders("s3cret", body, "application/x-www-form-urlencoded", now);
  assert.equal(headers["X-Slack-Request-Timestamp"], "1700000000");
  const verify = (secret: string, signedBody: string) =>
    bolt.verifySlackRequest({
      signingSecret: secret,
      body: signedBody,
      headers: {
        "x-slack-request-timestamp": Number(headers["X-Slack-Request-Timestamp"]),
        "x-slack-signature": headers["X-Slack-Signature"] ?? "",
      },
      nowMilliseconds: now,
    });
  assert.doesNotThrow(() => verify("s3cret", body));
  assert.throws(() => verify("s3cret", `${body}x`), /signature mismatch/);
  assert.throws(() => verify("other", body), /signature mismatch/);
});

test("a retry carries Slack's retry headers", () => {
  const headers = signedHeaders("s", "b", "application/x-www-form-urlencoded", 0, {
    num: 1,
    reason: "http_timeout",
  });
  assert.equal(headers["X-Slack-Retry-Num"], "1");
  assert.equal(headers["X-Slack-Retry-Reason"], "http_timeout");
  assert.equal(signedHeaders("s", "b", "text/plain", 0)["X-Slack-Retry-Num"], undefined);
});
