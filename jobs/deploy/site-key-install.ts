import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { renderSiteKey, type SiteKey } from "../../config/site-key.ts";
import { outputTail, type RemoteShell, shellQuote } from "../adapters/remote-shell.ts";

export interface SiteKeyInstall {
  /** security.siteKeyFile: the same path on the operations host and on every node. */
  readonly file: string;
  readonly key: SiteKey;
}

export type SiteKeyOnNode =
  | { readonly status: "same" | "installed" | "would-install" }
  | { readonly status: "failed"; readonly detail: string; readonly outputTail: string };

/**
 * The node's copy of the site key, compared by its SHA-256 first (the lab's nodes share the
 * operations host's filesystem, so there it is the same file and nothing is written), else
 * written mode 600 through a temporary file, so an agent never reads half a key.
 */
export async function ensureSiteKeyOnNode(
  shell: RemoteShell,
  install: SiteKeyInstall,
  apply: boolean,
): Promise<SiteKeyOnNode> {
  const text = renderSiteKey(install.key.bytes);
  const wanted = createHash("sha256").update(text).digest("hex");
  const file = shellQuote(install.file);
  const seen = await shell.run(`sha256sum ${file} 2>/dev/null`);
  const mode = await shell.run(`stat -c %a ${file} 2>/dev/null`);
  if (seen.code === 0 && seen.stdout.trim().split(/\s+/)[0] === wanted && mode.stdout.trim() === "600") {
    return { status: "same" };
  }
  if (!apply) return { status: "would-install" };
  const temporary = shellQuote(`${install.file}.tmp`);
  const written = await shell.run(
    `umask 077 && mkdir -p ${shellQuote(dirname(install.file))} && cat > ${temporary} && chmod 600 ${temporary} && mv ${temporary} ${file}`,
    { stdin: text },
  );
  if (written.code !== 0) {
    return {
      status: "failed",
      detail: `could not write the site key ${install.file}`,
      outputTail: outputTail(written),
    };
  }
  return { status: "installed" };
}
