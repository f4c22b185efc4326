import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderSiteKey } from "../../config/site-key.ts";

let file: string | undefined;

/**
 * One site key file for this test process (mode 600, in a folder of its own), for site configs
 * whose agents and bots run as separate processes: they read it at start as real ones do.
 */
export function testSiteKeyFile(): string {
  if (!file) {
    file = join(mkdtempSync(join(tmpdir(), "harbor-ha-site-key-")), "site.key");
    writeFileSync(file, renderSiteKey(), { mode: 0o600 });
  }
  return file;
}
