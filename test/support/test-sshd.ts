import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";

/** A fresh ed25519 key made by ssh-keygen in `dir`; returns its private key's path (.pub beside it). */
export function newSshKey(dir: string, name: string): string {
  const file = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `harbor-ha-test ${name}`, "-f", file]);
  return file;
}

/** `ssh-keygen -lf`'s fingerprint of a key file: what an operator would paste into the config. */
export function keygenFingerprint(keyFile: string): string {
  const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", `${keyFile}.pub`]).toString();
  const fingerprint = /(SHA256:\S+)/.exec(printed)?.[1];
  if (!fingerprint) throw new Error(`ssh-keygen printed no fingerprint: ${printed}`);
  return fingerprint;
}

export interface TestSshd {
  readonly address: string;
  readonly port: number;
  /** Everything sshd logged (-e), to check what it accepted. */
  output(): string;
  /** Stops sshd (by its PID) and starts it again on the same address with another host key. */
  restartWithHostKey(hostKeyFile: string): Promise<void>;
  stop(): Promise<void>;
}

async function bannerAnswers(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("SSH-2.0")));
    socket.once("error", () => done(false));
  });
}

/**
 * A real OpenSSH sshd of the test's own, on a loopback address and free port, root logging in with
 * `clientKey` only, as the lab runs its sshd (LAB.md: `-D -e -f CONFIG`, no PAM, StrictModes off).
 */
export async function startTestSshd(options: {
  dir: string;
  address: string;
  port: number;
  hostKeyFile: string;
  clientKeyFile: string;
  /** The sessions' PATH (sshd's SetEnv), e.g. to put a stand-in command first. */
  path?: string;
}): Promise<TestSshd> {
  const { dir, address, port } = options;
  // sshd's privilege separation folder; left in place (the lab may be using it too).
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const authorizedKeys = join(dir, "authorized_keys");
  writeFileSync(authorizedKeys, readFileSync(`${options.clientKeyFile}.pub`), { mode: 0o600 });
  let child: ChildProcess | undefined;
  let log = "";

  const start = async (hostKeyFile: string) => {
    const config = join(dir, "sshd_config");
    writeFileSync(
      config,
      [
        `ListenAddress ${address}:${port}`,
        `HostKey ${hostKeyFile}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${authorizedKeys}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "UsePAM no",
        "StrictModes no",
        "LogLevel VERBOSE",
        ...(options.path ? [`SetEnv PATH=${options.path}`] : []),
        "",
      ].join("\n"),
      { mode: 0o600 },
    );
    const started = spawn("/usr/sbin/sshd", ["-D", "-e", "-f", config], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = started;
    started.stdout?.on("data", (data) => (log += data));
    started.stderr?.on("data", (data) => (log += data));
    const deadline = Date.now() + 10_000;
    while (!(await bannerAnswers(address, port))) {
      if (started.exitCode !== null) throw new Error(`sshd exited ${started.exitCode}: ${log}`);
      if (Date.now() > deadline) throw new Error(`sshd did not answer on ${address}:${port}: ${log}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running?.pid || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    process.kill(running.pid, "SIGTERM");
    await exited;
  };

  await start(options.hostKeyFile);
  return {
    address,
    port,
    output: () => log,
    async restartWithHostKey(hostKeyFile) {
      await stop();
      await start(hostKeyFile);
    },
    stop,
  };
}
