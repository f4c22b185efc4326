import { appendFileSync, chownSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { vipHolders } from "../../test/support/vip.ts";
import { ADDRESS, NODES, type NodeName, peerOf, VIP } from "../lab-facts.ts";
import { pgQuery } from "../pg-client.ts";
import { pollUntil } from "../poll.ts";
import { killTree, sh, startTracked, stopTracked, type Tracked } from "../processes.ts";
import type { BenchSystem, FaultKind, InjectedFault, SystemMilestones } from "../system.ts";
import { Crontab } from "./cron.ts";
import { hostPgLayout, killPostgres, PG_BIN, postgresOwner, stopPostgres } from "./host-postgres.ts";
import { removeVip } from "./ours.ts";
import {
  checkVipScript,
  keepalivedConf,
  PG_HBA,
  postgresqlSettings,
  REPMGR_USER,
  type RunbookNode,
  repmgrConf,
  startPgScript,
} from "./runbook-files.ts";

const SYSTEM = "runbook";

function runbookNode(name: NodeName): RunbookNode & { dir: string; keepalivedConf: string } {
  const layout = hostPgLayout(SYSTEM, name);
  return {
    name,
    id: name === "node01" ? 1 : 2,
    address: ADDRESS[name],
    data: layout.data,
    socketDir: layout.socketDir,
    log: layout.log,
    dir: layout.dir,
    repmgrConf: join(layout.dir, "repmgr.conf"),
    repmgrLog: join(layout.dir, "repmgrd.log"),
    keepalivedPid: join(layout.dir, "keepalived.pid"),
    keepalivedConf: join(layout.dir, "keepalived.conf"),
  };
}

/**
 * The runbook's design as operators run it today: repmgrd promotes, keepalived (equal priority,
 * nopreempt) holds the VIP, and the crontab's check_vip.sh and start-pg.sh fix the rest every
 * 30 s. Built fresh for every fault (node01 primary with the VIP, node02 a registered standby):
 * the runbook leaves rejoining the old primary to a person.
 */
export class RunbookSystem implements BenchSystem {
  readonly name = "runbook (repmgrd+cron)";
  readonly replication = "async" as const;
  readonly faults: readonly FaultKind[] = ["postgres-kill", "keepalived-kill"];
  private readonly nodes = { node01: runbookNode("node01"), node02: runbookNode("node02") };
  private daemons: Tracked[] = [];
  private keepalived = new Map<string, Tracked>();
  private cron: Crontab | undefined;

  constructor(private readonly log: (line: string) => void) {}

  async prepare(): Promise<void> {
    await this.build();
  }

  private async build(): Promise<void> {
    const postgres = { user: "postgres" } as const;
    const owner = postgresOwner();
    for (const name of NODES) {
      const node = this.nodes[name];
      rmSync(node.dir, { recursive: true, force: true });
      mkdirSync(node.socketDir, { recursive: true });
      writeFileSync(
        node.repmgrConf,
        `${repmgrConf(node)}repmgrd_pid_file='${join(node.dir, "repmgrd.pid")}'\n`,
      );
      writeFileSync(node.keepalivedConf, keepalivedConf(node, ADDRESS[peerOf(name)], VIP));
      writeFileSync(join(node.dir, "check_vip.sh"), checkVipScript(node, VIP), { mode: 0o755 });
      writeFileSync(join(node.dir, "start-pg.sh"), startPgScript(node), { mode: 0o755 });
      for (const path of [node.dir, node.socketDir, node.repmgrConf]) chownSync(path, owner.uid, owner.gid);
    }
    const primary = this.nodes.node01;
    const standby = this.nodes.node02;
    await sh(
      [`${PG_BIN}/initdb`, "-D", primary.data, "-U", "postgres", "--auth=trust", "--no-sync", "-k"],
      postgres,
    );
    appendFileSync(join(primary.data, "postgresql.conf"), postgresqlSettings(primary));
    writeFileSync(join(primary.data, "pg_hba.conf"), PG_HBA);
    await this.pgStart("node01");
    const local = { host: primary.socketDir, password: "" };
    await pgQuery(
      local,
      [`create user ${REPMGR_USER} superuser`, `create database repmgr owner ${REPMGR_USER}`],
      10_000,
    );
    await sh([`${PG_BIN}/repmgr`, "-f", primary.repmgrConf, "primary", "register"], {
      netns: "node01",
      ...postgres,
    });
    await sh(
      [
        `${PG_BIN}/repmgr`,
        "-h",
        primary.address,
        "-U",
        REPMGR_USER,
        "-d",
        "repmgr",
        "-f",
        standby.repmgrConf,
        "standby",
        "clone",
        "--fast-checkpoint",
      ],
      { netns: "node02", ...postgres, timeoutMs: 120_000 },
    );
    // The clone copied node01's postgresql.conf: the standby gets its own name and socket folder.
    appendFileSync(join(standby.data, "postgresql.conf"), postgresqlSettings(standby));
    await this.pgStart("node02");
    await sh([`${PG_BIN}/repmgr`, "-f", standby.repmgrConf, "standby", "register"], {
      netns: "node02",
      ...postgres,
    });
    for (const name of NODES) {
      const node = this.nodes[name];
      this.daemons.push(
        startTracked(`repmgrd:${name}`, [`${PG_BIN}/repmgrd`, "-f", node.repmgrConf, "--daemonize=false"], {
          netns: name,
          ...postgres,
          log: join(node.dir, "repmgrd.out"),
        }),
      );
    }
    // node01 first, so that it takes the VIP (nopreempt keeps it there).
    this.startKeepalived("node01");
    await this.until(
      "the VIP on node01",
      async () => (await vipHolders(NODES, VIP)).includes("node01"),
      20_000,
    );
    this.startKeepalived("node02");
    await this.until(
      "writes through the VIP",
      async () => {
        await pgQuery({ host: VIP, password: "" }, "select 1", 1_000);
        return true;
      },
      20_000,
    );
    this.cron = new Crontab([
      { node: "node01", script: join(this.nodes.node01.dir, "check_vip.sh") },
      { node: "node02", script: join(this.nodes.node02.dir, "check_vip.sh") },
      // The runbook's crontab: `start-pg.sh pg-1`, the standby's container.
      { node: "node02", script: join(this.nodes.node02.dir, "start-pg.sh") },
    ]);
    this.cron.start();
  }

  private async pgStart(name: NodeName): Promise<void> {
    const node = this.nodes[name];
    await sh([`${PG_BIN}/pg_ctl`, "-D", node.data, "-l", node.log, "-w", "-t", "60", "start"], {
      netns: name,
      user: "postgres",
      timeoutMs: 90_000,
    });
  }

  private startKeepalived(name: NodeName): void {
    const node = this.nodes[name];
    const argv = ["keepalived", "-P", "-n", "-l", "-D", "-f", node.keepalivedConf];
    argv.push(
      "-p",
      node.keepalivedPid,
      "-r",
      join(node.dir, "vrrp.pid"),
      "-c",
      join(node.dir, "checkers.pid"),
    );
    this.keepalived.set(
      name,
      startTracked(`keepalived:${name}`, argv, { netns: name, log: join(node.dir, "keepalived.log") }),
    );
  }

  async injectFault(kind: FaultKind): Promise<InjectedFault> {
    const old = "node01";
    if (kind === "postgres-kill") {
      await killPostgres(this.nodes[old].data);
      return { at: Date.now(), oldPrimary: old, expectedPrimary: "node02" };
    }
    const keepalived = this.keepalived.get(old);
    if (!keepalived) throw new Error("keepalived is not running on node01");
    // Parent and VRRP child together (LAB.md pitfall 5): a real crash.
    killTree(keepalived.pid);
    return { at: Date.now(), oldPrimary: old, expectedPrimary: "node02", anyServer: true };
  }

  async milestones(): Promise<SystemMilestones> {
    // repmgrd and the scripts report nothing; promotion and the VIP are timed from outside.
    return {};
  }

  async restore(): Promise<void> {
    await this.stop();
    await this.build();
  }

  private async stop(): Promise<void> {
    await this.cron?.stop();
    this.cron = undefined;
    for (const keepalived of this.keepalived.values()) await stopTracked(keepalived);
    this.keepalived.clear();
    for (const daemon of this.daemons) await stopTracked(daemon);
    this.daemons = [];
    for (const name of NODES) await stopPostgres(name, hostPgLayout(SYSTEM, name));
    await removeVip();
  }

  async teardown(): Promise<void> {
    await this.stop();
    for (const name of NODES) rmSync(this.nodes[name].dir, { recursive: true, force: true });
  }

  private until(what: string, probe: () => Promise<boolean>, limitMs: number): Promise<void> {
    return pollUntil(`runbook: ${what}`, probe, limitMs, { intervalMs: 200 });
  }
}
