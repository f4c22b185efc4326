/** `npm run bench [-- --quick] [--runs N] [--only a,b] [--no-chat]`, parsed once. Pure. */
export interface BenchOptions {
  readonly quick: boolean;
  readonly runs: number;
  readonly systems: readonly string[];
  readonly chat: boolean;
  readonly limitMs: number;
}

export const SYSTEM_KEYS = ["ours", "ours-sync", "runbook", "patroni"] as const;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = Number(value("--runs") ?? (quick ? 5 : 20));
  if (!Number.isInteger(runs) || runs < 1 || runs > 200) throw new Error("--runs must be 1..200");
  const only = value("--only")?.split(",").filter(Boolean) ?? [...SYSTEM_KEYS];
  const unknown = only.filter((key) => !(SYSTEM_KEYS as readonly string[]).includes(key));
  if (unknown.length > 0)
    throw new Error(`--only: unknown ${unknown.join(", ")} (${SYSTEM_KEYS.join(", ")})`);
  return { quick, runs, systems: only, chat: !argv.includes("--no-chat"), limitMs: 90_000 };
}
