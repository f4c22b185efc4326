import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  ensureSiteKey,
  readSiteKey,
  renderSiteKey,
  SITE_KEY_BYTES,
  siteKeyFromText,
} from "../../config/site-key.ts";
import { isHarborHaError } from "../../support/errors.ts";

describe("site key", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "harbor-ha-site-key-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("makes a key once, mode 600, and reads the same key afterwards", async () => {
    const file = join(dir, "nested", "site.key");
    const first = await ensureSiteKey(file);
    const second = await ensureSiteKey(file);
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(first.key.bytes.length, SITE_KEY_BYTES);
    assert.deepEqual(second.key.bytes, first.key.bytes);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(first.key.fingerprint, /^[0-9a-f]{12}$/);
    assert.equal((await readFile(file, "utf8")).trim().length, 43);
  });

  it("two processes racing to make it end with one key", async () => {
    const file = join(dir, "race.key");
    const [a, b] = await Promise.all([ensureSiteKey(file), ensureSiteKey(file)]);
    assert.deepEqual(a.key.bytes, b.key.bytes);
    assert.equal([a.created, b.created].filter(Boolean).length, 1);
  });

  it("refuses a key that others may read, naming the mode", async () => {
    const file = join(dir, "open.key");
    await writeFile(file, renderSiteKey(), { mode: 0o644 });
    await chmod(file, 0o644);
    await assert.rejects(readSiteKey(file), (error) => {
      assert.ok(isHarborHaError(error));
      assert.equal(error.code, "SITE_KEY_INVALID");
      assert.match(error.message, /readable by others \(mode 644\)/);
      assert.match(error.hint, /chmod 600/);
      return true;
    });
  });

  it("a missing file says how the key is made", async () => {
    await assert.rejects(readSiteKey(join(dir, "absent.key")), (error) => {
      assert.ok(isHarborHaError(error));
      assert.equal(error.code, "SITE_KEY_MISSING");
      assert.match(error.hint, /deploy/);
      return true;
    });
  });

  it("refuses text that is not 32 bytes of base64url", () => {
    for (const text of ["", "short", `${"A".repeat(43)}!`, Buffer.alloc(16).toString("base64url")]) {
      assert.throws(() => siteKeyFromText(text, "k"), /does not hold a site key/);
    }
    assert.equal(siteKeyFromText(renderSiteKey(Buffer.alloc(32, 7)), "k").bytes.length, 32);
  });
});
