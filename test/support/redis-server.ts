import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { Redis } from "ioredis";
import {
  ensureRedisCertificates,
  type RedisCertificateFiles,
  redisCertificateFiles,
} from "../../lab/redis-tls.ts";

/** A free TCP port on loopback, chosen by the kernel. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** With `secure`: the throwaway CA and certificates (server and client) in the test's folder. */
  readonly certificates?: RedisCertificateFiles;
  /**
   * Stops Redis the way an operator's restart does (SIGTERM: it saves its AOF) and starts it
   * again, after `downMs` (an outage) when given.
   */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /**
   * The lab's way (lab/redis.ts): TLS only (no plain port) with mutual TLS from a CA made for
   * this test by openssl, protected mode, and this ACL file (jobs/redis-acl.ts renders one).
   */
  readonly secure?: { readonly aclFile: string };
}

/** Whether a TLS Redis answers at all: any reply (a NOAUTH refusal too) means it is up. */
function tlsAnswers(port: number, files: RedisCertificateFiles): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port,
      ca: readFileSync(files.caFile),
      cert: readFileSync(files.clientCertFile),
      key: readFileSync(files.clientKeyFile),
    });
    const finish = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("secureConnect", () => socket.write("PING\r\n"));
    socket.on("data", () => finish(true));
  });
}

/**
 * A real redis-server of the test's own on loopback, append-only like the control plane's, in a
 * temporary folder that stop() removes.
 */
export async function startTestRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), "harbor-ha-redis-"));
  const port = await freePort();
  const { secure } = options;
  const url = `${secure ? "rediss" : "redis"}://127.0.0.1:${port}/0`;
  let child: ChildProcess | undefined;
  let certificates: RedisCertificateFiles | undefined;
  let secureArgs: string[] = [];
  if (secure) {
    await ensureRedisCertificates(dir, ["127.0.0.1"]);
    certificates = redisCertificateFiles(dir);
    const aclFile = join(dir, "users.acl");
    writeFileSync(aclFile, secure.aclFile, { mode: 0o600 });
    secureArgs = [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      certificates.serverCertFile,
      "--tls-key-file",
      certificates.serverKeyFile,
      "--tls-ca-cert-file",
      certificates.caFile,
      "--tls-auth-clients",
      "yes",
      "--protected-mode",
      "yes",
      "--aclfile",
      aclFile,
    ];
  }

  const answers = async (): Promise<boolean> => {
    if (certificates) return tlsAnswers(port, certificates);
    const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    probe.on("error", () => {});
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  };

  const start = async () => {
    child = spawn(
      "redis-server",
      [
        ...(secure ? secureArgs : ["--port", String(port)]),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "always",
        "--save",
        "",
      ],
      { stdio: "ignore" },
    );
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (await answers()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server on port ${port} did not start`);
  };
  const halt = async () => {
    const running = child;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once("exit", () => resolve());
      running.kill("SIGTERM");
    });
  };

  await start();
  return {
    url,
    port,
    ...(certificates ? { certificates } : {}),
    async restart(downMs = 0) {
      await halt();
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
      await start();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
