import { usage, VERBS, type Verb } from "../commands/parse-command.ts";

/** The reply to `/harbor help [verb]`, shown only to the person who asked. */
export function helpText(site: string, topic?: Verb): string {
  if (topic) return `\`${VERBS[topic].usage}\`: ${VERBS[topic].summary}.`;
  return `*harbor-ha* for site \`${site}\`.\n${usage()}`;
}
