import { chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labPaths } from "../../lab/index.ts";
import { vipHolders } from "../../test/support/vip.ts";
import { ADDRESS, HOST_ADDRESS, NODES, type NodeName, VIP } from "../lab-facts.ts";
import { isPrimary, pgQuery } from "../pg-client.ts";
import { pollUntil } from "../poll.ts";
import { startTracked, stopTracked, type Tracked } from "../processes.ts";
import type { BenchSystem, FaultKind, InjectedFault, SystemMilestones } from "../system.ts";
import { hostPgLayout, killPostgres, postgresOwner, stopPostgres } from "./host-postgres.ts";
import { removeVip } from "./ours.ts";
import { type PatroniNode, patroniConfig, vipCallback } from "./patroni-files.ts";

const SYSTEM = "patroni";
const ETCD_CLIENT = `${HOST_ADDRESS}:2379`;

function patroniNode(name: NodeName): PatroniNode & { dir: string; config: string } {
  const layout = hostPgLayout(SYSTEM, name);
  return {
    name,
    address: ADDRESS[name],
    data: layout.data,
    socketDir: layout.socketDir,
    pgpass: join(layout.dir, "pgpass"),
    callback: join(layout.dir, "vip-callback.sh"),
    log: join(layout.dir, "patroni.log"),
    dir: layout.dir,
    config: join(layout.dir, "patroni.yml"),
  };
}

/**
 * Patroni 3.0 (Debian's) with etcd (Debian's etcd-server, on the lab's host address only)
 * managing two PostgreSQL servers in the nodes' namespaces, its defaults untouched. A killed
 * PostgreSQL is restarted in place by Patroni; there is no keepalived to crash.
 */
export class PatroniSystem implements BenchSystem {
  readonly name = "patroni+etcd";
  readonly replication = "async" as const;
  readonly faults: readonly FaultKind[] = ["postgres-kill"];
  readonly skipped = { "keepalived-kill": "no keepalived: Patroni moves the VIP by callback" };
  private readonly nodes = { node01: patroniNode("node01"), node02: patroniNode("node02") };
  private readonly etcdDir = join(labPaths().root, "bench-etcd");
  private etcd: Tracked | undefined;
  private readonly patroni = new Map<NodeName, Tracked>();

  constructor(private readonly log: (line: string) => void) {}

  async prepare(): Promise<void> {
    rmSync(this.etcdDir, { recursive: true, force: true });
    mkdirSync(this.etcdDir, { recursive: true });
    this.etcd = startTracked(
      "etcd",
      [
        "etcd",
        "--name=bench",
        `--data-dir=${join(this.etcdDir, "data")}`,
        `--listen-client-urls=http://${ETCD_CLIENT}`,
        `--advertise-client-urls=http://${ETCD_CLIENT}`,
        "--listen-peer-urls=http://127.0.0.1:2380",
        "--initial-advertise-peer-urls=http://127.0.0.1:2380",
        "--initial-cluster=bench=http://127.0.0.1:2380",
        "--initial-cluster-state=new",
      ],
      { log: join(this.etcdDir, "etcd.log") },
    );
    await this.until("etcd answers", async () => (await fetch(`http://${ETCD_CLIENT}/health`)).ok, 30_000);
    const owner = postgresOwner();
    for (const name of NODES) {
      const node = this.nodes[name];
      rmSync(node.dir, { recursive: true, force: true });
      mkdirSync(node.socketDir, { recursive: true });
      writeFileSync(node.config, patroniConfig(node, ETCD_CLIENT));
      writeFileSync(node.callback, vipCallback(VIP), { mode: 0o755 });
      for (const path of [node.dir, node.socketDir, node.config]) chownSync(path, owner.uid, owner.gid);
    }
    this.start("node01");
    await this.until("node01 leads", () => this.rest("node01", "primary"), 90_000);
    this.start("node02");
    await this.healthy(120_000);
    this.log("patroni+etcd: node01 leads, node02 streams");
  }

  private start(name: NodeName): void {
    const node = this.nodes[name];
    this.patroni.set(
      name,
      startTracked(`patroni:${name}`, ["patroni", node.config], {
        netns: name,
        user: "postgres",
        // The VIP callback adds and announces the address as the postgres user.
        ambientCaps: ["net_admin", "net_raw"],
        log: node.log,
        cwd: node.dir,
      }),
    );
  }

  /** Patroni's REST health check: 200 when the node is what was asked (primary or replica). */
  private async rest(name: NodeName, role: "primary" | "replica"): Promise<boolean> {
    const response = await fetch(`http://${ADDRESS[name]}:8008/${role}`, {
      signal: AbortSignal.timeout(1_000),
    });
    return response.status === 200;
  }

  private async leader(): Promise<NodeName | undefined> {
    for (const name of NODES) if (await isPrimary({ host: ADDRESS[name], password: "" })) return name;
    return undefined;
  }

  /** One leader holding the VIP and taking writes through it, the other a streaming replica. */
  private async healthy(limitMs: number): Promise<void> {
    await this.until(
      "a Patroni leader with the VIP and a streaming replica",
      async () => {
        const leader = await this.leader();
        if (!leader) return false;
        const other = leader === "node01" ? "node02" : "node01";
        if (!(await this.rest(other, "replica"))) return false;
        const holders = await vipHolders(NODES, VIP);
        if (holders.length !== 1 || holders[0] !== leader) return false;
        const rows = await pgQuery<{ n: string }>(
          { host: ADDRESS[leader], password: "" },
          "select count(*) as n from pg_stat_replication where state = 'streaming'",
        );
        return Number(rows[0]?.n) >= 1;
      },
      limitMs,
    );
  }

  async injectFault(kind: FaultKind): Promise<InjectedFault> {
    if (kind !== "postgres-kill") throw new Error(`patroni: ${kind} does not apply`);
    const leader = await this.leader();
    if (!leader) throw new Error("patroni: no leader");
    await killPostgres(this.nodes[leader].data);
    // Patroni restarts its leader's server in place (it still holds the leader key).
    return { at: Date.now(), oldPrimary: leader, expectedPrimary: leader, anyServer: true };
  }

  async milestones(): Promise<SystemMilestones> {
    return {};
  }

  async restore(): Promise<void> {
    await this.healthy(180_000);
  }

  async teardown(): Promise<void> {
    // SIGTERM: Patroni stops its PostgreSQL (and calls on_stop) before it exits.
    for (const patroni of this.patroni.values()) await stopTracked(patroni, "SIGTERM", 30_000);
    this.patroni.clear();
    for (const name of NODES) await stopPostgres(name, hostPgLayout(SYSTEM, name));
    if (this.etcd) await stopTracked(this.etcd);
    this.etcd = undefined;
    await removeVip();
    for (const name of NODES) rmSync(this.nodes[name].dir, { recursive: true, force: true });
    rmSync(this.etcdDir, { recursive: true, force: true });
  }

  private until(what: string, probe: () => Promise<boolean>, limitMs: number): Promise<void> {
    return pollUntil(`patroni: ${what}`, probe, limitMs);
  }
}
