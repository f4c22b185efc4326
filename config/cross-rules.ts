import type { SiteConfig } from "./schema.ts";

/** A problem found in a site config, located by its path in the document (`nodes[1].address`). */
export interface ConfigProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** keepalived notices a crashed holder after about 3 x advert_int (plus a skew below one advert). */
export function keepalivedTakeoverMs(advertInt: number): number {
  return 3 * advertInt * 1000;
}

function ipv4ToInt(address: string): number {
  return address.split(".").reduce((acc, part) => acc * 256 + Number(part), 0);
}

/** The network number of an address: the address with its host bits dropped. */
function networkOf(address: string, prefix: number): number {
  // Arithmetic, not bitwise operators: those would turn the numbers into signed 32-bit ints.
  return Math.floor(ipv4ToInt(address) / 2 ** (32 - prefix));
}

/**
 * Rules that span fields, which the schema cannot state. Pure: the site in, the problems out,
 * every one of them (an operator fixes a file once, not once per run).
 */
export function crossFieldProblems(site: SiteConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [...durabilityProblems(site)];
  const firstByAddress = new Map<string, number>();
  const firstByName = new Map<string, number>();

  site.nodes.forEach((node, index) => {
    const sameAddress = firstByAddress.get(node.address);
    if (sameAddress !== undefined) {
      problems.push({
        path: ["nodes", index, "address"],
        message: `${node.address} is already the address of nodes[${sameAddress}] (${site.nodes[sameAddress]?.name}); two nodes cannot share an address`,
      });
    } else {
      firstByAddress.set(node.address, index);
    }
    const sameName = firstByName.get(node.name);
    if (sameName !== undefined) {
      problems.push({
        path: ["nodes", index, "name"],
        message: `${node.name} is already the name of nodes[${sameName}]; node names must be unique`,
      });
    } else {
      firstByName.set(node.name, index);
    }
    if (node.address === site.vip.address) {
      problems.push({
        path: ["vip", "address"],
        message: `${site.vip.address} is the address of node ${node.name}; the VIP must be an address no host owns`,
      });
    }
    if (networkOf(node.address, site.vip.prefix) !== networkOf(site.vip.address, site.vip.prefix)) {
      problems.push({
        path: ["nodes", index, "address"],
        message: `${node.address} is outside the VIP's subnet ${site.vip.address}/${site.vip.prefix}; VRRP needs every node on the VIP's network`,
      });
    }
  });

  const takeoverMs = keepalivedTakeoverMs(site.keepalived.advertInt);
  const detectionMs = site.policy.probeIntervalMs * site.policy.confirmations;
  // Detection must end well before keepalived moves the VIP on its own, so that fencing (a
  // graceful VRRP handover takes about 0.6 s) happens on our terms: allow half the takeover time.
  if (detectionMs > takeoverMs / 2) {
    problems.push({
      path: ["policy", "probeIntervalMs"],
      message: `probeIntervalMs x confirmations = ${detectionMs} ms leaves no room inside keepalived's takeover time (3 x advertInt = ${takeoverMs} ms); keep it at most ${takeoverMs / 2} ms`,
    });
  }

  // The lease is renewed once a probe round; half of it (the self-fence's wait) must span
  // three rounds, or one slow round would stop a healthy primary.
  if (site.policy.primaryLeaseMs < 6 * site.policy.probeIntervalMs) {
    problems.push({
      path: ["policy", "primaryLeaseMs"],
      message: `${site.policy.primaryLeaseMs} ms is under 6 probe intervals (${6 * site.policy.probeIntervalMs} ms): the primary would fence itself after a few slow rounds`,
    });
  }

  const nodePorts: Array<[string, number, (string | number)[]]> = [
    ["postgres.port", site.postgres.port, ["postgres", "port"]],
    ["harbor.httpPort", site.harbor.httpPort, ["harbor", "httpPort"]],
  ];
  if (site.nodes.some((node) => node.address === site.harborRedis.host)) {
    nodePorts.push(["harborRedis.port", site.harborRedis.port, ["harborRedis", "port"]]);
  }
  if (site.agent.metricsPort !== 0) {
    nodePorts.push(["agent.metricsPort", site.agent.metricsPort, ["agent", "metricsPort"]]);
  }
  nodePorts.forEach(([label, portNumber, path], index) => {
    const clash = nodePorts.slice(0, index).find(([, other]) => other === portNumber);
    if (clash) {
      problems.push({
        path,
        message: `port ${portNumber} is also used by ${clash[0]} on the same node (${label})`,
      });
    }
  });

  const seenApprovers = new Set<string>();
  site.slack.approvers.forEach((approver, index) => {
    if (seenApprovers.has(approver)) {
      problems.push({ path: ["slack", "approvers", index], message: `${approver} is listed twice` });
    }
    seenApprovers.add(approver);
  });
  const onlyUsers = site.slack.approvers.every((approver) => !approver.startsWith("S"));
  if (site.slack.twoPersonRule && onlyUsers && seenApprovers.size < 2) {
    problems.push({
      path: ["slack", "twoPersonRule"],
      message:
        "the two-person rule needs at least two approvers (or a user group), or nothing could ever be approved",
    });
  }
  problems.push(...controlPlaneProblems(site));
  return problems;
}

/**
 * The control-plane Redis's rules (issue 14): site.yaml is copied to every node, so it never
 * carries a password, and TLS settings only make sense on a TLS URL.
 */
function controlPlaneProblems(site: SiteConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { redisUrl, tls } = site.controlPlane;
  if (/^rediss?:\/\/[^/@]*@/.test(redisUrl)) {
    problems.push({
      path: ["controlPlane", "redisUrl"],
      message:
        "holds credentials (user:password@): site.yaml is copied to every node; name the user and the password's environment variable in controlPlane.auth.controller (user, passwordEnv) instead",
    });
  }
  if (tls && !redisUrl.startsWith("rediss://")) {
    problems.push({
      path: ["controlPlane", "tls"],
      message: "TLS settings need a rediss:// URL in controlPlane.redisUrl (redis:// is plain text)",
    });
  }
  if (tls && (tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push({
      path: ["controlPlane", "tls", tls.certFile === undefined ? "certFile" : "keyFile"],
      message: "a client certificate needs both certFile and keyFile",
    });
  }
  return problems;
}

/** Advice that does not stop the site from working: printed by `config check`, never fatal. */
export function crossFieldWarnings(site: SiteConfig): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  warnings.push(...selfApprovalWarnings(site));
  if (site.postgres.synchronous !== undefined) {
    warnings.push({
      path: ["postgres", "synchronous"],
      message: `postgres.synchronous is replaced by postgres.durability: write "durability: ${site.postgres.durability}" instead (read as that now)`,
    });
  }
  const redisHost = /^rediss?:\/\/(?:[^@/]*@)?([^:/]+)/.exec(site.controlPlane.redisUrl)?.[1];
  const onNode = site.nodes.find((node) => node.address === redisHost);
  if (onNode) {
    warnings.push({
      path: ["controlPlane", "redisUrl"],
      message: `the control-plane Redis runs on node ${onNode.name}: losing that node also loses the control plane`,
    });
  }
  site.nodes.forEach((node, index) => {
    if (node.ssh.hostKey === undefined && node.ssh.knownHostsFile === undefined) {
      warnings.push({
        path: ["nodes", index, "ssh"],
        message: `no host key is pinned for ${node.name}: every SSH connection to it (deploy's host steps, the fence) will be refused; set ssh.hostKey, or ssh.knownHostsFile and run \`harbor-ha deploy --record-host-keys\``,
      });
    }
  });
  if (!site.controlPlane.auth) {
    warnings.push({
      path: ["controlPlane"],
      message:
        "no controlPlane.auth: the control-plane Redis is used without a login, so whoever reaches it can read the jobs and the audit log and empty or flood the queues (signed jobs keep them from making an agent act)",
    });
  } else if (!site.controlPlane.redisUrl.startsWith("rediss://")) {
    warnings.push({
      path: ["controlPlane", "redisUrl"],
      message:
        "redis:// sends the Redis passwords and every job in plain text: use rediss:// with controlPlane.tls",
    });
  }
  return warnings;
}

/**
 * Nobody approves their own request: an operator who is also one of few approvers (named users,
 * no group) may be unable to get anything approved.
 */
function selfApprovalWarnings(site: SiteConfig): ConfigProblem[] {
  const { approvers, twoPersonRule } = site.slack;
  const operators = site.slack.operators ?? approvers;
  if (approvers.some((id) => id.startsWith("S"))) return [];
  const needed = twoPersonRule ? 2 : 1;
  const others = new Set(approvers).size - 1;
  const stuck = operators.filter((id) => approvers.includes(id));
  if (stuck.length === 0 || others >= needed) return [];
  return [
    {
      path: ["slack", "approvers"],
      message: `${stuck.join(", ")} may ask (an operator) and approve, but not their own request: it needs ${needed} other approver${needed > 1 ? "s" : ""} and there ${others === 1 ? "is" : "are"} ${others}; add approvers or a user group`,
    },
  ];
}

/** The old postgres.synchronous may stay beside postgres.durability only while they agree. */
function durabilityProblems(site: SiteConfig): ConfigProblem[] {
  const { synchronous, durability } = site.postgres;
  if (synchronous === undefined || synchronous === (durability !== "asynchronous")) return [];
  return [
    {
      path: ["postgres", "synchronous"],
      message: `postgres.synchronous: ${synchronous} contradicts postgres.durability: ${durability}; remove postgres.synchronous (postgres.durability replaces it)`,
    },
  ];
}
