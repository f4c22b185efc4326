import { connect } from "node:net";
import Docker from "dockerode";

/**
 * Connects, optionally sends a line, and resolves with the first bytes the server sends, or
 * undefined on refusal, error or timeout. Used only against the lab's own addresses.
 */
export function exchange(
  host: string,
  port: number,
  send: string | undefined,
  timeoutMs: number,
): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let received = "";
    const finish = (value: string | undefined) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(undefined));
    socket.on("error", () => finish(undefined));
    socket.on("connect", () => {
      if (send !== undefined) socket.write(send);
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.includes("\n")) finish(received);
    });
    socket.on("end", () => finish(received || undefined));
  });
}

/** An sshd answers a TCP connection with its version banner ("SSH-2.0-OpenSSH_9.2 ..."). */
export async function sshAnswers(address: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return (await exchange(address, port, undefined, timeoutMs))?.startsWith("SSH-2.0-") ?? false;
}

export async function redisAnswers(address: string, port: number, timeoutMs = 2_000): Promise<boolean> {
  return (await exchange(address, port, "PING\r\n", timeoutMs))?.startsWith("+PONG") ?? false;
}

export function dockerClient(socketPath: string, timeoutMs = 5_000): Docker {
  return new Docker({ socketPath, timeout: timeoutMs });
}

export async function dockerAnswers(socketPath: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    await dockerClient(socketPath, timeoutMs).ping();
    return true;
  } catch {
    return false;
  }
}
