import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { promisify } from "node:util";
import { LAB_BRIDGE, labDown, labPaths, labUp, type StepEvent } from "../../lab/index.ts";
import type { Logger } from "../../support/logger.ts";

const execFileAsync = promisify(execFile);

/** A lab is up when its state file or its bridge exists (a half-made one counts too). */
export async function labIsUp(): Promise<boolean> {
  const bridge = await execFileAsync("ip", ["link", "show", "dev", LAB_BRIDGE]).then(
    () => true,
    () => false,
  );
  return bridge || existsSync(labPaths().stateFile);
}

/**
 * The lab a test file brings up for itself and always takes down again, even after a failed
 * assertion. It refuses to start on a machine where a lab is already up: a test never tears down
 * somebody else's lab.
 */
export function ownLab(logger: Logger) {
  let broughtUpHere = false;
  return {
    async up(): Promise<StepEvent[]> {
      assert.equal(process.getuid?.(), 0, "lab tests need root (namespaces, bridges, daemons)");
      if (await labIsUp()) {
        assert.fail(
          `a lab is already up on this machine (${labPaths().stateFile} or bridge ${LAB_BRIDGE}); ` +
            "this test will not tear it down: run `harbor-ha lab down` first, then run the test again",
        );
      }
      broughtUpHere = true;
      const events: StepEvent[] = [];
      await labUp({ logger, onStep: (event) => events.push(event) });
      return events;
    },
    async down(): Promise<void> {
      if (broughtUpHere) await labDown({ logger });
    },
  };
}
