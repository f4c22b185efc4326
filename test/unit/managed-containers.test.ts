import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { describe, test } from "node:test";
import { COMPONENT_LABEL } from "../../jobs/adapters/containers.ts";
import { redisRoleFrom } from "../../probes/harbor-redis.ts";
import { keepalivedFacts } from "../../probes/keepalived.ts";
import {
  toManagedContainer,
  toManagedContainers,
  withInspectedState,
} from "../../probes/managed-containers.ts";
import { holdsVip } from "../../probes/vip.ts";

const VIP = { address: "10.77.0.100", prefix: 24, interface: "eth0" };

function address(addr: string): NetworkInterfaceInfo {
  return {
    address: addr,
    netmask: "255.255.255.0",
    family: "IPv4",
    mac: "02:00:00:00:00:01",
    internal: false,
    cidr: `${addr}/24`,
  };
}

describe("Docker's container list to ManagedContainer", () => {
  test("a managed container: its name without the slash, its component, state and status", () => {
    assert.deepEqual(
      toManagedContainer({
        Names: ["/postgres-node01"],
        Labels: { [COMPONENT_LABEL]: "postgres", "io.harbor-ha.spec": "abc" },
        State: "exited",
        Status: "Exited (137) 3 seconds ago",
      }),
      {
        name: "postgres-node01",
        component: "postgres",
        state: "exited",
        status: "Exited (137) 3 seconds ago",
      },
    );
  });

  test("a container without the component label is not ours", () => {
    assert.equal(
      toManagedContainer({ Names: ["/other"], Labels: { app: "x" }, State: "running" }),
      undefined,
    );
  });

  test("an unnamed container is known by its short id; missing fields read as unknown", () => {
    assert.deepEqual(
      toManagedContainer({ Id: "0123456789abcdef", Labels: { [COMPONENT_LABEL]: "keepalived" } }),
      {
        name: "0123456789ab",
        component: "keepalived",
        state: "unknown",
        status: "",
      },
    );
  });

  test("the list is sorted by component then name, without foreign containers", () => {
    const names = toManagedContainers([
      { Names: ["/registry"], Labels: { [COMPONENT_LABEL]: "harbor-registry" }, State: "running" },
      { Names: ["/postgres-node01"], Labels: { [COMPONENT_LABEL]: "postgres" }, State: "running" },
      { Names: ["/someone-elses"], Labels: {}, State: "running" },
      { Names: ["/keepalived-node01"], Labels: { [COMPONENT_LABEL]: "keepalived" }, State: "running" },
    ]).map((container) => container.name);
    assert.deepEqual(names, ["registry", "keepalived-node01", "postgres-node01"]);
  });
});

describe("a listed container confirmed by inspect", () => {
  const listedRunning = {
    Names: ["/pg-node02"],
    Labels: { [COMPONENT_LABEL]: "postgres" },
    State: "running",
    Status: "Up 5 minutes",
  };

  test("the list still says running right after a die; inspect says exited, and wins", () => {
    const confirmed = withInspectedState(listedRunning, { Status: "exited", ExitCode: 137 });
    assert.deepEqual(toManagedContainer(confirmed), {
      name: "pg-node02",
      component: "postgres",
      state: "exited",
      status: "Exited (137)",
    });
  });

  test("when inspect agrees, the list's own status text (with its age) is kept", () => {
    assert.equal(withInspectedState(listedRunning, { Status: "running", ExitCode: 0 }), listedRunning);
  });

  test("other states are named as Docker names them", () => {
    assert.equal(withInspectedState(listedRunning, { Status: "restarting" }).Status, "Restarting");
  });
});

describe("keepalived facts", () => {
  const running = [{ name: "keepalived-node01", component: "keepalived", state: "running", status: "Up" }];

  test("a running keepalived that became MASTER", () => {
    assert.deepEqual(keepalivedFacts(running, "MASTER 2026-11-30T09:00:00.000Z INSTANCE harbor_vip 150\n"), {
      running: true,
      state: "MASTER",
      since: "2026-11-30T09:00:00.000Z",
      priority: 150,
    });
  });

  test("a killed keepalived keeps its last recorded state but is not running", () => {
    const facts = keepalivedFacts(
      [{ ...running[0], state: "exited", status: "Exited (137)" } as (typeof running)[number]],
      "MASTER 2026-11-30T09:00:00.000Z INSTANCE harbor_vip 150",
    );
    assert.equal(facts.running, false);
    assert.equal(facts.state, "MASTER");
  });

  test("no state file yet (keepalived never changed state) or a garbled one: no state", () => {
    assert.deepEqual(keepalivedFacts(running, undefined), {
      running: true,
      state: null,
      since: null,
      priority: null,
    });
    assert.equal(keepalivedFacts([], "half a li").state, null);
  });
});

describe("VIP", () => {
  test("held when the interface carries the address, as a secondary address too", () => {
    const table = { lo: [address("127.0.0.1")], eth0: [address("10.77.0.11"), address("10.77.0.100")] };
    assert.deepEqual(holdsVip(table, VIP), { address: "10.77.0.100", interface: "eth0", holds: true });
  });

  test("not held when only another interface carries it", () => {
    const table = { eth0: [address("10.77.0.11")], eth1: [address("10.77.0.100")] };
    assert.equal(holdsVip(table, VIP).holds, false);
  });

  test("an interface the node does not have is an error that names the ones it has", () => {
    assert.throws(
      () => holdsVip({ lo: [address("127.0.0.1")], ens3: [] }, VIP),
      /no interface eth0 .*\(it has ens3, lo\)/,
    );
  });
});

describe("Harbor's Redis role", () => {
  test("ROLE's first element, as text or bytes", () => {
    assert.equal(redisRoleFrom(["master", 120, []]), "master");
    assert.equal(redisRoleFrom([Buffer.from("slave"), "10.77.0.11", 6379, "connected", 120]), "slave");
    assert.equal(redisRoleFrom(["sentinel", ["mymaster"]]), "sentinel");
  });

  test("anything else is unknown", () => {
    assert.equal(redisRoleFrom("master"), "unknown");
    assert.equal(redisRoleFrom([]), "unknown");
    assert.equal(redisRoleFrom(["replica"]), "unknown");
  });
});
