import type { NodeConfig, SiteConfig } from "../../config/schema.ts";
import { errorMessage, HarborHaError } from "../../support/errors.ts";
import { scanHostKey } from "./ssh-host-key-scan.ts";
import { fingerprintOf, judgeHostKey } from "./ssh-host-keys.ts";
import { hostKeyError, loadHostKeyPins, recordHostKey } from "./ssh-host-trust.ts";

/** What was found about one node's host key: what it presents and how that compares with its pin. */
export interface HostKeySighting {
  readonly node: string;
  readonly target: string;
  /** absent when the node could not be reached. */
  readonly type?: string;
  readonly fingerprint?: string;
  /**
   * pinned: the key matches its pin; recorded: nothing pinned it and it was written to the known_hosts
   * file now; unpinned: nothing pins it (and it was not recorded); mismatch / revoked: refused.
   */
  readonly status: "pinned" | "recorded" | "unpinned" | "mismatch" | "revoked" | "unreachable";
  readonly detail: string;
}

async function sightNode(node: NodeConfig, record: boolean): Promise<HostKeySighting> {
  const target = `${node.address}:${node.ssh.port}`;
  let key: Awaited<ReturnType<typeof scanHostKey>>;
  try {
    key = await scanHostKey(node);
  } catch (error) {
    return { node: node.name, target, status: "unreachable", detail: errorMessage(error) };
  }
  const seen = { node: node.name, target, type: key.type, fingerprint: fingerprintOf(key.blob) };
  const verdict = judgeHostKey(await loadHostKeyPins(node), key);
  switch (verdict.kind) {
    case "trusted":
      return { ...seen, status: "pinned", detail: "matches its pin" };
    case "unknown": {
      if (!record) return { ...seen, status: "unpinned", detail: hostKeyError(node, verdict).message };
      const file = await recordHostKey(node, key, `harbor-ha:${node.name}`);
      return { ...seen, status: "recorded", detail: `recorded in ${file}` };
    }
    case "mismatch":
    case "revoked":
      return { ...seen, status: verdict.kind, detail: hostKeyError(node, verdict).message };
    default: {
      const unreachable: never = verdict;
      throw new Error(`unknown verdict ${String(unreachable)}`);
    }
  }
}

/**
 * Each node's host key as its sshd presents it, compared with its pin. With `record`, a key that
 * nothing pins yet is written to the node's known_hosts file (the first deploy's explicit
 * `--record-host-keys`); a key that differs from a pin is never written over it.
 * One node at a time: two nodes may share one known_hosts file.
 */
export async function surveyHostKeys(site: SiteConfig, record: boolean): Promise<HostKeySighting[]> {
  const sightings: HostKeySighting[] = [];
  for (const node of site.nodes) sightings.push(await sightNode(node, record));
  return sightings;
}

export function formatSighting(sighting: HostKeySighting): string {
  const key = sighting.fingerprint ? `${sighting.type} ${sighting.fingerprint}` : "-";
  return `${sighting.node.padEnd(8)} ${sighting.target.padEnd(21)} ${key}  ${sighting.status.toUpperCase()}: ${sighting.detail}`;
}

/**
 * Recording is all or nothing for a deploy: one refused node stops it before any step runs. A dry
 * run records nothing, so there a key that nothing pins yet (it would be recorded) passes.
 */
export function assertAllPinned(sightings: readonly HostKeySighting[], dryRun = false): void {
  const passes = (s: HostKeySighting) =>
    s.status === "pinned" || s.status === "recorded" || (dryRun && s.status === "unpinned");
  const bad = sightings.filter((s) => !passes(s));
  if (bad.length === 0) return;
  const mismatch = bad.some((s) => s.status === "mismatch" || s.status === "revoked");
  throw new HarborHaError(
    mismatch ? "SSH_HOST_KEY_MISMATCH" : "SSH_HOST_KEY_UNKNOWN",
    `host keys not recorded: ${bad.map((s) => `${s.node}: ${s.detail}`).join("; ")}`,
    {
      action: "record the nodes' SSH host keys",
      hint: mismatch
        ? "a key that differs from its pin is never overwritten: check that host; only if its key really changed, update nodes[].ssh.hostKey or remove its line from the known_hosts file"
        : "bring the node up (sshd listening) and run again",
      context: { nodes: bad.map((s) => s.node) },
    },
  );
}
