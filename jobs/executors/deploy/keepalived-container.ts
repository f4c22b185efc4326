import { createHash } from "node:crypto";
import type { NodeConfig, SiteConfig } from "../../../config/schema.ts";
import type { ContainerSpec } from "../../adapters/containers.ts";
import {
  KEEPALIVED_COMPONENT,
  type KeepalivedLayout,
  keepalivedContainerName,
} from "../../deploy/keepalived-conf.ts";

/** The hash of the files keepalived reads at start: part of the spec, so a change re-creates it. */
export const CONFIG_LABEL = "io.harbor-ha.keepalived.config";

/** VRRP needs raw sockets, address changes and gratuitous ARPs on the host's interface. */
const CAPABILITIES = ["NET_ADMIN", "NET_BROADCAST", "NET_RAW"] as const;

export function configHash(conf: string, notifyScript: string): string {
  return createHash("sha256").update(conf).update("\0").update(notifyScript).digest("hex").slice(0, 16);
}

/**
 * keepalived in the foreground (-n), logging to the console (-l, -D detailed) for `docker logs`,
 * VRRP only (-P: this kernel has no IP_VS, LAB.md pitfall 3). Its pid files stay in the
 * container's own /run: it is never shared with another node's keepalived (pitfall 4), and the
 * step re-creates a stopped container rather than restarting it, because a restart after a kill
 * finds the old pid files and exits with "daemon is already running".
 *
 * The role file (track_file) is not part of the spec: keepalived rereads it while running.
 */
export function keepalivedSpec(
  site: SiteConfig,
  node: NodeConfig,
  layout: KeepalivedLayout,
  hash: string,
): ContainerSpec {
  return {
    name: keepalivedContainerName(node.name),
    image: site.keepalived.image,
    component: KEEPALIVED_COMPONENT,
    cmd: ["keepalived", "-P", "-n", "-l", "-D", "-f", layout.conf],
    // The whole folder, at the same path: the role file is replaced by rename (a bind-mounted
    // file would keep showing the old inode), and the paths in the config hold on both sides.
    binds: [`${layout.dir}:${layout.dir}`],
    capAdd: CAPABILITIES,
    labels: { [CONFIG_LABEL]: hash },
  };
}

/** A one-shot `keepalived -t` of a candidate config: a bad config must not replace a running one. */
export function configTestSpec(site: SiteConfig, node: NodeConfig, layout: KeepalivedLayout): ContainerSpec {
  return {
    name: `${keepalivedContainerName(node.name)}-config-test`,
    image: site.keepalived.image,
    component: `${KEEPALIVED_COMPONENT}-config-test`,
    cmd: ["keepalived", "-t", "-f", layout.candidateConf],
    binds: [`${layout.dir}:${layout.dir}:ro`],
    capAdd: CAPABILITIES,
  };
}
