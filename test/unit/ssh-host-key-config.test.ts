import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type LocatedProblem, parseSiteConfig } from "../../config/load.ts";
import { configProblems, lineOf, siteYamlWith } from "../support/site-fixtures.ts";

function problemsOf(text: string): LocatedProblem[] {
  return configProblems(text);
}

const FINGERPRINT = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";

describe("nodes[].ssh host key pins", () => {
  test("the example pins node01 by fingerprint and node02 by a known_hosts file", () => {
    const { site, warnings } = parseSiteConfig(siteYamlWith([]), "site.yaml");
    assert.equal(site.nodes[0]?.ssh.hostKey, FINGERPRINT);
    assert.equal(site.nodes[1]?.ssh.knownHostsFile, "/etc/harbor-ha/ssh/known_hosts");
    assert.deepEqual(warnings, []);
  });

  for (const bad of [
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
    "SHA256:short",
    "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
  ]) {
    test(`hostKey ${JSON.stringify(bad.slice(0, 24))}... is refused on its line`, () => {
      const text = siteYamlWith([[["nodes", 0, "ssh", "hostKey"], bad]]);
      const [problem, ...rest] = problemsOf(text);
      assert.deepEqual(rest, []);
      assert.equal(problem?.path, "nodes[0].ssh.hostKey");
      assert.match(problem?.message ?? "", /SHA256 fingerprint as `ssh-keygen -lf/);
      assert.equal(problem?.line, lineOf(text, "hostKey"));
    });
  }

  test("a relative knownHostsFile is refused", () => {
    const [problem] = problemsOf(siteYamlWith([[["nodes", 1, "ssh", "knownHostsFile"], "ssh/known_hosts"]]));
    assert.equal(problem?.path, "nodes[1].ssh.knownHostsFile");
    assert.equal(problem?.message, "must be an absolute path");
  });

  test("a node pinned by neither is valid but warned about: its SSH will be refused", () => {
    const { warnings } = parseSiteConfig(
      siteYamlWith([[["nodes", 1, "ssh", "knownHostsFile"], undefined]]),
      "site.yaml",
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]?.path, "nodes[1].ssh");
    assert.match(warnings[0]?.message ?? "", /no host key is pinned for node02: .* will be refused/);
  });
});
