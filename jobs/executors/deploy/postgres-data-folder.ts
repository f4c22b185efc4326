import { chown, lstat, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DataFolderState } from "../../deploy/postgres-data-decision.ts";

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === "ENOENT";
}

async function present(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/**
 * A node's PostgreSQL data folder on the node's own disk, as the agent (root, on that node)
 * sees it. Files the agent writes take the folder's owner (the image's postgres user) and mode
 * 600, as PostgreSQL wants; writes go through a rename, so a crash leaves the old file or the new.
 */
export class DataFolder {
  constructor(readonly path: string) {}

  async inspect(): Promise<DataFolderState> {
    let entries: string[];
    try {
      entries = await readdir(this.path);
    } catch (error) {
      if (!isMissing(error)) throw error;
      return {
        path: this.path,
        exists: false,
        entries: 0,
        hasCluster: false,
        hasVersionFile: false,
        standbySignal: false,
        backupLabel: false,
      };
    }
    const has = (name: string) => entries.includes(name);
    const hasVersionFile = has("PG_VERSION");
    return {
      path: this.path,
      exists: true,
      entries: entries.length,
      hasVersionFile,
      hasCluster: hasVersionFile && (await present(join(this.path, "global", "pg_control"))),
      standbySignal: has("standby.signal"),
      backupLabel: has("backup_label"),
    };
  }

  async read(name: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.path, name), "utf8");
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** The latest modification time (ms since the epoch) of the named files that exist. */
  async modifiedAt(names: readonly string[]): Promise<number> {
    let latest = 0;
    for (const name of names) {
      try {
        latest = Math.max(latest, (await stat(join(this.path, name))).mtimeMs);
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    return latest;
  }

  /** The names of `files` whose content on disk differs (or that are missing). */
  async differing(files: Readonly<Record<string, string>>): Promise<string[]> {
    const names: string[] = [];
    for (const [name, text] of Object.entries(files)) if ((await this.read(name)) !== text) names.push(name);
    return names;
  }

  async write(files: Readonly<Record<string, string>>): Promise<void> {
    const owner = await stat(this.path);
    for (const [name, text] of Object.entries(files)) {
      const target = join(this.path, name);
      const temporary = join(this.path, `.${name}.harbor-ha.tmp`);
      await writeFile(temporary, text, { mode: 0o600 });
      await chown(temporary, owner.uid, owner.gid);
      await rename(temporary, target);
    }
  }

  async remove(name: string): Promise<void> {
    await rm(join(this.path, name), { force: true });
  }

  /** Empties the folder (keeps the folder, its owner and mode). Callers decide it is a copy. */
  async wipe(): Promise<void> {
    for (const entry of await readdir(this.path)) {
      await rm(join(this.path, entry), { recursive: true, force: true });
    }
  }
}
