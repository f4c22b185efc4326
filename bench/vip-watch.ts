import { createInterface } from "node:readline";
import { startTracked, stopTracked, type Tracked } from "./processes.ts";

interface AddressEvent {
  readonly node: string;
  readonly at: number;
  readonly added: boolean;
}

/**
 * When the VIP arrives on a node, as it happens: one `ip monitor address` per node namespace
 * (the kernel's own notifications; no polling, so nothing is missed between two looks).
 */
export class VipWatch {
  private readonly events: AddressEvent[] = [];
  private readonly monitors: Tracked[] = [];

  constructor(
    private readonly vip: string,
    private readonly nodes: readonly string[],
    private readonly logFile: string,
  ) {}

  start(): void {
    for (const node of this.nodes) {
      const monitor = startTracked(`ip-monitor:${node}`, ["ip", "-o", "monitor", "address"], {
        netns: node,
        log: this.logFile,
      });
      this.monitors.push(monitor);
      if (!monitor.child.stdout) continue;
      const lines = createInterface({ input: monitor.child.stdout });
      lines.on("line", (line) => {
        if (!line.includes(` ${this.vip}/`)) return;
        this.events.push({ node, at: Date.now(), added: !line.startsWith("Deleted") });
      });
    }
  }

  /** The first time after `since` that the VIP was added on `node`. */
  arrivedAt(node: string, since: number): number | undefined {
    return this.events.find((event) => event.node === node && event.added && event.at >= since)?.at;
  }

  async stop(): Promise<void> {
    for (const monitor of this.monitors) await stopTracked(monitor);
  }
}
