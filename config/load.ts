import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { HarborHaError } from "../support/errors.ts";
import { crossFieldProblems, crossFieldWarnings } from "./cross-rules.ts";
import { type SiteConfig, siteSchema } from "./schema.ts";

/** A problem with its place in the file, ready to print: `site.yaml:14 nodes[1].address: not an IPv4 address`. */
export interface LocatedProblem {
  readonly file: string;
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export interface LoadedSite {
  readonly site: SiteConfig;
  readonly file: string;
  readonly warnings: readonly LocatedProblem[];
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === "number") return `${text}[${key}]`;
    return text === "" ? String(key) : `${text}.${String(key)}`;
  }, "");
}

export function formatProblem(problem: LocatedProblem): string {
  const where = problem.path === "" ? "" : ` ${problem.path}`;
  return `${basename(problem.file)}:${problem.line}${where}: ${problem.message}`;
}

/** zod's wording is for developers; these are for operators editing a YAML file. */
function operatorMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_type" && issue.input === undefined) return "is required";
  if (issue.code === "unrecognized_keys")
    return `unknown key (allowed keys are listed in config/site.example.yaml)`;
  if (issue.code === "invalid_union" && "discriminator" in issue) return "unknown kind";
  return issue.message;
}

/** An unknown key is located at the key itself, not at the object around it. */
function issuePaths(issue: z.core.$ZodIssue): PropertyKey[][] {
  if (issue.code === "unrecognized_keys") return issue.keys.map((key) => [...issue.path, key]);
  return [[...issue.path]];
}

/**
 * Reads and validates a site file. Every problem is reported at once, each with its line;
 * nothing is returned unless the whole file is valid.
 */
export async function loadSiteConfig(file: string): Promise<LoadedSite> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw new HarborHaError("CONFIG_UNREADABLE", `cannot read ${file}: ${(cause as Error).message}`, {
      action: "load the site config",
      hint: "pass the site file with --config FILE or HARBOR_HA_CONFIG; config/site.example.yaml is a commented start",
      context: { file },
      cause,
    });
  }
  return parseSiteConfig(text, file);
}

export function parseSiteConfig(text: string, file: string): LoadedSite {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const lineOf = (offset: number | undefined) =>
    offset === undefined ? 1 : lineCounter.linePos(offset).line;

  /** The line of the deepest node that exists along the path (a missing key points at its parent). */
  const locate = (problem: { path: readonly PropertyKey[]; message: string }): LocatedProblem => {
    const path = problem.path.filter((key): key is string | number => typeof key !== "symbol");
    for (let depth = path.length; depth >= 0; depth -= 1) {
      const node = document.getIn(path.slice(0, depth), true) as
        | { range?: [number, number, number] }
        | undefined;
      // A key's line is more helpful than its value's (a nested map starts on the next line).
      const pair = depth > 0 ? findKeyLine(path.slice(0, depth)) : undefined;
      if (pair !== undefined) return { file, line: pair, path: formatPath(path), message: problem.message };
      if (node?.range)
        return { file, line: lineOf(node.range[0]), path: formatPath(path), message: problem.message };
    }
    return { file, line: 1, path: formatPath(path), message: problem.message };
  };

  const findKeyLine = (path: (string | number)[]): number | undefined => {
    const last = path[path.length - 1];
    if (typeof last !== "string") return undefined;
    const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
    const items = (
      parent as { items?: Array<{ key?: { value?: unknown; range?: [number, number, number] } }> }
    )?.items;
    const pair = items?.find((item) => item.key?.value === last);
    return pair?.key?.range ? lineOf(pair.key.range[0]) : undefined;
  };

  if (document.errors.length > 0) {
    throw invalid(
      file,
      document.errors.map((error) => ({
        file,
        line: lineOf(error.pos[0]),
        path: "",
        message: `YAML: ${error.message.split("\n")[0]}`,
      })),
    );
  }

  const parsed = siteSchema.safeParse(document.toJS() ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) =>
      issuePaths(issue).map((path) => locate({ path, message: operatorMessage(issue) })),
    );
    throw invalid(file, problems);
  }
  const site = parsed.data;
  const crossProblems = crossFieldProblems(site);
  if (crossProblems.length > 0) throw invalid(file, crossProblems.map(locate));
  return { site, file, warnings: crossFieldWarnings(site).map(locate) };
}

function invalid(file: string, problems: LocatedProblem[]): HarborHaError {
  const sorted = [...problems].sort((a, b) => a.line - b.line);
  return new HarborHaError(
    "CONFIG_INVALID",
    `${basename(file)} has ${sorted.length} problem${sorted.length === 1 ? "" : "s"}:\n${sorted.map((p) => `  ${formatProblem(p)}`).join("\n")}`,
    {
      action: "validate the site config",
      hint: "fix each line named above; `harbor-ha config check FILE` re-checks without doing anything",
      context: { file, problems: sorted },
    },
  );
}
