import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { tarArchive } from "./harbor-tar.ts";

/**
 * The smallest real image a registry client can push: one uncompressed tar layer holding one
 * file, its config and its manifest, in an OCI image layout (the `oci:` transport of skopeo).
 * No image can be pulled here, so the client check makes its own.
 */

export const OCI_MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG_TYPE = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar";
const REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name";

export interface OciImageInput {
  /** The tag inside the layout (`oci:DIR:REF`). */
  readonly refName: string;
  readonly fileName: string;
  /** Vary it per run, so each push uploads a new blob rather than finding it there already. */
  readonly fileContent: string;
}

export interface OciLayout {
  /** Path inside the layout folder -> content: oci-layout, index.json and blobs/sha256/*. */
  readonly files: ReadonlyMap<string, Buffer>;
  readonly refName: string;
  readonly manifestDigest: string;
  readonly configDigest: string;
  readonly layerDigest: string;
}

export function sha256Digest(content: Buffer | string): string {
  return `sha256:${createHash("sha256").update(content).digest("hex")}`;
}

function blobPath(digest: string): string {
  return `blobs/sha256/${digest.slice("sha256:".length)}`;
}

export function buildOciLayout(input: OciImageInput): OciLayout {
  const layer = tarArchive([{ path: input.fileName, content: input.fileContent }]);
  const layerDigest = sha256Digest(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: { Cmd: ["/bin/sh"] },
      // Uncompressed layer: its diff ID is its own digest.
      rootfs: { type: "layers", diff_ids: [layerDigest] },
      history: [{ created_by: "harbor-ha client check" }],
    }),
  );
  const configDigest = sha256Digest(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_TYPE,
      config: { mediaType: OCI_CONFIG_TYPE, digest: configDigest, size: config.length },
      layers: [{ mediaType: OCI_LAYER_TYPE, digest: layerDigest, size: layer.length }],
    }),
  );
  const manifestDigest = sha256Digest(manifest);
  const index = {
    schemaVersion: 2,
    manifests: [
      {
        mediaType: OCI_MANIFEST_TYPE,
        digest: manifestDigest,
        size: manifest.length,
        annotations: { [REF_NAME_ANNOTATION]: input.refName },
      },
    ],
  };
  const files = new Map<string, Buffer>([
    ["oci-layout", Buffer.from(JSON.stringify({ imageLayoutVersion: "1.0.0" }))],
    ["index.json", Buffer.from(JSON.stringify(index))],
    [blobPath(layerDigest), layer],
    [blobPath(configDigest), config],
    [blobPath(manifestDigest), manifest],
  ]);
  return { files, refName: input.refName, manifestDigest, configDigest, layerDigest };
}

export interface PulledImage {
  readonly configDigest: string | undefined;
  readonly layerDigests: readonly string[];
}

/** What the manifest that an OCI layout's index points at names (read after a pull). */
export function readPulledImage(readFile: (path: string) => Buffer | undefined): PulledImage {
  const index = JSON.parse(readFile("index.json")?.toString("utf8") ?? "{}") as {
    manifests?: { digest?: string }[];
  };
  const manifestDigest = index.manifests?.[0]?.digest;
  if (!manifestDigest) return { configDigest: undefined, layerDigests: [] };
  const manifest = JSON.parse(readFile(blobPath(manifestDigest))?.toString("utf8") ?? "{}") as {
    config?: { digest?: string };
    layers?: { digest?: string }[];
  };
  return {
    configDigest: manifest.config?.digest,
    layerDigests: (manifest.layers ?? []).flatMap((layer) => (layer.digest ? [layer.digest] : [])),
  };
}

export function blobFile(digest: string): string {
  return blobPath(digest);
}

/**
 * The digest of a layer's uncompressed content (its diff ID). Registry clients gzip an
 * uncompressed layer on push, so a pulled layer is compared by what it unpacks to.
 */
export function diffId(layer: Buffer): string {
  const gzipped = layer.length > 2 && layer[0] === 0x1f && layer[1] === 0x8b;
  return sha256Digest(gzipped ? gunzipSync(layer) : layer);
}
