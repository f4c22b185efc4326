import { homedir } from "node:os";
import { join } from "node:path";

/**
 * Where the lab keeps things. Persistent state (disks, shared folder, keys, config, pids, logs)
 * lives under `root`; sockets and Docker exec roots under `runRoot`, short enough that
 * containerd's sockets below an exec root stay under the 108-byte unix socket limit.
 * The image cache lives outside both so that `lab down` keeps it.
 */
export interface LabPaths {
  readonly root: string;
  readonly runRoot: string;
  readonly stateFile: string;
  /** The site config that up writes (config/site.example.yaml's shape). */
  readonly config: string;
  /** The secrets, `KEY=value` lines, mode 600. */
  readonly env: string;
  /** The site key (config/site-key.ts), mode 600; the nodes share the filesystem, so one file serves all. */
  readonly siteKey: string;
  readonly sharedDir: string;
  readonly sshDir: string;
  readonly sshKey: string;
  readonly sshPublicKey: string;
  readonly authorizedKeys: string;
  readonly knownHosts: string;
  readonly logDir: string;
  readonly redisDir: string;
  readonly redisConfig: string;
  readonly imageCacheDir: string;
  /** The nodes' dockerd image stores, kept between labs like the image cache (image-store.ts). */
  readonly dockerRootsDir: string;
  /** The cgroup parent (relative to each hierarchy's root) that the nodes' containers run under. */
  readonly cgroupParent: string;
  node(name: string): LabNodePaths;
}

export interface LabNodePaths {
  /** The node's local disk: harbor-ha's dataRoot on that node. */
  readonly disk: string;
  /** The node's folder under the run root: its sockets, pid files and Docker exec root. */
  readonly runDir: string;
  readonly dockerDataRoot: string;
  readonly dockerExecRoot: string;
  readonly dockerSocket: string;
  readonly dockerPidFile: string;
  readonly dockerConfig: string;
  readonly dockerCgroupParent: string;
  readonly sshdConfig: string;
  readonly sshdPidFile: string;
  readonly sshHostKey: string;
}

export const LAB_ROOT = "/var/lib/harbor-ha-lab";
export const LAB_RUN_ROOT = "/run/harbor-ha-lab";
export const LAB_CGROUP_PARENT = "harbor-ha-lab";

export function labPaths(home: string = homedir()): LabPaths {
  const root = LAB_ROOT;
  const runRoot = LAB_RUN_ROOT;
  const sshDir = join(root, "ssh");
  return {
    root,
    runRoot,
    stateFile: join(root, "state.json"),
    config: join(root, "site.yaml"),
    env: join(root, "lab.env"),
    siteKey: join(root, "site.key"),
    sharedDir: join(root, "shared"),
    sshDir,
    sshKey: join(sshDir, "id_ed25519"),
    sshPublicKey: join(sshDir, "id_ed25519.pub"),
    authorizedKeys: join(sshDir, "authorized_keys"),
    knownHosts: join(sshDir, "known_hosts"),
    logDir: join(root, "logs"),
    redisDir: join(root, "redis"),
    redisConfig: join(root, "redis", "redis.conf"),
    imageCacheDir: join(home, ".cache", "harbor-ha"),
    dockerRootsDir: join(home, ".cache", "harbor-ha", "docker-root"),
    cgroupParent: LAB_CGROUP_PARENT,
    node(name: string): LabNodePaths {
      const run = join(runRoot, name);
      return {
        disk: join(root, "disks", name),
        runDir: run,
        // Kept with the image cache: see image-store.ts.
        dockerDataRoot: join(home, ".cache", "harbor-ha", "docker-root", name),
        dockerExecRoot: join(run, "docker"),
        dockerSocket: join(run, "docker.sock"),
        dockerPidFile: join(run, "docker.pid"),
        dockerConfig: join(root, "etc", name, "daemon.json"),
        dockerCgroupParent: `/${LAB_CGROUP_PARENT}/${name}`,
        sshdConfig: join(root, "etc", name, "sshd_config"),
        sshdPidFile: join(run, "sshd.pid"),
        sshHostKey: join(sshDir, `${name}_host_ed25519_key`),
      };
    },
  };
}

export function logFile(paths: LabPaths, name: string): string {
  return join(paths.logDir, `${name}.log`);
}
