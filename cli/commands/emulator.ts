import { type Command, InvalidArgumentError } from "commander";
import { EXIT } from "../output.ts";

interface EmulatorCommandOptions {
  port: number;
  host: string;
  botUrl?: string;
  channel?: string;
  users?: string;
  usergroup: string[];
  rateLimit: string | false;
  socketPingInterval?: number;
}

const collect = (value: string, previous: string[]) => [...previous, value];

const portNumber = (value: string) => {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new InvalidArgumentError("a TCP port");
  return port;
};

const milliseconds = (value: string) => {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new InvalidArgumentError("milliseconds, 0 or more");
  return ms;
};

export function registerEmulatorCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command("emulator")
    .description(
      "a local Slack for the bot and the tests: Web API, Socket Mode, signed commands and clicks, a channel page",
    )
    .option("--port <port>", "the port to listen on", portNumber, 3100)
    .option("--host <address>", "the address to bind", "127.0.0.1")
    .option(
      "--bot-url <url>",
      "where signed commands and clicks go (default http://127.0.0.1:3000/slack/events)",
    )
    .option("--channel <id>", "the channel the page opens (default C0HARBOR)")
    .option("--users <list>", "the workspace's users (default U0ALICE:alice,U0BOB:bob,U0CAROL:carol)")
    .option(
      "--usergroup <group>",
      "a usergroup and its members, S0OPS=U0ALICE,U0BOB (repeatable)",
      collect,
      [],
    )
    .option("--rate-limit <rate>", "messages a second per channel and the burst (default 1/3)")
    .option("--no-rate-limit", "accept any number of messages (load tests only)")
    .option(
      "--socket-ping-interval <ms>",
      "how often Socket Mode connections are pinged (0: never)",
      milliseconds,
    )
    .addHelpText(
      "after",
      "\nSecrets come from the environment: SLACK_SIGNING_SECRET signs requests to the bot (a fixed\n" +
        "development secret if unset); SLACK_BOT_TOKEN and SLACK_APP_TOKEN, when set, are the only\n" +
        "tokens the Web API and apps.connections.open accept.",
    )
    .action(async (options: EmulatorCommandOptions) => {
      // Loaded only when the emulator runs: agents load this file's program too.
      const [{ startEmulator }, parse] = await Promise.all([
        import("../../slack-emulator/server.ts"),
        import("../../slack-emulator/options.ts"),
      ]);
      let settings: Parameters<typeof startEmulator>[0];
      try {
        settings = {
          port: options.port,
          host: options.host,
          ...(options.botUrl ? { botUrl: options.botUrl } : {}),
          ...(options.channel ? { channel: options.channel } : {}),
          ...(options.users ? { users: parse.parseUsers(options.users) } : {}),
          usergroups: Object.fromEntries(options.usergroup.map((spec) => parse.parseUsergroup(spec))),
          rateLimit:
            options.rateLimit === false
              ? false
              : options.rateLimit === undefined
                ? parse.DEFAULT_RATE_LIMIT
                : parse.parseRateLimit(options.rateLimit),
          ...(options.socketPingInterval === undefined
            ? {}
            : { socketPingIntervalMs: options.socketPingInterval }),
          signingSecret: process.env.SLACK_SIGNING_SECRET ?? "",
          botToken: process.env.SLACK_BOT_TOKEN ?? "",
          appToken: process.env.SLACK_APP_TOKEN ?? "",
        };
      } catch (error) {
        if (!(error instanceof parse.EmulatorOptionError)) throw error;
        console.error(error.message);
        setExit(EXIT.badInput);
        return;
      }
      const emulator = await startEmulator(settings);
      const resolved = emulator.options;
      console.log(
        `Slack emulator on ${emulator.url}  (channel page: ${emulator.url}/?channel=${resolved.channel})`,
      );
      console.log(`  Web API      WebClient({ slackApiUrl: "${emulator.apiUrl}" })`);
      console.log(`  bot          ${resolved.botUrl}  (or Socket Mode through apps.connections.open)`);
      console.log(
        `  signing      ${process.env.SLACK_SIGNING_SECRET ? "SLACK_SIGNING_SECRET" : "the emulator's development secret (SLACK_SIGNING_SECRET unset)"}`,
      );
      console.log(`  users        ${resolved.users.map((user) => `${user.id}:${user.name}`).join(", ")}`);
      const groups = Object.entries(resolved.usergroups);
      if (groups.length > 0) {
        console.log(
          `  usergroups   ${groups.map(([group, members]) => `${group}=${members.join(",")}`).join("  ")}`,
        );
      }
      console.log(
        `  rate limit   ${resolved.rateLimit === false ? "off" : `${resolved.rateLimit.perSecond}/s per channel, burst ${resolved.rateLimit.burst}`}`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => void emulator.close().then(resolve);
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      });
    });
}
