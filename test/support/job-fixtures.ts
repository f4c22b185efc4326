import { randomBytes } from "node:crypto";
import type { SiteKey } from "../../config/site-key.ts";
import type { JobName, JobRequest } from "../../jobs/job-types.ts";

export const SITE_NODES = ["node01", "node02"] as const;

export function siteKeyForTest(seed = randomBytes(32)): SiteKey {
  return { bytes: seed, fingerprint: seed.toString("hex").slice(0, 12) };
}

/** One valid request per job name; the mapped type makes a job without a fixture a compile error. */
export const VALID_REQUESTS: { readonly [N in JobName]: JobRequest<N> } = {
  ping: { sentAt: 1_700_000_000_000 },
  "postgres.role": {},
  "deploy.step": { stepId: "harbor.install", mode: "apply", primaryNode: "node01", harborVersion: "2.2.2" },
  "postgres.fence": { fencingToken: 7 },
  "postgres.promote": { fencingToken: 7, oldPrimaryLastLsn: "0/3000060", commitAlone: true },
  "postgres.restart": { fencingToken: 7, allowPrimary: false },
  "postgres.rejoin": {
    fencingToken: 7,
    primary: { node: "node01", address: "10.77.0.11" },
    allowReclone: false,
  },
  "postgres.block-writes": { fencingToken: 7 },
  "postgres.allow-writes": { fencingToken: 7 },
  "postgres.wait-replay": { fencingToken: 7, lsn: "0/3000060", timeoutMs: 30_000 },
  "postgres.set-durability": { fencingToken: 7, alone: true },
  "keepalived.stop": { fencingToken: 7, untilVipReleased: true },
  "keepalived.start": { fencingToken: 7 },
  "keepalived.set-role": { fencingToken: 7, role: "standby" },
  "harbor.restart": { fencingToken: 7, components: ["core", "registry"] },
};
