import { nodeDataPath } from "../../../config/node-paths.ts";
import type { ContainerSpec, Containers, EnsureResult } from "../../adapters/containers.ts";
import {
  BASE_PRIORITY,
  effectivePriority,
  type KeepalivedLayout,
  keepalivedLayout,
  PG_ROLE_VALUE,
  PG_ROLE_WEIGHT,
  type PgRole,
  parseRoleFile,
  renderKeepalivedConf,
  roleOf,
} from "../../deploy/keepalived-conf.ts";
import { renderNotifyScript } from "../../deploy/keepalived-notify.ts";
import type { AgentContext } from "../agent-context.ts";
import { configHash, keepalivedSpec } from "./keepalived-container.ts";
import { readTextIfExists } from "./keepalived-host.ts";

/** What apply would change on this node, from the node's files and its container. */
export interface KeepalivedPlan {
  readonly layout: KeepalivedLayout;
  readonly role: PgRole;
  readonly conf: string;
  readonly notifyScript: string;
  readonly spec: ContainerSpec;
  readonly confChanged: boolean;
  readonly scriptChanged: boolean;
  /** The role file's current role (undefined: missing or unreadable). */
  readonly currentRole: PgRole | undefined;
  readonly container: EnsureResult;
  /** Why the container would be (re)made, for the report. */
  readonly containerReason: string;
}

/** Reads the node's files and container and compares them with what the site asks for. */
export async function planKeepalived(
  context: AgentContext,
  containers: Containers,
  primaryNode: string,
): Promise<KeepalivedPlan> {
  const { site, node } = context;
  const layout = keepalivedLayout(nodeDataPath(node, "keepalived"));
  const conf = renderKeepalivedConf(site, node, layout);
  const notifyScript = renderNotifyScript(layout);
  const spec = keepalivedSpec(site, node, layout, configHash(conf, notifyScript));
  const [currentConf, currentScript, roleText, state] = await Promise.all([
    readTextIfExists(layout.conf),
    readTextIfExists(layout.notifyScript),
    readTextIfExists(layout.roleFile),
    containers.inspect(spec.name),
  ]);
  const container = await containers.plan(spec);
  const confChanged = currentConf !== conf;
  const scriptChanged = currentScript !== notifyScript;
  const containerReason = (() => {
    switch (container) {
      case "created":
        return "there is none";
      case "recreated":
        return confChanged || scriptChanged ? "its config changed" : "its container spec changed";
      case "started":
        return `it stopped, exit code ${state?.exitCode ?? "?"}`;
      case "running":
        return "it runs with this config";
    }
  })();
  return {
    layout,
    role: roleOf(node.name, primaryNode),
    conf,
    notifyScript,
    spec,
    confChanged,
    scriptChanged,
    currentRole: parseRoleFile(roleText),
    container,
    containerReason,
  };
}

export interface Change {
  /** For the one-line detail. */
  readonly short: string;
  /** For the output lines. */
  readonly long: string;
}

export function plannedChanges(plan: KeepalivedPlan): Change[] {
  const { layout } = plan;
  const changes: Change[] = [];
  if (plan.container !== "running") {
    const verb = plan.container === "created" ? "create" : "re-create";
    const what = `${verb} ${plan.spec.name} (${plan.containerReason})`;
    changes.push({ short: what, long: what });
  }
  if (plan.confChanged) changes.push({ short: "write keepalived.conf", long: `write ${layout.conf}` });
  if (plan.scriptChanged) changes.push({ short: "write notify.sh", long: `write ${layout.notifyScript}` });
  if (plan.currentRole !== plan.role) {
    const live = plan.container === "running" ? ", keepalived rereads it without a restart" : "";
    changes.push({
      short: `set the role file to ${plan.role}`,
      long: `write ${PG_ROLE_VALUE[plan.role]} (${plan.role}) to ${layout.roleFile}, was ${plan.currentRole ?? "missing"}${live}`,
    });
  }
  return changes;
}

export function priorityLine(plan: KeepalivedPlan, primaryNode: string): string {
  const whose = plan.role === "primary" ? "this node runs the primary" : `the primary runs on ${primaryNode}`;
  return (
    `priority ${effectivePriority(plan.role)} = base ${BASE_PRIORITY} + role file ` +
    `${PG_ROLE_VALUE[plan.role]} x weight ${PG_ROLE_WEIGHT} (${whose})`
  );
}
