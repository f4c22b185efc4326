import type { ContainerSpec, ContainerState, Containers, EnsureResult } from "../../adapters/containers.ts";
import { changedSettings, POSTGRES_COMPONENT, RESTART_SETTINGS } from "../../deploy/postgres-config.ts";
import type { DataFolderState } from "../../deploy/postgres-data-decision.ts";
import type { ServerState } from "../../deploy/postgres-server-state.ts";
import type { DataFolder } from "./postgres-data-folder.ts";
import { PostgresStepFailure } from "./postgres-failure.ts";
import { portTaken } from "./postgres-network.ts";
import type { PostgresServer } from "./postgres-server.ts";

/**
 * What the primary and standby steps share: observing a node's server, saying what bringing it
 * to its files and container spec would change, and doing it (write, start, reload, restart).
 */

export interface ServerParts {
  readonly containers: Containers;
  readonly server: PostgresServer;
  readonly folder: DataFolder;
  readonly spec: ContainerSpec;
  readonly node: { readonly name: string; readonly address: string };
  readonly port: number;
}

export interface Observed {
  readonly container: ContainerState | undefined;
  readonly folder: DataFolderState;
  /** The server's own answer, when its container runs. */
  readonly live: ServerState | undefined;
}

export async function observe(
  parts: ServerParts,
  roles: readonly string[],
  signal: AbortSignal,
): Promise<Observed> {
  const container = await parts.containers.inspect(parts.spec.name);
  if (container && container.component !== POSTGRES_COMPONENT) {
    throw new PostgresStepFailure(
      `a container named ${parts.spec.name} exists on ${parts.node.name} that harbor-ha did not make` +
        ` (component label ${container.component ?? "none"})`,
      `harbor-ha will not touch it: rename or remove it (docker rm ${parts.spec.name}), then re-run`,
    );
  }
  const folder = await parts.folder.inspect();
  if (!container?.running) return { container, folder, live: undefined };
  await parts.server.waitReady(parts.node.name, parts.port, signal);
  return { container, folder, live: await parts.server.state(roles) };
}

export interface ServerPlan {
  readonly changes: readonly string[];
  readonly filesToWrite: readonly string[];
  readonly container: EnsureResult;
  /** The running server must re-read its files: they change, or changed since it last read them. */
  readonly reload: boolean;
}

/** Files the server reads on a reload; one written after the last reload means it runs on older ones. */
const CONFIG_FILES = ["postgresql.conf", "pg_hba.conf", "postgresql.auto.conf"];

function containerChange(action: EnsureResult, name: string, done = false): string | undefined {
  switch (action) {
    case "created":
      return `${done ? "created" : "create"} container ${name}`;
    case "recreated":
      return `${done ? "re-created" : "re-create"} container ${name}: spec changed`;
    case "started":
      return `${done ? "started" : "start"} stopped container ${name}`;
    case "running":
      return undefined;
  }
}

/**
 * What bringing the server to `files` and its spec would change. `fresh`: the folder is about
 * to be made (initdb, clone), so every file is written and nothing runs yet.
 */
export async function planServer(
  parts: ServerParts,
  files: Readonly<Record<string, string>>,
  observed: Observed,
  fresh: boolean,
): Promise<ServerPlan> {
  const filesToWrite = fresh ? Object.keys(files) : await parts.folder.differing(files);
  const changes: string[] = [];
  let restartFor: string[] = [...(observed.live?.pendingRestart ?? [])];
  for (const name of filesToWrite) {
    if (name === "postgresql.conf" && !fresh) {
      const names = changedSettings((await parts.folder.read(name)) ?? "", files[name] ?? "");
      changes.push(`write ${name} (${names.join(", ") || "comments"})`);
      restartFor.push(...names.filter((n) => RESTART_SETTINGS.has(n)));
    } else {
      changes.push(`write ${name}`);
    }
  }
  const container = await parts.containers.plan(parts.spec);
  const containerText = containerChange(container, parts.spec.name);
  if (containerText) changes.push(containerText);
  restartFor = [...new Set(restartFor)].sort();
  let reload = false;
  if (observed.live && container === "running") {
    // A crash between writing a file and reloading leaves a server on the old settings.
    const stale = (await parts.folder.modifiedAt(CONFIG_FILES)) > observed.live.configLoadedAt;
    reload = filesToWrite.length > 0 || stale;
    if (restartFor.length > 0) changes.push(`restart ${parts.spec.name} (${restartFor.join(", ")})`);
    else if (reload) {
      changes.push(
        `reload ${parts.spec.name}'s configuration${filesToWrite.length > 0 ? "" : " (files newer than the server's)"}`,
      );
    }
  }
  return { changes, filesToWrite, container, reload };
}

/** Before starting our server: is its port free on the node's address? */
export async function requireFreePort(parts: ServerParts): Promise<void> {
  if (await portTaken(parts.node.address, parts.port)) {
    throw new PostgresStepFailure(
      `port ${parts.port} on ${parts.node.name} (${parts.node.address}) is already taken by another process`,
      `stop what listens there (on ${parts.node.name}: ss -ltnp 'sport = :${parts.port}') or change postgres.port, then re-run`,
    );
  }
}

/** Writes the files, starts the container, reloads or restarts as the changed settings need. */
export async function bringUp(
  parts: ServerParts,
  files: Readonly<Record<string, string>>,
  plan: ServerPlan,
  signal: AbortSignal,
): Promise<string[]> {
  const { containers, server, spec } = parts;
  const done: string[] = [];
  if (plan.filesToWrite.length > 0) {
    await parts.folder.write(Object.fromEntries(plan.filesToWrite.map((name) => [name, files[name] ?? ""])));
    done.push(`wrote ${plan.filesToWrite.join(", ")}`);
  }
  const action = await containers.ensureRunning(spec);
  const started = containerChange(action, spec.name, true);
  if (started) done.push(started);
  await server.waitReady(parts.node.name, parts.port, signal);

  if (action === "running" && plan.reload) {
    const { configErrors } = await server.state([]);
    if (configErrors.length > 0) {
      throw new PostgresStepFailure(
        `the configuration written to ${spec.name} has errors; the server still runs with the old one`,
        "this is a bug in harbor-ha's rendering: report it with the lines below",
        configErrors.join("\n"),
      );
    }
    await server.run("select pg_reload_conf()", "reloading the configuration");
    done.push("reloaded the configuration");
  }
  const { pendingRestart } = await server.state([]);
  if (pendingRestart.length > 0) {
    await containers.stop(spec.name);
    await containers.ensureRunning(spec);
    await server.waitReady(parts.node.name, parts.port, signal);
    done.push(`restarted ${spec.name} (${pendingRestart.join(", ")})`);
  }
  return done;
}
