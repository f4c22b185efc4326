import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  FINGERPRINT_PATTERN,
  fingerprintOf,
  hashKnownHostsName,
  hostKeyAlgorithms,
  hostsFieldMatches,
  judgeHostKey,
  knownHostsLine,
  knownHostsName,
  parseKnownHosts,
  parsePublicKey,
  pinsFor,
} from "../../jobs/adapters/ssh-host-keys.ts";

const dir = mkdtempSync(join(tmpdir(), "harbor-ha-hostkeys-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A real key made by ssh-keygen: its .pub text and the fingerprint `ssh-keygen -lf` prints for it. */
function realKey(type: "ed25519" | "rsa" | "ecdsa", name: string = type) {
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", type, "-N", "", "-C", `test ${name}`, "-f", file]);
  const pub = readFileSync(`${file}.pub`, "utf8");
  const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${file}.pub`]).toString();
  const fingerprint = /(SHA256:\S+)/.exec(printed)?.[1];
  assert.ok(fingerprint, printed);
  const key = parsePublicKey(pub);
  assert.ok(key, `ssh-keygen's ${type} key parses`);
  return { pub, fingerprint, key };
}

const ed = realKey("ed25519");
const other = realKey("ed25519", "other");

describe("fingerprints", () => {
  for (const type of ["ed25519", "rsa", "ecdsa"] as const) {
    test(`a ${type} key's fingerprint is the one ssh-keygen -lf prints`, () => {
      const key = type === "ed25519" ? ed : realKey(type);
      assert.equal(fingerprintOf(key.key.blob), key.fingerprint);
      assert.match(key.fingerprint, FINGERPRINT_PATTERN);
    });
  }

  test("a public key line whose type disagrees with its blob, or is not base64, is not a key", () => {
    const [, base64] = ed.pub.split(" ");
    assert.equal(parsePublicKey(`ssh-rsa ${base64}`), undefined);
    assert.equal(parsePublicKey("ssh-ed25519 not*base64"), undefined);
    assert.equal(parsePublicKey("ssh-ed25519"), undefined);
    assert.equal(parsePublicKey(`ssh-ed25519 ${base64} a comment with spaces`)?.type, "ssh-ed25519");
  });
});

describe("known_hosts", () => {
  const [, edBase64] = ed.pub.split(" ");
  const [, otherBase64] = other.pub.split(" ");

  test("port 22 names a host bare, any other port as [host]:port", () => {
    assert.equal(knownHostsName("10.77.0.11", 22), "10.77.0.11");
    assert.equal(knownHostsName("10.77.0.11", 2222), "[10.77.0.11]:2222");
  });

  test("entries, comments, markers and broken lines", () => {
    const text = [
      "# a comment",
      "",
      `10.77.0.11,node01 ssh-ed25519 ${edBase64} node01`,
      `@revoked 10.77.0.12 ssh-ed25519 ${otherBase64}`,
      `@cert-authority *.example ssh-ed25519 ${edBase64}`,
      "10.77.0.13 ssh-ed25519",
      `@bogus 10.77.0.14 ssh-ed25519 ${edBase64}`,
    ].join("\n");
    const { entries, problems } = parseKnownHosts(text);
    assert.deepEqual(
      entries.map((e) => [e.line, e.hosts, e.revoked, fingerprintOf(e.key.blob)]),
      [
        [3, "10.77.0.11,node01", false, ed.fingerprint],
        [4, "10.77.0.12", true, other.fingerprint],
      ],
    );
    assert.deepEqual(problems, [
      { line: 6, message: "not HOSTS KEYTYPE BASE64-KEY" },
      { line: 7, message: "unknown marker @bogus" },
    ]);
  });

  test("patterns: lists, * and ?, and a matching !negation wins", () => {
    assert.equal(hostsFieldMatches("node01,10.77.0.11", "10.77.0.11"), true);
    assert.equal(hostsFieldMatches("10.77.0.*", "10.77.0.12"), true);
    assert.equal(hostsFieldMatches("10.77.0.1?", "10.77.0.12"), true);
    assert.equal(hostsFieldMatches("10.77.0.1?", "10.77.0.100"), false);
    assert.equal(hostsFieldMatches("10.77.0.*,!10.77.0.12", "10.77.0.12"), false);
    assert.equal(hostsFieldMatches("10.77.0.11", "10.77.0.111"), false, "no prefix match");
    assert.equal(hostsFieldMatches("[10.77.0.11]:2222", "[10.77.0.11]:2222"), true);
    assert.equal(hostsFieldMatches("10.77.0.11", "[10.77.0.11]:2222"), false, "another port is another host");
  });

  test("a file hashed by ssh-keygen -H still names its hosts, and only them", () => {
    const file = join(dir, "hashed_known_hosts");
    writeFileSync(file, `10.77.0.11 ssh-ed25519 ${edBase64}\n[10.77.0.12]:2222 ssh-ed25519 ${otherBase64}\n`);
    execFileSync("ssh-keygen", ["-q", "-H", "-f", file]);
    const { entries } = parseKnownHosts(readFileSync(file, "utf8"));
    assert.equal(entries.length, 2);
    assert.ok(
      entries.every((e) => e.hosts.startsWith("|1|")),
      "ssh-keygen hashed every name",
    );
    assert.deepEqual(
      pinsFor(undefined, entries, "10.77.0.11").known.map((e) => fingerprintOf(e.key.blob)),
      [ed.fingerprint],
    );
    assert.deepEqual(
      pinsFor(undefined, entries, "[10.77.0.12]:2222").known.map((e) => fingerprintOf(e.key.blob)),
      [other.fingerprint],
    );
    assert.deepEqual(pinsFor(undefined, entries, "10.77.0.12").known, []);
    const salt = Buffer.alloc(20, 7);
    assert.equal(hostsFieldMatches(hashKnownHostsName("node01", salt), "node01"), true);
    assert.equal(hostsFieldMatches(hashKnownHostsName("node01", salt), "node02"), false);
  });

  test("a line we write is one OpenSSH finds (ssh-keygen -F) with the same key", () => {
    const file = join(dir, "written_known_hosts");
    writeFileSync(file, knownHostsLine("[127.0.0.1]:2201", ed.key, "harbor-ha:node01"));
    const found = execFileSync("ssh-keygen", ["-F", "[127.0.0.1]:2201", "-f", file]).toString();
    assert.match(found, new RegExp(edBase64?.replaceAll("+", "\\+") ?? "-"));
    const { entries } = parseKnownHosts(readFileSync(file, "utf8"));
    assert.equal(fingerprintOf(entries[0]?.key.blob ?? Buffer.alloc(0)), ed.fingerprint);
  });
});

describe("judging the key a server shows", () => {
  const entries = parseKnownHosts(
    `10.77.0.11 ${ed.pub}@revoked 10.77.0.12 ${other.pub}10.77.0.12 ${ed.pub}`,
  ).entries;

  test("the pinned key is trusted, by the config's fingerprint or by known_hosts", () => {
    assert.deepEqual(judgeHostKey(pinsFor(ed.fingerprint, [], "10.77.0.11"), ed.key), {
      kind: "trusted",
      seen: ed.fingerprint,
    });
    assert.equal(judgeHostKey(pinsFor(undefined, entries, "10.77.0.11"), ed.key).kind, "trusted");
  });

  test("another key is a mismatch that names what was expected and what was seen", () => {
    assert.deepEqual(judgeHostKey(pinsFor(ed.fingerprint, [], "10.77.0.11"), other.key), {
      kind: "mismatch",
      seen: other.fingerprint,
      expected: [ed.fingerprint],
    });
  });

  test("nothing pinned is unknown, not trusted on first use", () => {
    assert.deepEqual(judgeHostKey(pinsFor(undefined, entries, "10.77.0.13"), ed.key), {
      kind: "unknown",
      seen: ed.fingerprint,
    });
  });

  test("a revoked key is refused even where a pin names it", () => {
    assert.equal(judgeHostKey(pinsFor(other.fingerprint, entries, "10.77.0.12"), other.key).kind, "revoked");
  });

  test("known_hosts entries choose the host key algorithms offered; a bare fingerprint keeps ssh2's", () => {
    const rsa = realKey("rsa", "rsa-alg");
    const withRsa = parseKnownHosts(`h ${ed.pub}h ${rsa.pub}`).entries;
    assert.deepEqual(hostKeyAlgorithms(pinsFor(undefined, withRsa, "h")), [
      "ssh-ed25519",
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-rsa",
    ]);
    assert.equal(hostKeyAlgorithms(pinsFor(ed.fingerprint, withRsa, "h")), undefined);
    assert.equal(hostKeyAlgorithms(pinsFor(undefined, [], "h")), undefined);
  });
});
