import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse as parseYaml } from "yaml";
import { siteSchema } from "../../config/schema.ts";
import { harborBundlePath } from "../../jobs/deploy/harbor-layout.ts";
import { assertInside, assertPlainName, PayloadPathError } from "../../support/contained-path.ts";
import { siteYamlWith } from "../support/site-fixtures.ts";

const site = siteSchema.parse(
  parseYaml(
    siteYamlWith([[["harbor", "installerBundle"], "/opt/harbor/harbor-offline-installer-v2.2.2.tgz"]]),
  ),
);

describe("paths built from a payload", () => {
  it("keeps an upgrade's bundle beside the configured one", () => {
    assert.equal(harborBundlePath(site, "2.3.0"), "/opt/harbor/harbor-offline-installer-v2.3.0.tgz");
  });

  it("refuses a Harbor version that is not digits and dots, with a typed error", () => {
    for (const version of ["../../../../tmp/x", "2.2.2/../../../tmp/x", "/tmp/x", "2.3.0\0", ""]) {
      assert.throws(
        () => harborBundlePath(site, version),
        (error: unknown) => {
          assert.ok(error instanceof PayloadPathError, String(error));
          assert.equal(error.code, "PAYLOAD_PATH_REFUSED");
          assert.match(error.message, /the Harbor version .* refused: not a version such as 2.2.2/);
          return true;
        },
      );
    }
  });

  it("refuses '..', separators and absolute paths where a name belongs, and anything outside its folder", () => {
    for (const name of ["..", "a/b", "/etc/passwd", "x..y", ""]) {
      assert.throws(() => assertPlainName("a name", name), PayloadPathError, name);
    }
    assert.equal(assertInside("a file", "/var/lib/x", "/var/lib/x/a/b"), "/var/lib/x/a/b");
    for (const path of ["../y", "/var/lib/xy", "/etc", "a/../../y"]) {
      assert.throws(() => assertInside("a file", "/var/lib/x", path), /outside \/var\/lib\/x/, path);
    }
  });
});
