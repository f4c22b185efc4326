import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { COMPONENT_LABEL } from "../../jobs/adapters/containers.ts";
import { type DockerEvent, eventTrigger, JsonLineSplitter } from "../../probes/docker-event-trigger.ts";
import {
  delayBeforeNextRound,
  describeEvents,
  MAX_NAMED_EVENTS,
  planRound,
} from "../../probes/round-plan.ts";

function containerEvent(action: string, attributes: Record<string, string> = {}): DockerEvent {
  return {
    Type: "container",
    Action: action,
    time: 1_796_000_000,
    Actor: {
      ID: "4f1c0de5a1b2c3d4e5f6",
      Attributes: { name: "postgres-node02", [COMPONENT_LABEL]: "postgres", ...attributes },
    },
  };
}

describe("which Docker events trigger an observation", () => {
  test("a managed container's die, with its exit code", () => {
    assert.equal(eventTrigger(containerEvent("die", { exitCode: "137" })), "postgres-node02 die (exit 137)");
  });

  test("a kill names its signal; stop, start and oom name the container", () => {
    assert.equal(eventTrigger(containerEvent("kill", { signal: "9" })), "postgres-node02 kill (signal 9)");
    for (const action of ["stop", "start", "oom"]) {
      assert.equal(eventTrigger(containerEvent(action)), `postgres-node02 ${action}`);
    }
  });

  test("Docker 20.10's older `status` field counts as the action", () => {
    const { Action: _, ...old } = containerEvent("die");
    assert.equal(eventTrigger({ ...old, status: "die" }), "postgres-node02 die");
  });

  test("other actions, other object types and unmanaged containers do not", () => {
    assert.equal(eventTrigger(containerEvent("exec_start: pg_isready")), undefined);
    assert.equal(eventTrigger(containerEvent("health_status: healthy")), undefined);
    assert.equal(eventTrigger({ ...containerEvent("die"), Type: "network" }), undefined);
    assert.equal(
      eventTrigger({ Type: "container", Action: "die", Actor: { Attributes: { name: "someone-elses" } } }),
      undefined,
    );
  });

  test("a container without a name is named by its short id", () => {
    const event: DockerEvent = {
      Type: "container",
      Action: "stop",
      Actor: { ID: "4f1c0de5a1b2c3d4e5f6", Attributes: { [COMPONENT_LABEL]: "keepalived" } },
    };
    assert.equal(eventTrigger(event), "4f1c0de5a1b2 stop");
  });
});

describe("Docker's event stream, split into events", () => {
  test("an event split across chunks is read once it is whole", () => {
    const lines = new JsonLineSplitter();
    const line = `${JSON.stringify(containerEvent("die"))}\n`;
    assert.deepEqual(lines.push(line.slice(0, 20)), []);
    const [event] = lines.push(line.slice(20));
    assert.equal(event?.Action, "die");
  });

  test("two events in one chunk are two events; blank and garbled lines are skipped", () => {
    const lines = new JsonLineSplitter();
    const events = lines.push(
      `${JSON.stringify(containerEvent("kill"))}\n\nnot json\n${JSON.stringify(containerEvent("die"))}\n`,
    );
    assert.deepEqual(
      events.map((event) => event.Action),
      ["kill", "die"],
    );
  });
});

describe("what the next round does", () => {
  test("the first round waits for every probe, slow ones included", () => {
    assert.deepEqual(planRound([], true), { trigger: "start", slowProbes: "await", afterDockerEvent: false });
  });

  test("a Docker event makes a docker-event round that confirms container lists and starts the slow probes without waiting", () => {
    assert.deepEqual(
      planRound(["postgres-node02 kill (signal 9)", "postgres-node02 die (exit 137)"], false),
      {
        trigger: "docker-event",
        triggerDetail: "postgres-node02 kill (signal 9), postgres-node02 die (exit 137)",
        slowProbes: "start-now",
        afterDockerEvent: true,
      },
    );
  });

  test("a quiet interval round carries the slow probes' last readings, starting them only when due", () => {
    assert.deepEqual(planRound([], false), {
      trigger: "interval",
      slowProbes: "when-due",
      afterDockerEvent: false,
    });
  });

  test("an event that arrives before the first round is named in the start observation", () => {
    assert.deepEqual(planRound(["keepalived-node01 start"], true), {
      trigger: "start",
      triggerDetail: "keepalived-node01 start",
      slowProbes: "await",
      afterDockerEvent: true,
    });
  });

  test("a burst of events is named once each, the rest counted", () => {
    const burst = Array.from({ length: MAX_NAMED_EVENTS + 3 }, (_, i) => `c${i} die`);
    assert.equal(
      describeEvents([...burst, "c0 die"]),
      `${burst.slice(0, MAX_NAMED_EVENTS).join(", ")} and 3 more`,
    );
  });

  test("the interval counts from a round's start; a slow round is followed at once", () => {
    assert.equal(delayBeforeNextRound(500, 1_000, 1_120), 380);
    assert.equal(delayBeforeNextRound(500, 1_000, 1_700), 0);
  });
});
