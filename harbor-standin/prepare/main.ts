import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { HarborYmlInvalid, parseHarborYml } from "./harbor-yml.ts";
import { composeFile, coreConfig, registryConfig } from "./render.ts";

/**
 * The stand-in's prepare program. Like Harbor's goharbor/prepare container it sees harbor.yml at
 * /input, the data_volume at /data, the installer folder at /compose_location and the config
 * output at /config, and writes the services' configs and docker-compose.yml.
 */
const PATHS = {
  input: "/input/harbor.yml",
  data: "/data",
  config: "/config",
  compose: "/compose_location",
} as const;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function readTrimmed(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, "utf8")).trim();
  } catch {
    return undefined;
  }
}

/** Harbor's prepare keeps a secret that exists and generates one that does not. */
async function keptSecret(name: string): Promise<string> {
  const path = join(PATHS.data, "secret", "harbor-ha", name);
  const existing = await readTrimmed(path);
  if (existing) return existing;
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const generated = [...randomBytes(16)].map((byte) => alphabet[byte % alphabet.length]).join("");
  await write(path, generated, 0o600);
  say(`Generated ${path}: the other instances of this site need the same one`);
  return generated;
}

async function write(path: string, content: string, mode: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, content, { mode });
  say(`Generated configuration file: ${path}`);
}

async function main(): Promise<void> {
  const harbor = parseHarborYml(await readFile(PATHS.input, "utf8"));
  const image = await readTrimmed(join(PATHS.compose, "standin", "image"));
  const versionTag = await readTrimmed(join(PATHS.compose, "VERSION"));
  if (!image || !versionTag) throw new Error("the bundle lacks standin/image or VERSION: rebuild it");
  if (harbor.version && `v${harbor.version}` !== versionTag) {
    say(`note: harbor.yml _version ${harbor.version} differs from this bundle's ${versionTag}`);
  }
  const input = {
    harbor,
    secrets: { registryHttpSecret: await keptSecret("registry_http_secret") },
    image,
    versionTag,
  };
  await write(join(PATHS.config, "registry", "config.yml"), registryConfig(input), 0o600);
  await write(
    join(PATHS.config, "core", "config.json"),
    `${JSON.stringify(coreConfig(input), null, 2)}\n`,
    0o600,
  );
  await write(join(PATHS.compose, "docker-compose.yml"), composeFile(input), 0o644);
  say("Successfully called func: prepare (harbor-ha stand-in)");
}

main().catch((error: unknown) => {
  const message = error instanceof HarborYmlInvalid ? `harbor.yml: ${error.message}` : String(error);
  process.stderr.write(`prepare failed: ${message}\n`);
  process.exit(1);
});
