import { execFile } from "node:child_process";
import { createServer } from "node:net";

/**
 * Whether a service could listen where it is about to. The agent runs in the node's network
 * namespace (LAB.md pitfall 13: and on the host's filesystem), so a trial bind here is the
 * truth for the node; `ss` there names who holds the port.
 */
export type PortState = "free" | "in-use" | "no-such-address";

export function probePort(host: string, port: number): Promise<PortState> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve("in-use");
      else if (error.code === "EADDRNOTAVAIL") resolve("no-such-address");
      else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve("free")));
  });
}

/** `ss -Hltnp sport = :PORT`: the listening sockets on a port and their processes, for a failure report. */
export function listenersOn(port: number): Promise<string> {
  return new Promise((resolve) => {
    execFile("ss", ["-Hltnp", `sport = :${port}`], { timeout: 5_000 }, (error, stdout, stderr) => {
      resolve(error ? `ss failed: ${stderr || error.message}` : stdout.trim());
    });
  });
}

/** The process IDs `ss -p` shows for a listing (users:(("node",pid=1234,fd=18))). */
export function listenerPids(ssOutput: string): number[] {
  return [...ssOutput.matchAll(/pid=(\d+)/g)].map((match) => Number(match[1]));
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
