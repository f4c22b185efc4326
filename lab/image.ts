import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { HarborHaError } from "../support/errors.ts";
import { exists } from "./files.ts";
import { unmountUnder } from "./mounts.ts";
import { run } from "./shell.ts";
import { changed, type StepResult, unchanged } from "./steps.ts";

/**
 * How the node image is made. No registry can be reached here, so the image is a debootstrap
 * root filesystem imported with `docker import`. Everything that shapes the tarball is in the
 * recipe, and its hash names the cached tarball: change the recipe and the next up rebuilds.
 */
export interface ImageRecipe {
  readonly tag: string;
  readonly suite: string;
  readonly variant: string;
  readonly include: readonly string[];
  /** tar --exclude patterns, relative to the root ("./usr/share/doc/*"). */
  readonly exclude: readonly string[];
  readonly changes: readonly string[];
}

export const IMAGE_LABEL = "org.harbor-ha.recipe";

/**
 * One image for every service the product runs on a node: PostgreSQL, keepalived (VRRP only, in a
 * host-network container), Harbor's Redis, and the lab's Harbor stand-in (Debian's
 * docker-registry, and nodejs for its small API server).
 */
export const NODE_IMAGE_RECIPE: ImageRecipe = {
  tag: "harbor-ha/node:bookworm",
  suite: "bookworm",
  variant: "minbase",
  include: ["postgresql-15", "iproute2", "procps", "keepalived", "docker-registry", "nodejs", "redis-server"],
  exclude: [
    "./var/cache/apt/*",
    "./var/lib/apt/lists/*",
    "./var/cache/debconf/*-old",
    "./var/log/*",
    "./usr/share/doc/*",
    "./usr/share/man/*",
    "./usr/share/info/*",
    "./usr/share/locale/*",
    "./usr/share/lintian/*",
    // Locale sources serve only localedef; C.UTF-8 is compiled in /usr/lib/locale.
    "./usr/share/i18n/*",
    // The cluster the package's postinst made: the product runs initdb on the node's disk.
    "./var/lib/postgresql/*",
    "./etc/postgresql/*",
    // The LLVM JIT: PostgreSQL runs with jit=off and treats a missing provider as "no JIT".
    "./usr/lib/llvm*",
    "./usr/lib/x86_64-linux-gnu/libLLVM*",
    "./usr/lib/x86_64-linux-gnu/libz3*",
    "./usr/lib/postgresql/15/lib/llvmjit*",
    "./usr/lib/postgresql/15/lib/bitcode",
    // Perl only serves package scripts and postgresql-common's wrappers; the lab runs the
    // server binaries (initdb, postgres, pg_ctl, pg_rewind, pg_basebackup) directly. libperl
    // stays: keepalived loads it (through net-snmp).
    "./usr/bin/perl*",
    "./usr/lib/x86_64-linux-gnu/perl*",
    "./usr/share/perl*",
    // Docker provides /dev, /proc and /sys; /run stays, it holds /run/postgresql for the socket.
    "./dev/*",
    "./proc/*",
    "./sys/*",
    "./tmp/*",
  ],
  changes: [
    "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
  ],
};

export function recipeHash(recipe: ImageRecipe): string {
  return createHash("sha256").update(JSON.stringify(recipe)).digest("hex").slice(0, 12);
}

export function tarballPath(cacheDir: string, recipe: ImageRecipe): string {
  const name = recipe.tag.replace(/[^a-z0-9]+/gi, "-");
  return join(cacheDir, `${name}-${recipeHash(recipe)}.tar`);
}

/** The `docker import -c` changes: the recipe's, plus a label naming the recipe it came from. */
export function importChanges(recipe: ImageRecipe): string[] {
  return [...recipe.changes, `LABEL ${IMAGE_LABEL}=${recipeHash(recipe)}`];
}

/**
 * Finds the mirror that apt is configured with for `suite` (one-line sources.list entries or
 * deb822 .sources files), so debootstrap fetches from wherever this machine already installs
 * packages from. Returns undefined when none serves that suite.
 */
export function debianMirror(
  files: readonly { name: string; text: string }[],
  suite: string,
): string | undefined {
  for (const { name, text } of files) {
    if (name.endsWith(".sources")) {
      for (const paragraph of text.split(/\n\s*\n/)) {
        const field = (key: string) =>
          paragraph
            .match(new RegExp(`^${key}:\\s*(.+)$`, "im"))?.[1]
            ?.trim()
            .split(/\s+/) ?? [];
        const enabled = !/^Enabled:\s*no/im.test(paragraph);
        if (enabled && field("Types").includes("deb") && field("Suites").includes(suite)) {
          const uri = field("URIs")[0];
          if (uri) return uri;
        }
      }
    } else {
      for (const line of text.split("\n")) {
        const match = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/);
        if (match?.[2] === suite && match[1]) return match[1];
      }
    }
  }
  return undefined;
}

async function readAptSources(): Promise<{ name: string; text: string }[]> {
  const files = [{ name: "/etc/apt/sources.list", text: "" }];
  const dir = "/etc/apt/sources.list.d";
  const entries = (await exists(dir)) ? (await readdir(dir)).sort() : [];
  files.push(
    ...entries
      .filter((e) => e.endsWith(".list") || e.endsWith(".sources"))
      .map((e) => ({ name: join(dir, e), text: "" })),
  );
  return Promise.all(
    files.map(async (f) => ({ name: f.name, text: await readFile(f.name, "utf8").catch(() => "") })),
  );
}

/** Builds the tarball unless the cache has it for this recipe. */
export async function ensureImageTarball(cacheDir: string, recipe = NODE_IMAGE_RECIPE): Promise<StepResult> {
  const tarball = tarballPath(cacheDir, recipe);
  if (await exists(tarball)) return unchanged(`cached ${tarball}`);

  const mirror = debianMirror(await readAptSources(), recipe.suite);
  if (!mirror) {
    throw new HarborHaError("LAB_STEP_FAILED", `no apt source serves Debian ${recipe.suite}`, {
      action: "find the Debian mirror",
      hint: `add a 'deb <mirror> ${recipe.suite} main' source to /etc/apt/sources.list(.d)`,
    });
  }
  const buildDir = join(cacheDir, `build-${recipeHash(recipe)}`);
  const rootfs = join(buildDir, "rootfs");
  await discardBuild(buildDir);
  await mkdir(rootfs, { recursive: true });
  const started = performance.now();
  try {
    await run(
      "debootstrap",
      [`--variant=${recipe.variant}`, `--include=${recipe.include.join(",")}`, recipe.suite, rootfs, mirror],
      { timeoutMs: 1_800_000 },
    );
    const partial = `${tarball}.partial`;
    await run(
      "tar",
      ["-C", rootfs, "--numeric-owner", ...recipe.exclude.map((p) => `--exclude=${p}`), "-cf", partial, "."],
      {
        timeoutMs: 600_000,
      },
    );
    await rename(partial, tarball);
  } finally {
    await discardBuild(buildDir);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  return changed(`built ${tarball} from ${mirror} in ${seconds} s`);
}

/** debootstrap mounts /proc and /sys inside the root it builds and may leave them on failure. */
async function discardBuild(buildDir: string): Promise<void> {
  if (!(await exists(buildDir))) return;
  await unmountUnder([buildDir]);
  await rm(buildDir, { recursive: true, force: true });
}
