import { randomUUID } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SiteConfig } from "../config/schema.ts";
import type { ProbeReading, StorageFacts } from "./observation.ts";
import { failedReading, readProbe } from "./reading.ts";

export function canaryPath(dir: string, node: string): string {
  return join(dir, `.harbor-ha-canary-${node}`);
}

/**
 * Harbor's shared image storage as this node sees it: write a canary file, read it back, delete
 * it. Each node has its own canary name, so two nodes never race on one file.
 *
 * A hung NFS call cannot be cancelled and holds one of libuv's four threads: while an earlier
 * canary is still pending, a new probe does not start another one (it would only pile up hung
 * calls until file and DNS work in the whole agent stalls); it reports the hang instead.
 */
export class StorageProbe {
  private pendingSince: number | undefined;

  constructor(
    private readonly storage: SiteConfig["harbor"]["storage"],
    private readonly node: string,
    private readonly timeoutMs: number,
  ) {}

  async read(): Promise<ProbeReading<StorageFacts>> {
    const storage = this.storage;
    if (storage.kind !== "filesystem") {
      return failedReading(new Error(`not probed: ${storage.kind} storage`), 0);
    }
    if (this.pendingSince !== undefined) {
      const waited = Math.round(performance.now() - this.pendingSince);
      return failedReading(
        new Error(`the previous canary in ${storage.path} is still pending after ${waited} ms`),
        0,
      );
    }
    const canary = this.canary(storage.path);
    this.pendingSince = performance.now();
    const settled = () => {
      this.pendingSince = undefined;
    };
    canary.then(settled, settled);
    return readProbe(this.timeoutMs, `shared storage ${storage.path}`, async () => ({
      path: storage.path,
      latencyMs: await canary,
    }));
  }

  private async canary(dir: string): Promise<number> {
    const started = performance.now();
    const file = canaryPath(dir, this.node);
    const token = `${this.node} ${Date.now()} ${randomUUID()}\n`;
    try {
      await writeFile(file, token, { mode: 0o644 });
      const back = await readFile(file, "utf8");
      if (back !== token) throw new Error(`${file} read back different content than was written`);
    } catch (error) {
      await rm(file, { force: true }).catch(() => {});
      throw error;
    }
    await rm(file);
    return performance.now() - started;
  }
}
