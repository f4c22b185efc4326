import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scramMatches, scramVerifier } from "../../jobs/deploy/postgres-scram.ts";

/** Made by PostgreSQL 15 in the lab: CREATE ROLE ... PASSWORD 'correct horse battery staple'. */
const FROM_POSTGRES =
  "SCRAM-SHA-256$4096:YhI1DapJB/4AwZOkg4E/xA==$CqW2vCNSxavuKzeLIK7PJtvuZRrxJrNjdWxsZ6zIsUU=:" +
  "2nvoLRok18I/947ob3yXglt8OmmSfA0DDW73dq6Y0t4=";

describe("SCRAM-SHA-256 secrets", () => {
  test("a secret PostgreSQL stored matches its password and no other", () => {
    assert.equal(scramMatches(FROM_POSTGRES, "correct horse battery staple"), true);
    assert.equal(scramMatches(FROM_POSTGRES, "correct horse battery stapler"), false);
  });

  test("computes exactly PostgreSQL's secret for the same salt and iterations", () => {
    const salt = Buffer.from("YhI1DapJB/4AwZOkg4E/xA==", "base64");
    assert.equal(scramVerifier("correct horse battery staple", salt, 4096), FROM_POSTGRES);
  });

  test("a fresh secret has a random salt, 4096 iterations, and verifies", () => {
    const one = scramVerifier("pw");
    const two = scramVerifier("pw");
    assert.notEqual(one, two);
    assert.match(one, /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$/);
    assert.equal(scramMatches(one, "pw"), true);
  });

  test("no password, an md5 one or garbage never matches", () => {
    assert.equal(scramMatches(null, "pw"), false);
    assert.equal(scramMatches(undefined, "pw"), false);
    assert.equal(scramMatches("md5c3d0f8c5e2e5c1e5d0b8f2a4a1e4b3c2", "pw"), false);
    assert.equal(scramMatches("SCRAM-SHA-256$4096:abc$def", "pw"), false);
  });
});
