import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readEnvFile } from "../../lab/index.ts";

const CLI = fileURLToPath(new URL("../../bin/harbor-ha.js", import.meta.url));

/** Runs `harbor-ha deploy` with the lab's secrets in its environment, its output shown live. */
export async function deployDemo(config: string, envFile: string): Promise<boolean> {
  const secrets = await readEnvFile(envFile);
  const child = spawn(process.execPath, [CLI, "--config", config, "deploy"], {
    env: { ...process.env, ...secrets },
    stdio: "inherit",
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return code === 0;
}
