/**
 * The client check's test image (an OCI layout) and the tar writer under it.
 * Run with: node --import tsx --test test/unit/harbor-oci-layout.test.ts
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  blobFile,
  buildOciLayout,
  diffId,
  OCI_LAYER_TYPE,
  OCI_MANIFEST_TYPE,
  readPulledImage,
  sha256Digest,
} from "../../jobs/deploy/harbor-oci-layout.ts";
import { splitTarPath, tarArchive } from "../../jobs/deploy/harbor-tar.ts";

interface ReadEntry {
  path: string;
  type: string;
  mode: number;
  content: string;
}

/** A ustar reader just big enough to check what the writer wrote, checksum included. */
function readTar(archive: Buffer): ReadEntry[] {
  const entries: ReadEntry[] = [];
  let offset = 0;
  while (offset + 512 <= archive.length) {
    const header = archive.subarray(offset, offset + 512);
    if (header.every((byte) => byte === 0)) break;
    const field = (start: number, length: number) =>
      header
        .subarray(start, start + length)
        .toString("utf8")
        .replace(/\0.*$/s, "");
    const size = Number.parseInt(field(124, 12), 8);
    const stored = Number.parseInt(field(148, 8), 8);
    let sum = 0;
    header.forEach((byte, index) => {
      sum += index >= 148 && index < 156 ? 32 : byte;
    });
    assert.equal(stored, sum, `checksum of ${field(0, 100)}`);
    assert.equal(field(257, 6), "ustar");
    const prefix = field(345, 155);
    const name = field(0, 100);
    entries.push({
      path: prefix ? `${prefix}/${name}` : name,
      type: field(156, 1),
      mode: Number.parseInt(field(100, 8), 8),
      content: archive.subarray(offset + 512, offset + 512 + size).toString("utf8"),
    });
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return entries;
}

test("the tar writer writes folders, files and modes a tar reader reads back, in 512-byte blocks", () => {
  const archive = tarArchive([
    { path: "harbor" },
    { path: "harbor/prepare", content: "#!/bin/sh\n", mode: 0o755 },
    { path: "harbor/VERSION", content: "v2.2.2\n" },
  ]);
  assert.equal(archive.length % 512, 0);
  assert.deepEqual(readTar(archive), [
    { path: "harbor/", type: "5", mode: 0o755, content: "" },
    { path: "harbor/prepare", type: "0", mode: 0o755, content: "#!/bin/sh\n" },
    { path: "harbor/VERSION", type: "0", mode: 0o644, content: "v2.2.2\n" },
  ]);
  assert.deepEqual(
    tarArchive([{ path: "a", content: "x" }]),
    tarArchive([{ path: "a", content: "x" }]),
    "reproducible",
  );
});

test("a path longer than 100 bytes is split into ustar's prefix and name", () => {
  const long = `${"d".repeat(80)}/${"f".repeat(60)}`;
  assert.deepEqual(splitTarPath(long), { prefix: "d".repeat(80), name: "f".repeat(60) });
  assert.equal(readTar(tarArchive([{ path: long, content: "" }]))[0]?.path, long);
  assert.throws(() => splitTarPath("x".repeat(300)), /too long/);
});

test("the image layout's blobs are named by their digests and the index names the manifest by its tag", () => {
  const image = buildOciLayout({ refName: "latest", fileName: "hello.txt", fileContent: "hello\n" });
  for (const [path, content] of image.files) {
    if (path.startsWith("blobs/"))
      assert.equal(`blobs/sha256/${createHash("sha256").update(content).digest("hex")}`, path);
  }
  const index = JSON.parse(image.files.get("index.json")?.toString() ?? "{}");
  assert.equal(index.manifests[0].digest, image.manifestDigest);
  assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "latest");
  const manifest = JSON.parse(image.files.get(blobFile(image.manifestDigest))?.toString() ?? "{}");
  assert.equal(manifest.mediaType, OCI_MANIFEST_TYPE);
  assert.deepEqual(manifest.layers, [
    {
      mediaType: OCI_LAYER_TYPE,
      digest: image.layerDigest,
      size: image.files.get(blobFile(image.layerDigest))?.length,
    },
  ]);
  const config = JSON.parse(image.files.get(blobFile(image.configDigest))?.toString() ?? "{}");
  assert.deepEqual(config.rootfs.diff_ids, [image.layerDigest]);
  const layer = readTar(image.files.get(blobFile(image.layerDigest)) ?? Buffer.alloc(0));
  assert.deepEqual(
    layer.map((e) => [e.path, e.content]),
    [["hello.txt", "hello\n"]],
  );
});

test("a pulled image is recognised by its config and its layer's content, even gzipped by the push", () => {
  const image = buildOciLayout({ refName: "latest", fileName: "hello.txt", fileContent: "run 1\n" });
  const layer = image.files.get(blobFile(image.layerDigest)) ?? Buffer.alloc(0);
  const gzipped = gzipSync(layer);
  assert.equal(diffId(gzipped), image.layerDigest);
  assert.equal(diffId(layer), image.layerDigest);
  assert.equal(
    sha256Digest("abc"),
    "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );

  const pulled = readPulledImage((path) => image.files.get(path));
  assert.deepEqual(pulled, { configDigest: image.configDigest, layerDigests: [image.layerDigest] });
  assert.deepEqual(
    readPulledImage(() => undefined),
    { configDigest: undefined, layerDigests: [] },
  );
});
