import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
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

export interface RedisTlsLogin {
  readonly tls: { readonly caFile: string; readonly clientCertFile: string; readonly clientKeyFile: string };
  readonly user: string;
  readonly password: string;
}

/**
 * The lab's Redis answers over TLS (verified against the lab's CA, with the client certificate)
 * and takes the controller's login: `AUTH` then `PING` must give `+OK` and `+PONG`.
 */
export function redisAnswers(
  address: string,
  port: number,
  login: RedisTlsLogin,
  timeoutMs = 2_000,
): Promise<boolean> {
  return new Promise((resolve) => {
    let socket: ReturnType<typeof tlsConnect>;
    try {
      socket = tlsConnect({
        host: address,
        port,
        ca: readFileSync(login.tls.caFile),
        cert: readFileSync(login.tls.clientCertFile),
        key: readFileSync(login.tls.clientKeyFile),
      });
    } catch {
      resolve(false);
      return;
    }
    let received = "";
    const finish = (value: boolean) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.on("error", () => finish(false));
    socket.on("secureConnect", () => {
      const auth = ["AUTH", login.user, login.password].map(
        (part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`,
      );
      socket.write(`*3\r\n${auth.join("")}PING\r\n`);
    });
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      if (received.split("\r\n").length > 2) finish(received.startsWith("+OK\r\n+PONG\r\n"));
    });
    socket.on("end", () => finish(false));
  });
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
