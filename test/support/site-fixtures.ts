import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";

const EXAMPLE = fileURLToPath(new URL("../../config/site.example.yaml", import.meta.url));

/** The commented example config, as a valid site's YAML text. */
export function exampleSiteYaml(): string {
  return readFileSync(EXAMPLE, "utf8");
}

/** The example with values replaced (or deleted, with undefined) at the given paths; comments kept. */
export function siteYamlWith(changes: Array<[path: Array<string | number>, value: unknown]>): string {
  const document = parseDocument(exampleSiteYaml());
  for (const [path, value] of changes) {
    if (value === undefined) document.deleteIn(path);
    else document.setIn(path, value);
  }
  return document.toString();
}

/** The 1-based line on which `needle` first appears in `text` after the line holding `after`. */
export function lineOf(text: string, needle: string, after?: string): number {
  const lines = text.split("\n");
  const start = after ? lines.findIndex((line) => line.includes(after)) : 0;
  const index = lines.findIndex((line, i) => i >= start && line.includes(needle));
  if (index < 0) throw new Error(`fixture: ${needle} not found`);
  return index + 1;
}
