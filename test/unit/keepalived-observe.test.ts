import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { holdsAddress, loggedStates, parseIpv4Addresses } from "../../jobs/deploy/keepalived-observe.ts";

/** `ip -o -4 addr show dev eth0` on a lab node holding the VIP (iproute2 6.1). */
const HOLDER = [
  "2: eth0    inet 10.77.0.11/24 scope global eth0\\       valid_lft forever preferred_lft forever",
  "2: eth0    inet 10.77.0.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever",
  "",
].join("\n");
const NOT_HOLDER =
  "2: eth0    inet 10.77.0.12/24 scope global eth0\\       valid_lft forever preferred_lft forever\n";

describe("the VIP on an interface", () => {
  test("lists every IPv4 address with its prefix", () => {
    assert.deepEqual(parseIpv4Addresses(HOLDER), [
      { address: "10.77.0.11", prefix: 24 },
      { address: "10.77.0.100", prefix: 24 },
    ]);
    assert.deepEqual(parseIpv4Addresses(""), []);
  });

  test("a node holds the VIP only when the exact address is there", () => {
    assert.equal(holdsAddress(HOLDER, "10.77.0.100"), true);
    assert.equal(holdsAddress(NOT_HOLDER, "10.77.0.100"), false);
    assert.equal(holdsAddress(HOLDER, "10.77.0.10"), false, "a prefix of an address is not the address");
    assert.equal(holdsAddress(HOLDER, "10.77.0.1"), false);
  });

  test("a VIP with an unexpected prefix still counts as held", () => {
    const output = "2: eth0    inet 10.77.0.100/32 scope global eth0\\       valid_lft forever\n";
    assert.equal(holdsAddress(output, "10.77.0.100"), true);
  });
});

describe("keepalived's log", () => {
  const log = [
    "Wed Nov 25 17:30:15 2026: (harbor_vip) Changing effective priority from 100 to 150",
    "Wed Nov 25 17:30:15 2026: (harbor_vip) Entering BACKUP STATE (init)",
    "Wed Nov 25 17:30:18 2026: (harbor_vip) Receive advertisement timeout",
    "Wed Nov 25 17:30:18 2026: (harbor_vip) Entering MASTER STATE",
    "Wed Nov 25 17:30:18 2026: (other_vip) Entering FAULT STATE",
    "Wed Nov 25 17:30:44 2026: (harbor_vip) Master received advert from 10.77.0.12 with higher priority 150, ours 100",
    "Wed Nov 25 17:30:44 2026: (harbor_vip) Entering BACKUP STATE",
  ].join("\n");

  test("gives the states the instance entered, oldest first, and no other instance's", () => {
    assert.deepEqual(loggedStates(log, "harbor_vip"), ["BACKUP", "MASTER", "BACKUP"]);
    assert.deepEqual(loggedStates(log, "other_vip"), ["FAULT"]);
    assert.deepEqual(loggedStates("", "harbor_vip"), []);
  });
});
