import { readFileSync } from "node:fs";
import { checkDatabase, checkRedis, checkRegistry } from "./checks.ts";
import { parseCoreConfig } from "./config.ts";
import { createCoreServer } from "./server.ts";

/** harbor-core (stand-in): `node harbor-core.cjs /etc/core/config.json`. */
function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

const configPath = process.argv[2] ?? "/etc/core/config.json";
const config = parseCoreConfig(readFileSync(configPath, "utf8"));
const server = createCoreServer(
  config,
  {
    database: () => checkDatabase(config),
    redis: () => checkRedis(config),
    registry: () => checkRegistry(config),
  },
  log,
);

server.on("error", (error: NodeJS.ErrnoException) => {
  // harbor.install reads this line from the container's log to name a taken port.
  process.stderr.write(
    `harbor-core cannot listen on ${config.listen.host}:${config.listen.port}: ${error.code ?? ""} ${error.message}\n`,
  );
  process.exit(1);
});
server.listen(config.listen.port, config.listen.host, () => {
  log(
    `harbor-core ${config.harborVersion} (harbor-ha stand-in) listening on ${config.listen.host}:${config.listen.port}`,
  );
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    server.close();
    setTimeout(() => process.exit(0), 1_000).unref();
  });
}
