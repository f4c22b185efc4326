import assert from "node:assert/strict";
import { test } from "node:test";
import { ResponseUrls } from "../../slack-emulator/response-urls.ts";

const target = () => ({ channel: "C1", user: "U0ALICE", original: undefined, threadTs: undefined });

test("a response_url answers 5 times, then says it was used up", () => {
  const urls = new ResponseUrls({ uses: 5, ttlMs: 30 * 60_000, now: () => 0 });
  const id = urls.issue(target());
  for (let left = 4; left >= 0; left--) {
    const use = urls.use(id);
    assert.ok(use.ok);
    assert.equal(use.ok && use.usesLeft, left);
  }
  const sixth = urls.use(id);
  assert.equal(sixth.ok, false);
  assert.deepEqual(!sixth.ok && [sixth.status, sixth.error], [410, "used_url"]);
});

test("a response_url expires after 30 minutes", () => {
  let now = 0;
  const urls = new ResponseUrls({ uses: 5, ttlMs: 30 * 60_000, now: () => now });
  const id = urls.issue(target());
  now = 30 * 60_000 - 1;
  assert.ok(urls.use(id).ok);
  now = 30 * 60_000;
  const late = urls.use(id);
  assert.deepEqual(!late.ok && [late.status, late.error], [410, "expired_url"]);
});

test("an unknown response_url is 404", () => {
  const urls = new ResponseUrls({ uses: 5, ttlMs: 1_000, now: () => 0 });
  const use = urls.use("feedbeef");
  assert.deepEqual(!use.ok && [use.status, use.error], [404, "no_such_response_url"]);
});
