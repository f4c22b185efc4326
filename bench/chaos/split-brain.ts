import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { holdsAddress } from "../../jobs/deploy/keepalived-observe.ts";

const execFileAsync = promisify(execFile);

/** One look at the site from inside each node's namespace. */
export interface SiteSample {
  readonly at: number;
  /** Nodes holding the VIP on a link that is up (a cut node's VIP reaches nobody). */
  readonly vipHolders: readonly string[];
  /** Nodes whose PostgreSQL answered as a primary. */
  readonly writable: readonly string[];
}

export interface SplitBrainMoment {
  readonly kind: "two writable primaries" | "two VIP holders";
  readonly at: number;
  readonly durationMs: number;
  readonly nodes: readonly string[];
}

/**
 * Split brain in a series of samples (pure): two writable primaries in any one sample, or two
 * VIP holders for longer than one VRRP advert interval (shorter is an election under way).
 */
export function splitBrainMoments(
  samples: readonly SiteSample[],
  advertIntervalMs: number,
): SplitBrainMoment[] {
  const moments: SplitBrainMoment[] = [];
  for (const sample of samples) {
    if (sample.writable.length > 1) {
      moments.push({ kind: "two writable primaries", at: sample.at, durationMs: 0, nodes: sample.writable });
    }
  }
  let runStart: SiteSample | undefined;
  let last: SiteSample | undefined;
  const closeRun = () => {
    if (runStart && last && last.at - runStart.at > advertIntervalMs) {
      moments.push({
        kind: "two VIP holders",
        at: runStart.at,
        durationMs: last.at - runStart.at,
        nodes: runStart.vipHolders,
      });
    }
    runStart = undefined;
  };
  for (const sample of samples) {
    if (sample.vipHolders.length > 1) {
      runStart ??= sample;
      last = sample;
    } else {
      closeRun();
    }
  }
  closeRun();
  return moments.sort((a, b) => a.at - b.at);
}

export interface WatchedNode {
  readonly name: string;
  readonly address: string;
}

async function inNode(node: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const { stdout } = await execFileAsync("ip", ["netns", "exec", node, ...argv], {
    timeout: 2_000,
    env: { ...process.env, ...env },
  });
  return stdout;
}

/**
 * Samples the site every `intervalMs` from inside the nodes' namespaces (so a node cut off the
 * network is still seen): its VIP and its link state, and whether its PostgreSQL takes writes
 * (psql with a 1 s connect timeout: a frozen server counts as not writable).
 */
export class SplitBrainWatch {
  private readonly samples: SiteSample[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nodes: readonly WatchedNode[],
    private readonly vip: string,
    private readonly iface: string,
    private readonly password: string,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  moments(advertIntervalMs: number): SplitBrainMoment[] {
    return splitBrainMoments(this.samples, advertIntervalMs);
  }

  get sampleCount(): number {
    return this.samples.length;
  }

  private async sampleNode(node: WatchedNode): Promise<{ vip: boolean; writable: boolean }> {
    const [addresses, link, role] = await Promise.all([
      inNode(node.name, ["ip", "-o", "-4", "addr", "show", "dev", this.iface]).catch(() => ""),
      inNode(node.name, ["ip", "-o", "link", "show", "dev", this.iface]).catch(() => ""),
      inNode(
        node.name,
        [
          "psql",
          "-h",
          node.address,
          "-U",
          "postgres",
          "-d",
          "postgres",
          "-Atc",
          "select not pg_is_in_recovery()",
        ],
        { PGPASSWORD: this.password, PGCONNECT_TIMEOUT: "1" },
      ).catch(() => ""),
    ]);
    const linkUp = /[<,]UP[,>]/.test(link);
    return { vip: linkUp && holdsAddress(addresses, this.vip), writable: role.trim() === "t" };
  }

  private async run(): Promise<void> {
    // Bounded: a chaos run of 50 faults ends well within 3 hours.
    const deadline = Date.now() + 3 * 60 * 60 * 1000;
    while (this.running && Date.now() < deadline) {
      const at = Date.now();
      const looks = await Promise.all(this.nodes.map((node) => this.sampleNode(node)));
      this.samples.push({
        at,
        vipHolders: this.nodes.filter((_, i) => looks[i]?.vip).map((node) => node.name),
        writable: this.nodes.filter((_, i) => looks[i]?.writable).map((node) => node.name),
      });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, this.intervalMs - (Date.now() - at))));
    }
  }
}
