import type { Command } from "commander";
import { passwordHashesFrom, renderAclFile } from "../../jobs/redis-acl.ts";
import { EXIT } from "../output.ts";
import { loadSiteFromOptions, secretsEnvironment } from "../site-option.ts";

export function registerRedisCommands(program: Command, setExit: (code: number) => void): void {
  const redis = program.command("redis").description("the control-plane Redis");
  redis
    .command("acl")
    .description(
      "print the ACL file for the control-plane Redis (its `aclfile`): the default user off, one user per role, passwords as SHA-256 hashes",
    )
    .action(async () => {
      const loaded = await loadSiteFromOptions(program.opts<{ config?: string }>().config);
      const env = await secretsEnvironment(loaded.file);
      process.stdout.write(renderAclFile(loaded.site, passwordHashesFrom(loaded.site, env)));
      setExit(EXIT.ok);
    });
}
