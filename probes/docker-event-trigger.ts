import { COMPONENT_LABEL } from "../jobs/adapters/containers.ts";

/**
 * Which Docker events make the agent observe at once (pure). A managed container that dies,
 * stops, starts, is killed or runs out of memory changes what the controller must know now,
 * not at the next interval.
 */
export const TRIGGERING_ACTIONS = ["die", "stop", "start", "kill", "oom"] as const;

/** The part of Docker's event JSON the agent reads. */
export interface DockerEvent {
  readonly Type?: string;
  readonly Action?: string;
  /** The older name of Action, still sent by Docker 20.10. */
  readonly status?: string;
  /** Seconds since the epoch. */
  readonly time?: number;
  readonly Actor?: { readonly ID?: string; readonly Attributes?: Readonly<Record<string, string>> };
}

/** The filters sent to Docker, so unrelated containers' events never reach the agent. */
export const DOCKER_EVENT_FILTERS = {
  type: ["container"],
  event: [...TRIGGERING_ACTIONS],
  label: [COMPONENT_LABEL],
};

/**
 * "postgres-node02 die (exit 137)" for an event that triggers an observation, undefined for any
 * other. The filters above already ask Docker for these only; the check is repeated here because
 * a daemon's filter support varies by version, and a wrong trigger costs a whole round.
 */
export function eventTrigger(event: DockerEvent): string | undefined {
  if (event.Type !== "container") return undefined;
  const action = event.Action ?? event.status ?? "";
  if (!(TRIGGERING_ACTIONS as readonly string[]).includes(action)) return undefined;
  const attributes = event.Actor?.Attributes ?? {};
  if (!attributes[COMPONENT_LABEL]) return undefined;
  const name = attributes.name ?? event.Actor?.ID?.slice(0, 12) ?? "a container";
  if (action === "die" && attributes.exitCode !== undefined)
    return `${name} die (exit ${attributes.exitCode})`;
  if (action === "kill" && attributes.signal !== undefined)
    return `${name} kill (signal ${attributes.signal})`;
  return `${name} ${action}`;
}

/**
 * Docker streams one JSON object per line, but a chunk can end mid-line: this keeps the tail
 * until the rest arrives. Lines that are not JSON objects are skipped.
 */
export class JsonLineSplitter {
  private tail = "";

  push(chunk: string): DockerEvent[] {
    const lines = (this.tail + chunk).split("\n");
    this.tail = lines.pop() ?? "";
    const events: DockerEvent[] = [];
    for (const line of lines) {
      if (line.trim() === "") continue;
      try {
        const value: unknown = JSON.parse(line);
        if (typeof value === "object" && value !== null) events.push(value as DockerEvent);
      } catch {
        // A garbled line is one lost event; the interval round still sees its effect.
      }
    }
    return events;
  }
}
