import assert from "node:assert/strict";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseDocument, parse as parseYaml } from "yaml";
import { type LocatedProblem, parseSiteConfig } from "../../config/load.ts";
import { siteSchema } from "../../config/schema.ts";
import { renderSiteKey } from "../../config/site-key.ts";
import { HarborHaError } from "../../support/errors.ts";
import { testSiteKeyFile } from "./test-site-key.ts";

const EXAMPLE = fileURLToPath(new URL("../../config/site.example.yaml", import.meta.url));

/** The commented example config, as a valid site's YAML text. */
export function exampleSiteYaml(): string {
  return readFileSync(EXAMPLE, "utf8");
}

/** The example with values replaced (or deleted, with undefined) at the given paths; comments kept. */
export function siteYamlWith(changes: Array<[path: Array<string | number>, value: unknown]>): string {
  const document = parseDocument(exampleSiteYaml());
  for (const [path, value] of changes) {
    if (value === undefined) document.deleteIn(path);
    else document.setIn(path, value);
  }
  return document.toString();
}

/** The 1-based line on which `needle` first appears in `text` after the line holding `after`. */
export function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split("\n");
  const start = after ? lines.findIndex((line) => line.includes(after)) : 0;
  const index = lines.findIndex((line, i) => i >= start && line.includes(needle));
  if (index < 0) throw new Error(`fixture: ${needle} not found`);
  return index + 1;
}

/**
 * A site whose every address is on loopback (127.77.0.0/8), for tests that run agents, probes or
 * the bot outside the lab: whatever they connect to (PostgreSQL, Harbor, the VIP) stays on this
 * machine and is refused at once, never sent to another network.
 */
export function loopbackSiteYaml(
  site: string,
  redisUrl: string,
  changes: Array<[path: Array<string | number>, value: unknown]> = [],
): string {
  return siteYamlWith([
    [["site"], site],
    [["vip", "address"], "127.77.0.100"],
    [["vip", "prefix"], 8],
    [["vip", "interface"], "lo"],
    [["nodes", 0, "address"], "127.77.0.11"],
    [["nodes", 1, "address"], "127.77.0.12"],
    [["harborRedis", "host"], "127.77.0.11"],
    [["controlPlane", "redisUrl"], redisUrl],
    [["security", "siteKeyFile"], testSiteKeyFile()],
    // The test's own Redis has no TLS and no users unless the test adds them in `changes`.
    [["controlPlane", "tls"], undefined],
    [["controlPlane", "auth"], undefined],
    ...changes,
  ]);
}

/** The example site's policy, validated: the defaults a test's decision runs under. */
export function examplePolicy() {
  return siteSchema.parse(parseYaml(exampleSiteYaml())).policy;
}

/** A site key of the test's own in `dir` (mode 600), kept when it is already there; returns its path. */
export function writeTestSiteKey(dir: string): string {
  const file = join(dir, "site.key");
  if (!existsSync(file)) writeFileSync(file, renderSiteKey(), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** The problems a refused config names (CONFIG_INVALID); fails the test if the config is accepted. */
export function configProblems(text: string, file = "site.yaml"): LocatedProblem[] {
  try {
    parseSiteConfig(text, file);
  } catch (error) {
    assert.ok(error instanceof HarborHaError, "a bad config is reported as a HarborHaError");
    assert.equal(error.code, "CONFIG_INVALID");
    return error.context.problems as LocatedProblem[];
  }
  assert.fail("the config was accepted but should have been refused");
}
