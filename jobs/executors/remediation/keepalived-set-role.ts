import {
  effectivePriority,
  PG_ROLE_VALUE,
  parseRoleFile,
  roleFileContent,
} from "../../deploy/keepalived-conf.ts";
import type { SetRoleFacts } from "../../remediation/contract.ts";
import { ensureDir, readTextIfExists, writeAtomically } from "../deploy/keepalived-host.ts";
import { ActionFailure } from "./action-run.ts";
import type { RemediationAction } from "./fenced-executor.ts";
import { keepalivedHere } from "./keepalived-node.ts";

/**
 * keepalived.set-role: the role file keepalived tracks says this node's PostgreSQL role, so the
 * VIP follows the primary: the primary's node advertises priority 150, a standby's 100. The file
 * is replaced by rename (keepalived rereads it through inotify, no restart) and read back.
 */
export const setKeepalivedRole: RemediationAction<"keepalived.set-role"> = async (
  context,
  request,
  _signal,
  run,
) => {
  const here = keepalivedHere(context);
  const { role } = request;
  if (!Object.hasOwn(PG_ROLE_VALUE, role)) {
    throw new ActionFailure(
      "bad-request",
      `keepalived.set-role: unknown role ${JSON.stringify(role)}`,
      "send primary or standby",
    );
  }
  const file = here.layout.roleFile;
  const previousRole = parseRoleFile(await readTextIfExists(file)) ?? null;
  const facts: SetRoleFacts = { role, previousRole };
  const priority = `priority ${effectivePriority(role)}`;
  if (previousRole === role) {
    return run.already(`${context.node.name}'s role file already says ${role} (${priority})`, facts);
  }
  await run.step(`write ${role} to the role file`, async () => {
    await ensureDir(here.layout.dir);
    await writeAtomically(file, roleFileContent(role), 0o644);
  });
  const readBack = parseRoleFile(await readTextIfExists(file));
  if (readBack !== role) {
    throw new ActionFailure(
      "write-failed",
      `${file} reads ${readBack ?? "nothing usable"} right after ${role} was written`,
      "is the node's disk full or read-only?",
    );
  }
  return run.done(
    `${context.node.name}'s role file says ${role} now (${priority}), was ${previousRole ?? "missing"}`,
    facts,
  );
};
