import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { SiteConfig } from "../../config/schema.ts";
import { describeHarborHealth, harborBaseUrl, readHarborHealth } from "./harbor-health.ts";
import { blobFile, buildOciLayout, diffId, readPulledImage } from "./harbor-oci-layout.ts";
import { type ClientRun, failureReason, Skopeo } from "./harbor-skopeo.ts";
import {
  failedOutcome,
  type StepMode,
  type StepOutcome,
  unchangedOutcome,
  wouldChange,
} from "./step-contract.ts";

/**
 * Runbook step 4, from the client side (the operations host, never an agent): Harbor's health
 * through the VIP, then a real registry client logs in, pushes and pulls a small image through
 * VIP:port with the admin credentials, and is refused without them. It changes nothing on the
 * site but one small test image, so a second deploy still reads "unchanged" here.
 */

export const CLIENT_CHECK_REPOSITORY = "library/harbor-ha-check";
const ADMIN = "admin";
const TAG = "latest";

/** Anonymous GET /v2/: a registry behind auth answers 401 with a challenge a client can follow. */
async function anonymousApiRoot(
  baseUrl: string,
): Promise<{ status: number; challenge: string | null } | string> {
  try {
    const response = await fetch(`${baseUrl}/v2/`, { signal: AbortSignal.timeout(5_000) });
    await response.arrayBuffer();
    return { status: response.status, challenge: response.headers.get("www-authenticate") };
  } catch (error) {
    return (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
  }
}

async function writeLayout(dir: string, files: ReadonlyMap<string, Buffer>): Promise<void> {
  for (const [path, content] of files) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** Whether the pulled layout holds the pushed image: the same config, the same layer content. */
async function pulledMatches(
  dir: string,
  image: ReturnType<typeof buildOciLayout>,
): Promise<string | undefined> {
  const read = async (path: string) => readFile(join(dir, path)).catch(() => undefined);
  const index = await read("index.json");
  const manifestDigest = (
    JSON.parse(index?.toString("utf8") ?? "{}") as { manifests?: { digest?: string }[] }
  ).manifests?.[0]?.digest;
  const manifest = manifestDigest ? await read(blobFile(manifestDigest)) : undefined;
  const pulled = readPulledImage((path) => (path === "index.json" ? index : manifest));
  if (pulled.configDigest !== image.configDigest) return `config ${pulled.configDigest ?? "missing"}`;
  const [layerDigest] = pulled.layerDigests;
  const layer = layerDigest ? await read(blobFile(layerDigest)) : undefined;
  if (!layer) return "no layer";
  const content = diffId(layer);
  return content === image.layerDigest ? undefined : `layer content ${content}`;
}

const seconds = (run: ClientRun) => `${(run.ms / 1000).toFixed(1)} s`;

export async function checkHarborAsClient(
  site: SiteConfig,
  adminPassword: string,
  mode: StepMode = "apply",
): Promise<StepOutcome> {
  const port = site.harbor.httpPort;
  const registry = `${site.vip.address}:${port}`;
  const baseUrl = harborBaseUrl(site.vip.address, port);
  const output: string[] = [];

  const reading = await readHarborHealth(baseUrl);
  if (!reading.ok || !reading.health.healthy) {
    const why = reading.ok ? describeHarborHealth(reading.health) : reading.error;
    if (mode === "check") {
      return wouldChange(
        `Harbor is not serving through ${registry} yet (${why}); after the install: log in, push, pull`,
      );
    }
    return failedOutcome(
      `Harbor through the VIP ${registry} is not healthy: ${why}`,
      "each node's harbor.install verified its own health: check that the VIP is held by a node (ip addr on the nodes) and read the failing component's error",
    );
  }
  output.push(`health through ${registry}: ${describeHarborHealth(reading.health)}`);

  const anonymous = await anonymousApiRoot(baseUrl);
  if (typeof anonymous === "string" || anonymous.status !== 401 || !anonymous.challenge) {
    const what = typeof anonymous === "string" ? anonymous : `HTTP ${anonymous.status}`;
    return failedOutcome(
      `${registry}/v2/ without credentials answered ${what}, not 401 with a challenge`,
      "the registry must refuse anonymous clients: check harbor.yml and the core's auth",
    );
  }
  output.push(`GET /v2/ without credentials: 401, ${anonymous.challenge}`);

  const home = await mkdtemp(join(tmpdir(), "harbor-ha-client-"));
  try {
    const skopeo = new Skopeo({ home, registry });
    const version = await skopeo.version();
    if (version.code !== 0) {
      return failedOutcome(
        "skopeo, the registry client of the client check, does not run on this host",
        "install it on the operations host: apt-get install skopeo",
        version.output,
      );
    }
    const authFile = join(home, "auth.json");
    const wrong = await skopeo.login(join(home, "wrong.json"), ADMIN, `${adminPassword}-wrong`);
    if (wrong.code === 0) {
      return failedOutcome(
        `login to ${registry} with a wrong password succeeded`,
        "the core must check passwords",
      );
    }
    output.push(`login with a wrong password: refused (${failureReason(wrong.output)})`);
    const login = await skopeo.login(authFile, ADMIN, adminPassword);
    if (login.code !== 0) {
      return failedOutcome(
        `login to ${registry} as ${ADMIN} failed`,
        "the admin password the control plane has differs from the one the nodes were installed with: re-run the deploy",
        login.output,
      );
    }
    output.push(`login as ${ADMIN}: ok (${seconds(login)})`);
    if (mode === "check") {
      return unchangedOutcome(`Harbor healthy through ${registry}; login works, anonymous refused`, output);
    }

    const image = buildOciLayout({
      refName: TAG,
      fileName: "harbor-ha-check.txt",
      fileContent: `pushed by the harbor-ha client check at ${new Date().toISOString()} (${randomUUID()})\n`,
    });
    const layout = join(home, "push");
    await writeLayout(layout, image.files);
    const repository = `${CLIENT_CHECK_REPOSITORY}:${TAG}`;

    const anonymousPush = await skopeo.push(layout, TAG, repository);
    if (anonymousPush.code === 0) {
      return failedOutcome(
        `an anonymous push to ${registry} succeeded`,
        "the registry must refuse anonymous pushes",
      );
    }
    output.push(`push without credentials: refused (${failureReason(anonymousPush.output)})`);

    const push = await skopeo.push(layout, TAG, repository, authFile);
    if (push.code !== 0) {
      return failedOutcome(
        `push of ${repository} to ${registry} failed`,
        "read skopeo's output below",
        push.output,
      );
    }
    output.push(
      `push ${registry}/${repository} (layer ${image.layerDigest.slice(0, 19)}): ok (${seconds(push)})`,
    );

    const anonymousPull = await skopeo.pull(repository, join(home, "anonymous"), TAG);
    if (anonymousPull.code === 0) {
      return failedOutcome(
        `an anonymous pull from ${registry} succeeded`,
        "the registry must refuse anonymous pulls",
      );
    }
    output.push(`pull without credentials: refused (${failureReason(anonymousPull.output)})`);

    const pulledDir = join(home, "pull");
    const pull = await skopeo.pull(repository, pulledDir, TAG, authFile);
    if (pull.code !== 0) {
      return failedOutcome(
        `pull of ${repository} from ${registry} failed`,
        "read skopeo's output below",
        pull.output,
      );
    }
    const mismatch = await pulledMatches(pulledDir, image);
    if (mismatch) {
      return failedOutcome(
        `the image pulled from ${registry} is not the one pushed (${mismatch})`,
        "two nodes may serve different storage: check harbor.storage on every node",
      );
    }
    output.push(`pull: ok, the same config and layer content came back (${seconds(pull)})`);
    return unchangedOutcome(
      `Harbor healthy through ${registry}; login, push and pull work as ${ADMIN}, refused without credentials`,
      output,
    );
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
