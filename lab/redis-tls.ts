import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { exists } from "./files.ts";
import type { LabPaths } from "./paths.ts";
import { run } from "./shell.ts";

/**
 * A small CA of the lab's own (or a test's) and the certificates the control-plane Redis needs:
 * the server's, valid for the addresses clients dial (their IPs in subjectAltName, since Node
 * checks the name against the certificate), and one client certificate for mutual TLS. Made with
 * the openssl command line, EC P-256, once: files already there are kept.
 */
export interface RedisCertificateFiles {
  readonly caFile: string;
  readonly serverCertFile: string;
  readonly serverKeyFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
}

/** The lab's CA and certificates, beside Redis's data; `lab down` removes them with it. */
export function labRedisTlsDir(paths: LabPaths): string {
  return join(paths.redisDir, "tls");
}

export function redisCertificateFiles(dir: string): RedisCertificateFiles {
  return {
    caFile: join(dir, "ca.crt"),
    serverCertFile: join(dir, "redis-server.crt"),
    serverKeyFile: join(dir, "redis-server.key"),
    clientCertFile: join(dir, "redis-client.crt"),
    clientKeyFile: join(dir, "redis-client.key"),
  };
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function issue(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
  files: { cert: string; key: string },
): Promise<void> {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await run("openssl", ["req", "-new", ...EC_KEY, "-keyout", files.key, "-out", csr, "-subj", subject]);
  await writeFile(ext, extensions);
  await run("openssl", [
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    join(dir, "ca.crt"),
    "-CAkey",
    join(dir, "ca.key"),
    "-CAcreateserial",
    "-days",
    "825",
    "-sha256",
    "-extfile",
    ext,
    "-out",
    files.cert,
  ]);
  await chmod(files.key, 0o600);
}

/** Makes what is missing; true when anything was made. */
export async function ensureRedisCertificates(
  dir: string,
  serverAddresses: readonly string[],
): Promise<boolean> {
  const files = redisCertificateFiles(dir);
  let made = false;
  if (!(await exists(files.caFile))) {
    await run("openssl", [
      "req",
      "-x509",
      "-new",
      ...EC_KEY,
      "-keyout",
      join(dir, "ca.key"),
      "-out",
      files.caFile,
      "-days",
      "3650",
      "-sha256",
      "-subj",
      "/CN=harbor-ha control-plane CA",
    ]);
    await chmod(join(dir, "ca.key"), 0o600);
    made = true;
  }
  if (!(await exists(files.serverCertFile))) {
    const san = serverAddresses.map((address) => `IP:${address}`).join(",");
    await issue(
      dir,
      "redis-server",
      "/CN=harbor-ha control-plane redis",
      `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`,
      { cert: files.serverCertFile, key: files.serverKeyFile },
    );
    made = true;
  }
  if (!(await exists(files.clientCertFile))) {
    await issue(
      dir,
      "redis-client",
      "/CN=harbor-ha control-plane client",
      "extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n",
      { cert: files.clientCertFile, key: files.clientKeyFile },
    );
    made = true;
  }
  return made;
}
