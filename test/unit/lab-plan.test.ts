/**
 * The lab's decisions, without root and without touching the machine: what `ip` commands a given
 * network needs, which packages are missing, what to do with a recorded daemon, and what the
 * written files contain. Run with: node --import tsx --test test/lab/lab-plan.test.ts
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { parseSiteConfig } from "../../config/load.ts";
import { decideDaemon } from "../../lab/daemons.ts";
import { dockerdArgs } from "../../lab/docker-daemons.ts";
import { removalOrder } from "../../lab/host-paths.ts";
import { debianMirror, NODE_IMAGE_RECIPE, recipeHash } from "../../lab/image.ts";
import { mountsUnder, parseMountPoints } from "../../lab/mounts.ts";
import { conflictingLinks, type LinkInfo, type NetworkSnapshot, planNetwork } from "../../lab/network.ts";
import { missingPackages } from "../../lab/packages.ts";
import { labPaths } from "../../lab/paths.ts";
import { type ProcessRecord, parseProcStat } from "../../lab/processes.ts";
import { redisConfig } from "../../lab/redis.ts";
import { redisCertificateFiles } from "../../lab/redis-tls.ts";
import {
  agentSecrets,
  completeSecrets,
  LAB_SECRET_KEYS,
  labSecretKeys,
  parseEnvFile,
  renderEnvFile,
} from "../../lab/secrets.ts";
import { labSiteConfig, renderSiteConfig } from "../../lab/site-config.ts";
import { sshdConfig } from "../../lab/sshd.ts";
import { parseUnixSockets } from "../../lab/sweep.ts";
import { labTopology } from "../../lab/topology.ts";

const topology = labTopology(2);
const paths = labPaths("/home/test");

/** A snapshot of a machine where the whole two-node lab network already exists. */
function completeLabNetwork(): NetworkSnapshot {
  const link = (name: string, addresses: string[] = [], master?: string): LinkInfo => ({
    name,
    up: true,
    addresses,
    ...(master ? { master } : {}),
  });
  return {
    rootLinks: [
      link("lo", ["127.0.0.1/8"]),
      link("hha-br0", ["10.77.0.1/24"]),
      ...topology.nodes.map((n) => link(n.hostVeth, [], "hha-br0")),
    ],
    namespaces: ["node01", "node02"],
    nodeLinks: Object.fromEntries(
      topology.nodes.map((n) => [n.netns, [link("lo", ["127.0.0.1/8"]), link("eth0", [`${n.address}/24`])]]),
    ),
  };
}

test("numbers nodes from 10.77.0.11 and refuses counts outside 2..9", () => {
  assert.deepEqual(
    labTopology(3).nodes.map((n) => [n.name, n.address, n.hostVeth]),
    [
      ["node01", "10.77.0.11", "hha-node01"],
      ["node02", "10.77.0.12", "hha-node02"],
      ["node03", "10.77.0.13", "hha-node03"],
    ],
  );
  assert.throws(() => labTopology(1), RangeError);
  assert.throws(() => labTopology(10), RangeError);
});

test("plans the whole network on an empty machine, with no route and no forwarding", () => {
  const plan = planNetwork(topology, { rootLinks: [], namespaces: [], nodeLinks: {} });
  assert.deepEqual(plan.slice(0, 3), [
    ["link", "add", "hha-br0", "type", "bridge"],
    ["addr", "add", "10.77.0.1/24", "dev", "hha-br0"],
    ["link", "set", "hha-br0", "up"],
  ]);
  assert.ok(plan.some((c) => c.join(" ") === "link add hha-node01 type veth peer name eth0 netns node01"));
  assert.ok(plan.some((c) => c.join(" ") === "-n node02 addr add 10.77.0.12/24 dev eth0"));
  assert.ok(!plan.some((c) => c.includes("route") || c.includes("sysctl")));
});

test("plans nothing when the lab network already exists", () => {
  assert.deepEqual(planNetwork(topology, completeLabNetwork()), []);
});

test("replaces a veth pair whose node end is missing", () => {
  const snapshot = { ...completeLabNetwork(), nodeLinks: { ...completeLabNetwork().nodeLinks, node02: [] } };
  const plan = planNetwork(topology, snapshot).map((c) => c.join(" "));
  assert.deepEqual(plan, [
    "link del hha-node02",
    "link add hha-node02 type veth peer name eth0 netns node02",
    "link set hha-node02 master hha-br0 up",
    "-n node02 addr add 10.77.0.12/24 dev eth0",
    "-n node02 link set eth0 up",
    "-n node02 link set lo up",
  ]);
});

test("refuses a machine where another interface already holds an address in the lab's subnet", () => {
  const snapshot = completeLabNetwork();
  assert.deepEqual(conflictingLinks(topology, snapshot), []);
  const taken = {
    ...snapshot,
    rootLinks: [...snapshot.rootLinks, { name: "eth1", up: true, addresses: ["10.77.0.5/16"] }],
  };
  assert.deepEqual(conflictingLinks(topology, taken), ["eth1 (10.77.0.5/16)"]);
});

test("counts a package as present only when dpkg says it is fully installed", () => {
  const dpkg =
    "docker.io install ok installed\nredis-server deinstall ok config-files\niproute2:amd64 install ok installed\n";
  assert.deepEqual(missingPackages(["docker.io", "redis-server", "iproute2", "keepalived"], dpkg), [
    "redis-server",
    "keepalived",
  ]);
});

test("finds the bookworm mirror in deb822 and one-line apt sources, skipping security and disabled ones", () => {
  const deb822 = {
    name: "/etc/apt/sources.list.d/debian.sources",
    text: "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\nTypes: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n",
  };
  assert.equal(debianMirror([deb822], "bookworm"), "http://mirror.example/debian");
  const oneLine = {
    name: "/etc/apt/sources.list",
    text: "# deb http://old.example/debian bookworm main\ndeb [arch=amd64] http://local.example/debian bookworm main\n",
  };
  assert.equal(debianMirror([oneLine], "bookworm"), "http://local.example/debian");
  assert.equal(debianMirror([{ name: "/etc/apt/sources.list", text: "" }], "bookworm"), undefined);
});

test("names the image tarball after its recipe, so a recipe change rebuilds", () => {
  const changedRecipe = { ...NODE_IMAGE_RECIPE, include: [...NODE_IMAGE_RECIPE.include, "curl"] };
  assert.notEqual(recipeHash(changedRecipe), recipeHash(NODE_IMAGE_RECIPE));
  assert.equal(recipeHash({ ...NODE_IMAGE_RECIPE }), recipeHash(NODE_IMAGE_RECIPE));
});

test("reads a process's start time even when its name holds spaces and parentheses", () => {
  const stat = `1234 (tricky) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000000 200 ${"0 ".repeat(30)}`;
  assert.deepEqual(parseProcStat(stat), { state: "S", startTime: 987654 });
});

test("keeps a live daemon started from the same spec and restarts a dead one", () => {
  const record: ProcessRecord = {
    pid: 10,
    startTime: 5,
    argv: ["x"],
    logFile: "/l",
    logOffset: 0,
    fingerprint: "abc",
  };
  assert.equal(decideDaemon(undefined, false, "abc"), "start");
  assert.equal(decideDaemon(record, true, "abc"), "keep");
  assert.equal(decideDaemon(record, false, "abc"), "restart");
  assert.equal(decideDaemon(record, true, "changed"), "replace");
});

test("unmounts the deepest and latest mounts under the lab folders first, and nothing else", () => {
  const mountinfo = [
    "22 27 0:21 / /proc rw - proc proc rw",
    "90 27 254:0 /var/lib/harbor-ha-lab/docker/node01 /var/lib/harbor-ha-lab/docker/node01 rw - ext4 /dev/vda rw",
    "91 90 0:4 net:[4026532281] /run/harbor-ha-lab/node01/docker/netns/default rw - nsfs nsfs rw",
    "92 90 254:0 / /var/lib/harbor-ha-lab/docker/node01 rw - ext4 /dev/vda rw",
    "93 27 254:0 / /var/lib/harbor-ha-lab-other rw - ext4 /dev/vda rw",
    "94 27 254:0 / /var/lib/harbor-ha-lab/shared\\040copy rw - ext4 /dev/vda rw",
  ].join("\n");
  const order = mountsUnder(parseMountPoints(mountinfo), ["/var/lib/harbor-ha-lab", "/run/harbor-ha-lab"]);
  assert.deepEqual(order, [
    "/run/harbor-ha-lab/node01/docker/netns/default",
    "/var/lib/harbor-ha-lab/docker/node01",
    "/var/lib/harbor-ha-lab/docker/node01",
    "/var/lib/harbor-ha-lab/shared copy",
  ]);
});

test("removes host folders the lab created children first", () => {
  assert.deepEqual(
    removalOrder(["/run/docker", "/run/docker/plugins", "/opt/containerd", "/opt/containerd/bin"]),
    ["/run/docker/plugins", "/opt/containerd/bin", "/run/docker", "/opt/containerd"],
  );
});

test("finds the path of a socket by its inode", () => {
  const table =
    "Num       RefCount Protocol Flags    Type St Inode Path\n" +
    "0000000001: 00000002 00000000 00010000 0001 01 48211 /run/containerd/s/3f26\n" +
    "0000000002: 00000003 00000000 00000000 0001 03 48212\n" +
    "0000000003: 00000002 00000000 00010000 0001 01 48213 @/abstract\n";
  assert.deepEqual([...parseUnixSockets(table)], [[48211, "/run/containerd/s/3f26"]]);
});

test("keeps the secrets already written and generates only the missing ones", () => {
  const current = parseEnvFile("# comment\nHARBOR_HA_PG_PASSWORD=kept=with=equals\n");
  const values = completeSecrets(current, () => "fresh");
  assert.equal(values.HARBOR_HA_PG_PASSWORD, "kept=with=equals");
  assert.equal(values.HARBOR_HA_REPLICATION_PASSWORD, "fresh");
  assert.deepEqual(Object.keys(parseEnvFile(renderEnvFile(values))).sort(), [...LAB_SECRET_KEYS].sort());
});

test("each lab agent gets the site's secrets and its own Redis password, no other role's", () => {
  const all = completeSecrets({}, () => "x", labSecretKeys(["node01", "node02"]));
  const keys = Object.keys(agentSecrets(all, "node02")).sort();
  assert.deepEqual(keys, [
    "HARBOR_HA_HARBOR_ADMIN_PASSWORD",
    "HARBOR_HA_PG_PASSWORD",
    "HARBOR_HA_REDIS_AGENT_PASSWORD_NODE02",
    "HARBOR_HA_REPLICATION_PASSWORD",
  ]);
});

test("the lab's Redis speaks TLS only, with client certificates, the ACL file and protected mode", () => {
  const tls = redisCertificateFiles("/lab/redis/tls");
  const config = redisConfig("10.77.0.1", "/lab/redis/data", tls, "/lab/redis/users.acl");
  assert.match(config, /^port 0$/m);
  assert.match(config, /^tls-port 6379$/m);
  assert.match(config, /^tls-auth-clients yes$/m);
  assert.match(config, /^tls-ca-cert-file \/lab\/redis\/tls\/ca\.crt$/m);
  assert.match(config, /^aclfile \/lab\/redis\/users\.acl$/m);
  assert.match(config, /^protected-mode yes$/m);
  assert.match(config, /^bind 10\.77\.0\.1$/m);
});

test("writes a site config that the product's own loader accepts", () => {
  const text = renderSiteConfig(labSiteConfig(topology, paths), paths.env);
  const loaded = parseSiteConfig(text, "lab-site.yaml");
  assert.equal(loaded.site.site, "lab");
  assert.deepEqual(
    loaded.site.nodes.map((n) => [n.name, n.address, n.dockerSocket]),
    [
      ["node01", "10.77.0.11", "/run/harbor-ha-lab/node01/docker.sock"],
      ["node02", "10.77.0.12", "/run/harbor-ha-lab/node02/docker.sock"],
    ],
  );
  const raw = parse(text) as { controlPlane: { redisUrl: string }; harbor: { storage: { path: string } } };
  assert.equal(raw.controlPlane.redisUrl, "rediss://10.77.0.1:6379/0");
  assert.equal(loaded.site.controlPlane.auth?.controller.user, "harbor-ha-controller");
  assert.equal(loaded.site.controlPlane.tls?.caFile, "/var/lib/harbor-ha-lab/redis/tls/ca.crt");
  assert.deepEqual(loaded.warnings, []);
  assert.equal(raw.harbor.storage.path, paths.sharedDir);
});

test("points each node's ssh sessions at that node's dockerd and allows keys only", () => {
  const node = topology.nodes[1];
  assert.ok(node);
  const config = sshdConfig(node, paths.node(node.name), paths);
  assert.match(config, /^ListenAddress 10\.77\.0\.12:22$/m);
  assert.match(config, /^SetEnv DOCKER_HOST=unix:\/\/\/run\/harbor-ha-lab\/node02\/docker\.sock$/m);
  assert.match(config, /^PasswordAuthentication no$/m);
  assert.match(config, /^UsePAM no$/m);
});

test("starts each dockerd inside its node's namespace with nsenter, its own roots and no networking of its own", () => {
  const node = topology.nodes[0];
  assert.ok(node);
  const args = dockerdArgs(node, paths.node(node.name));
  assert.deepEqual(args.slice(0, 2), ["--net=/run/netns/node01", "dockerd"]);
  for (const flag of [
    "--bridge=none",
    "--iptables=false",
    "--ip-forward=false",
    "--ip-masq=false",
    "--userland-proxy=false",
  ]) {
    assert.ok(args.includes(flag), flag);
  }
  assert.ok(args.includes("--cgroup-parent=/harbor-ha-lab/node01"));
  // The unix socket limit is 108 bytes; containerd's socket sits deepest, under the exec root.
  assert.ok(`${paths.node("node09").dockerExecRoot}/containerd/containerd.sock.ttrpc`.length < 108);
});
