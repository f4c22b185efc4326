import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { scramVerifier } from "../../jobs/deploy/postgres-scram.ts";
import {
  accountChanges,
  parseConninfo,
  parseServerState,
  type RoleRow,
} from "../../jobs/deploy/postgres-server-state.ts";

const targets = {
  replicationUser: "replicator",
  superuserPassword: "super-pw",
  replicationPassword: "repl-pw",
};
const fixedVerifier = (password: string) => `VERIFIER(${password.length})`;
const role = (name: string, password: string | null, extra: Partial<RoleRow> = {}): RoleRow => ({
  name,
  superuser: name === "postgres",
  replication: true,
  login: true,
  password: password === null ? null : scramVerifier(password),
  ...extra,
});

describe("the primary's roles and database", () => {
  test("a new cluster gets the superuser's password, the replication role and Harbor's database", () => {
    const changes = accountChanges(
      { roles: [role("postgres", null)], databases: ["postgres"] },
      targets,
      fixedVerifier,
    );
    assert.deepEqual(
      changes.map((c) => c.description),
      [
        "set the password of postgres",
        "create role replicator (LOGIN REPLICATION)",
        "create database registry",
      ],
    );
    assert.deepEqual(
      changes.map((c) => c.sql),
      [
        `ALTER ROLE "postgres" WITH PASSWORD 'VERIFIER(8)'`,
        `CREATE ROLE "replicator" WITH LOGIN REPLICATION PASSWORD 'VERIFIER(7)'`,
        `CREATE DATABASE "registry" OWNER "postgres" ENCODING 'UTF8' TEMPLATE template0`,
      ],
    );
  });

  test("everything in place changes nothing", () => {
    const state = {
      roles: [role("postgres", "super-pw"), role("replicator", "repl-pw")],
      databases: ["postgres", "registry", "template0", "template1"],
    };
    assert.deepEqual(accountChanges(state, targets, fixedVerifier), []);
  });

  test("a changed password is set again; a role without REPLICATION gets it back", () => {
    const state = {
      roles: [role("postgres", "old-pw"), role("replicator", "repl-pw", { replication: false })],
      databases: ["registry"],
    };
    assert.deepEqual(
      accountChanges(state, targets, fixedVerifier).map((c) => [c.description, c.sql]),
      [
        ["set the password of postgres", `ALTER ROLE "postgres" WITH PASSWORD 'VERIFIER(8)'`],
        ["alter role replicator (REPLICATION)", `ALTER ROLE "replicator" WITH LOGIN REPLICATION`],
      ],
    );
  });

  test("no description ever holds a password, and the SQL holds only its SCRAM secret", () => {
    const changes = accountChanges({ roles: [], databases: [] }, targets, (p) => scramVerifier(p));
    for (const change of changes) {
      assert.doesNotMatch(change.description, /super-pw|repl-pw/);
      assert.doesNotMatch(change.sql, /super-pw|repl-pw/);
    }
  });
});

describe("the server's state", () => {
  test("parses the state query's JSON, converting the config load time to ms", () => {
    const state = parseServerState(
      JSON.stringify({
        inRecovery: true,
        systemIdentifier: "7712164519578931217",
        roles: null,
        databases: ["postgres"],
        pendingRestart: ["max_wal_senders"],
        configLoadedAt: 1764092253.5,
        primaryConninfo: "host=10.77.0.11",
        configErrors: [],
      }),
    );
    assert.equal(state.inRecovery, true);
    assert.deepEqual(state.roles, []);
    assert.deepEqual(state.pendingRestart, ["max_wal_senders"]);
    assert.equal(state.configLoadedAt, 1764092253500);
  });

  test("refuses what is not the state query's answer", () => {
    assert.throws(() => parseServerState('{"x":1}'), /not a server state/);
  });

  test("reads conninfo as PostgreSQL shows it, quoted values included", () => {
    const pairs = parseConninfo(
      "user=replicator password='it\\'s \\\\ x' channel_binding=prefer host=10.77.0.11 port=5432 application_name=node02",
    );
    assert.equal(pairs.get("host"), "10.77.0.11");
    assert.equal(pairs.get("application_name"), "node02");
    assert.equal(pairs.get("password"), "it's \\ x");
  });
});
