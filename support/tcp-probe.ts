import { Socket } from "node:net";

export type TcpOutcome = "connected" | "refused" | "unreachable";

/**
 * One TCP connection attempt to address:port: something listens ("connected"), the host's kernel
 * refused it ("refused": the host is there), or nothing answered in time or no route exists.
 */
export function tcpProbe(address: string, port: number, timeoutMs: number): Promise<TcpOutcome> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (outcome: TcpOutcome) => {
      socket.destroy();
      resolve(outcome);
    };
    socket.setTimeout(timeoutMs, () => done("unreachable"));
    socket.once("connect", () => done("connected"));
    socket.once("error", (error: NodeJS.ErrnoException) =>
      done(error.code === "ECONNREFUSED" ? "refused" : "unreachable"),
    );
    socket.connect(port, address);
  });
}
