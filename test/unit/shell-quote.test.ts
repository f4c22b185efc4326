import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { shellQuote } from "../../jobs/adapters/remote-shell.ts";

test("a quoted argument reaches the command unchanged, whatever it holds", () => {
  for (const value of ["plain", "with space", "it's", "$(rm -rf /) `x` $HOME", "a'b'c", ""]) {
    const echoed = execFileSync("/bin/sh", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" });
    assert.equal(echoed, value);
  }
});
