/**
 * `/harbor <verb> [args]` as text in, a typed command or a short usage reply out. Pure: the
 * handler acks with the reply of a bad command and never runs anything for it.
 */

export interface VerbHelp {
  readonly usage: string;
  readonly summary: string;
}

export const VERBS = {
  help: { usage: "/harbor help [verb]", summary: "what each command does" },
  status: { usage: "/harbor status", summary: "post the site's status card in this channel" },
  history: { usage: "/harbor history [N]", summary: "the last N audit entries (default 10, at most 50)" },
  deploy: {
    usage: "/harbor deploy [--dry-run] [--harbor-version X.Y.Z]",
    summary: "post the deploy plan; an approver's Approve runs it, with progress in the thread",
  },
  lock: { usage: "/harbor lock", summary: "who is deploying, and since when" },
  switchover: {
    usage: "/harbor switchover [node] [--dry-run]",
    summary:
      "planned: the standby catches up with every write, then becomes the primary; the old primary rejoins",
  },
  failover: {
    usage: "/harbor failover [node] [--dry-run]",
    summary: "forced promotion of the standby; always asks for approval and says what it may lose",
  },
  rejoin: {
    usage: "/harbor rejoin <node> [--reclone] [--dry-run]",
    summary: "an old primary back as a standby (pg_rewind); --reclone may re-copy it, after approval",
  },
  pause: {
    usage: "/harbor pause",
    summary: "automation off: problems are still alerted, plans are asked, not run",
  },
  resume: { usage: "/harbor resume", summary: "automation on again" },
} as const satisfies Readonly<Record<string, VerbHelp>>;

export type Verb = keyof typeof VERBS;

export type ParsedCommand =
  | { readonly ok: true; readonly verb: "help"; readonly topic?: Verb }
  | { readonly ok: true; readonly verb: "status" }
  | { readonly ok: true; readonly verb: "history"; readonly count: number }
  | { readonly ok: true; readonly verb: "deploy"; readonly dryRun: boolean; readonly harborVersion?: string }
  | { readonly ok: true; readonly verb: "lock" }
  | { readonly ok: true; readonly verb: "pause" }
  | {
      readonly ok: true;
      readonly verb: "switchover" | "failover" | "rejoin";
      readonly node?: string;
      readonly reclone: boolean;
      readonly dryRun: boolean;
    }
  | { readonly ok: true; readonly verb: "resume" }
  | { readonly ok: false; readonly reply: string };

/** Longer text than this is refused before it is looked at. */
export const MAX_COMMAND_TEXT = 500;
export const HISTORY_DEFAULT = 10;
export const HISTORY_MAX = 50;

function isVerb(word: string): word is Verb {
  return Object.hasOwn(VERBS, word);
}

export function usage(): string {
  const lines = Object.values(VERBS).map((verb) => `\`${verb.usage}\` ${verb.summary}`);
  return `Usage:\n${lines.join("\n")}`;
}

function refuse(problem: string, verb?: Verb): ParsedCommand {
  return { ok: false, reply: `${problem}\n${verb ? `Usage: \`${VERBS[verb].usage}\`` : usage()}` };
}

/** Text that is safe to quote back in a reply: no mentions, no formatting, not too long. */
function quote(text: string): string {
  const flat = text.replace(/[<>&`*_~]/g, "").slice(0, 40);
  return `\`${flat}${text.length > 40 ? "…" : ""}\``;
}

export function parseCommand(text: string): ParsedCommand {
  if (text.length > MAX_COMMAND_TEXT) {
    return refuse(`That command is ${text.length} characters long; the limit is ${MAX_COMMAND_TEXT}.`);
  }
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [first, ...args] = words;
  if (first === undefined) return { ok: true, verb: "help" };
  const verb = first.toLowerCase();
  if (!isVerb(verb)) return refuse(`Unknown command ${quote(first)}.`);
  switch (verb) {
    case "help": {
      const [topic, ...extra] = args;
      if (topic === undefined) return { ok: true, verb };
      if (extra.length > 0 || !isVerb(topic.toLowerCase()))
        return refuse(`No help for ${quote(args.join(" "))}.`, "help");
      return { ok: true, verb, topic: topic.toLowerCase() as Verb };
    }
    case "status":
      return args.length === 0 ? { ok: true, verb } : refuse(`\`status\` takes no arguments.`, verb);
    case "lock":
    case "pause":
    case "resume":
      return args.length === 0 ? { ok: true, verb } : refuse(`\`${verb}\` takes no arguments.`, verb);
    case "deploy":
      return parseDeploy(args);
    case "switchover":
    case "failover":
    case "rejoin":
      return parseOperation(verb, args);
    case "history": {
      const [count, ...extra] = args;
      if (count === undefined) return { ok: true, verb, count: HISTORY_DEFAULT };
      const value = Number(count);
      if (extra.length > 0 || !/^\d+$/.test(count) || value < 1 || value > HISTORY_MAX) {
        return refuse(
          `N must be a whole number from 1 to ${HISTORY_MAX}, not ${quote(args.join(" "))}.`,
          verb,
        );
      }
      return { ok: true, verb, count: value };
    }
  }
}

function parseDeploy(args: readonly string[]): ParsedCommand {
  let dryRun = false;
  let harborVersion: string | undefined;
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] ?? "";
    if (arg === "--dry-run" && !dryRun) {
      dryRun = true;
    } else if (arg === "--harbor-version" && harborVersion === undefined) {
      const value = args[++index];
      if (value === undefined || !/^\d+\.\d+\.\d+$/.test(value)) {
        return refuse(
          `--harbor-version needs a version such as 2.2.2, not ${quote(value ?? "nothing")}.`,
          "deploy",
        );
      }
      harborVersion = value;
    } else {
      return refuse(`\`deploy\` does not take ${quote(arg)}.`, "deploy");
    }
  }
  return harborVersion === undefined
    ? { ok: true, verb: "deploy", dryRun }
    : { ok: true, verb: "deploy", dryRun, harborVersion };
}

function parseOperation(verb: "switchover" | "failover" | "rejoin", args: readonly string[]): ParsedCommand {
  let dryRun = false;
  let reclone = false;
  let node: string | undefined;
  for (const arg of args) {
    if (arg === "--dry-run" && !dryRun) dryRun = true;
    else if (arg === "--reclone" && verb === "rejoin" && !reclone) reclone = true;
    else if (/^[a-z][a-z0-9-]{0,30}$/.test(arg) && node === undefined) node = arg;
    else return refuse(`\`${verb}\` does not take ${quote(arg)}.`, verb);
  }
  if (verb === "rejoin" && node === undefined) return refuse("`rejoin` needs the node to rejoin.", verb);
  return node === undefined ? { ok: true, verb, reclone, dryRun } : { ok: true, verb, node, reclone, dryRun };
}
