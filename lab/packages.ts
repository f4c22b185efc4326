import { rm, writeFile } from "node:fs/promises";
import { exists } from "./files.ts";
import { run } from "./shell.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";

/** The Debian packages the lab and the product's lab tests use. */
export const LAB_PACKAGES = [
  "docker.io",
  "keepalived",
  "redis-server",
  "openssh-server",
  "openssh-client",
  "debootstrap",
  "docker-registry",
  "postgresql-client",
  // The registry client of deploy's last step (login, push, pull through the VIP).
  "skopeo",
  "iproute2",
  "util-linux",
  "tar",
] as const;

/** What `npm test` needs beyond the lab: a browser for the channel page's test (driven by playwright-core). */
export const TEST_PACKAGES = [...LAB_PACKAGES, "chromium"] as const;

/**
 * What `npm run bench` adds for its baselines (DESIGN.md §7): Patroni with Debian's etcd, and
 * repmgr for the runbook's design. Both baselines run the host's PostgreSQL inside a node's
 * namespace: the node image has no repmgr extension, and Patroni starts the server itself.
 */
export const BENCH_PACKAGES = [
  ...LAB_PACKAGES,
  "patroni",
  "etcd-server",
  "postgresql-15",
  "postgresql-15-repmgr",
  // Patroni's VIP callback announces the moved address, as keepalived does.
  "iputils-arping",
] as const;

/** Reads `dpkg-query -W -f '${Package} ${Status}\n'`: a package counts only when fully installed. */
export function missingPackages(wanted: readonly string[], dpkgOutput: string): string[] {
  const installed = new Set(
    dpkgOutput
      .split("\n")
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields.slice(1).join(" ") === "install ok installed")
      .map((fields) => fields[0]?.split(":")[0]),
  );
  return wanted.filter((name) => !installed.has(name));
}

// dpkg-query's own ${field} syntax, not a template placeholder.
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format
const DPKG_FORMAT = "${Package} ${Status}\\n";

const POLICY_RC_D = "/usr/sbin/policy-rc.d";

/**
 * Installs what is missing. Package scripts would start the system's own dockerd, sshd and redis
 * in the root namespace; a temporary policy-rc.d (Debian's switch for exactly this) keeps them
 * stopped, because the lab runs its own instances and nothing else should listen.
 */
export async function ensurePackages(wanted: readonly string[] = LAB_PACKAGES): Promise<StepResult> {
  const query = await run("dpkg-query", ["-W", "-f", DPKG_FORMAT, ...wanted], {
    allowFailure: true,
  });
  const missing = missingPackages(wanted, query.stdout);
  if (missing.length === 0) return unchanged(`${wanted.length} packages present`);

  const addedPolicy = !(await exists(POLICY_RC_D));
  if (addedPolicy) await writeFile(POLICY_RC_D, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    await run("apt-get", ["update"], { env, timeoutMs: 600_000 });
    await run("apt-get", ["install", "-y", "--no-install-recommends", ...missing], {
      env,
      timeoutMs: 1_200_000,
    });
  } finally {
    if (addedPolicy) await rm(POLICY_RC_D, { force: true });
  }
  return changed(`apt-get installed ${missing.join(", ")}`);
}
