/**
 * The bubblewrap backend: one bwrap environment per sandbox, on this machine.
 *
 * Spawn chain (root server → sandbox): `bash` (as root, minimal env: puts itself in the
 * sandbox's cgroups, closes every inherited descriptor but stdio and the args pipe) → `prlimit`
 * (processes, file size) → `taskset` (the CPUs `nproc` shows, when limited) → `setpriv` (drops to the sandbox's dedicated host uid, no groups) →
 * `bwrap --args 3` (reads its options from fd 3 and closes it) → the agent
 * (`/usr/bin/node /opt/lumina/agent.mjs`) as uid 1000 inside. `nsenter --net` (as root, before
 * `prlimit`) puts the chain into the sandbox's network namespace.
 *
 * Inside: every namespace unshared (user, pid, mount, ipc, uts, cgroup); the network namespace
 * is the sandbox's own one, made before bwrap by server/network/namespace.ts and joined with
 * `nsenter --net` (bwrap keeps it through `--share-net`): own loopback, own abstract unix
 * sockets and `/proc/net`, egress only as its policy allows (CONTRACT §9). `/usr` and a
 * few `/etc` entries are read-only, `/etc` itself is generated, `/tmp` and `/dev/shm` are sized
 * private tmpfs, the root and the rest of `/dev` are read-only, `/home/user` is the persistent storage (a loop-mounted ext4 image of `limits.diskSize`
 * when quotas work here: server/sandbox/disk.ts). `--die-with-parent` takes the sandbox down if
 * the server dies, even by SIGKILL.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Writable } from "node:stream";
import {
  openSandboxNetwork,
  removeStaleNamespaces,
  requireNetworkTools,
} from "../network/namespace.ts";
import { agentBundlePath } from "./agent-bundle.ts";
import { runtimeFromProcess } from "./agent-process.ts";
import type { BackendFactory, SandboxBackend, SandboxRuntime } from "./backend.ts";
import { resolveBubblewrap } from "./bubblewrap-preflight.ts";
import {
  type CgroupDriver,
  checkCgroupLimits,
  createSandboxCgroups,
  type SandboxCgroups,
} from "./cgroup.ts";
import { detectCgroupDriver } from "./cgroup-probe.ts";
import { cpuListOf } from "./cpu-affinity.ts";
import { createDiskImages } from "./disk.ts";
import { etcBinds, generatedEtcDir } from "./etc.ts";
import { createHomeSnapshots, snapshotMethods } from "./home-snapshot.ts";
import { openPortTunnel } from "./port-tunnel.ts";
import { type SpawnFunction, spawnChild } from "./spawn-child.ts";
import {
  checkSpec,
  type HostPlacement,
  type HostSandbox,
  homeDirOf,
  snapshotsDirOf,
  storageSteps,
} from "./storage.ts";

/** Where the agent bundle appears inside every sandbox. */
export const agentPathInside = "/opt/lumina/agent.mjs";
/** Where the port tunnel's directory (server/sandbox/port-tunnel.ts) appears inside, read-only. */
export const tunnelDirInside = "/run/lumina/ports";

/** Options of the bubblewrap backend. */
export interface BubblewrapOptions extends HostPlacement {
  /**
   * The bwrap binary. @default the first `bwrap` on PATH, found by `preflight`; without a
   * preflight, "/usr/bin/bwrap"
   */
  bwrapPath?: string;
  /** The Node binary run inside (it lives under the read-only `/usr`). @default "/usr/bin/node" */
  nodePath?: string;
  /** Where the one warning goes if disk quotas cannot work here. @default console.error */
  log?: (line: string) => void;
  /** The disk overcommit ratio (server/sandbox/disk.ts `DiskImageOptions`). @default 1 */
  diskOvercommit?: number;
  /**
   * Whether new sandboxes get a disk quota (a loop-mounted image of `limits.diskSize`). Only
   * this turns quotas off; a failure to make one fails that start instead. @default true
   */
  diskQuota?: boolean;
  /** Spawns the launcher (a test wraps node's spawn to inject a real EMFILE). @default spawn */
  spawn?: SpawnFunction;
  /** How sandboxes get their cgroups. @default the driver for this host's hierarchy (v1 or v2) */
  cgroups?: CgroupDriver;
  /** Fail a sandbox's start when one of its cgroup limits cannot be applied. @default false */
  requireLimits?: boolean;
}

/** The environment of processes inside the sandbox: small and explicit. */
export const sandboxEnv: Readonly<Record<string, string>> = {
  HOME: "/home/user",
  USER: "user",
  LOGNAME: "user",
  PATH: "/home/user/.local/bin:/usr/local/bin:/usr/bin:/bin",
  LANG: "C.UTF-8",
  TERM: "dumb",
};

// Runs as root (bash, no rc files): joins the cgroups given as "$1" (colon-separated), closes every descriptor
// above 3 that the server process may have inherited (fd 3 is bwrap's args pipe), then execs the rest of the chain.
const launcher = [
  'IFS=: ; for f in $1; do echo $$ > "$f" || exit 97; done; shift',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
  'for fd in /proc/$$/fd/*; do n=${fd##*/}; if [ "$n" -gt 3 ]; then eval "exec $n>&-"; fi; done 2>/dev/null',
  // An empty environment from here on: bwrap's own /proc/<pid>/environ is what pid 1 shows inside.
  'exec /usr/bin/env -i "$@"',
].join("\n");

/**
 * The bwrap options for one sandbox (everything after `bwrap` but the command). They reach bwrap
 * through `--args 3`, never its command line: `/proc/1/cmdline` inside is bwrap's own.
 */
export function bwrapArgs(
  spec: HostSandbox,
  agentBundle: string,
  extra: readonly string[] = [],
): string[] {
  const args = [
    "--unshare-all",
    // The network namespace joined before bwrap (the sandbox's own), not the host's.
    "--share-net",
    "--unshare-user",
    "--uid",
    "1000",
    "--gid",
    "1000",
    "--disable-userns",
    "--new-session",
    "--die-with-parent",
    "--hostname",
    "sandbox",
    "--ro-bind",
    "/usr",
    "/usr",
    "--symlink",
    "usr/bin",
    "/bin",
    "--symlink",
    "usr/sbin",
    "/sbin",
    "--symlink",
    "usr/lib",
    "/lib",
  ];
  if (existsSync("/usr/lib64")) args.push("--symlink", "usr/lib64", "/lib64");
  if (existsSync("/usr/lib32")) args.push("--symlink", "usr/lib32", "/lib32");
  args.push("--ro-bind", generatedEtcDir(), "/etc");
  for (const path of etcBinds) args.push("--ro-bind-try", path, path);
  args.push(
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    // Programs expect a writable /dev/shm; the rest of /dev turns read-only below.
    "--size",
    String(spec.limits.tmpSize),
    "--tmpfs",
    "/dev/shm",
    "--size",
    String(spec.limits.tmpSize),
    "--tmpfs",
    "/tmp",
    "--dir",
    "/var",
    "--symlink",
    "../tmp",
    "/var/tmp",
    "--bind",
    homeDirOf(spec),
    "/home/user",
    "--ro-bind",
    agentBundle,
    agentPathInside,
    "--chdir",
    "/home/user",
    "--clearenv",
  );
  args.push(...extra);
  // bwrap's own root and /dev are tmpfs without a size: read-only, they cannot pin host RAM.
  args.push("--remount-ro", "/", "--remount-ro", "/dev");
  for (const [name, value] of Object.entries(sandboxEnv)) args.push("--setenv", name, value);
  return args;
}

/** Creates the bubblewrap backend. */
export function createBubblewrapBackend(options: BubblewrapOptions): SandboxBackend {
  let bwrapPath = options.bwrapPath ?? "/usr/bin/bwrap";
  const nodePath = options.nodePath ?? "/usr/bin/node";
  const log = options.log ?? ((line: string) => console.error(line));
  const disks = createDiskImages({
    log,
    enabled: options.diskQuota ?? true,
    overcommit: options.diskOvercommit ?? 1,
  });
  const storage = storageSteps(options, true, disks);
  // The cgroups of each running sandbox, for the freezer a snapshot uses.
  const runningGroups = new Map<string, SandboxCgroups>();
  const snapshots = snapshotMethods(
    storage,
    createHomeSnapshots(snapshotsDirOf(options), options.diskOvercommit ?? 1),
    {
      owned: true,
      freezeOf: (id) => {
        const groups = runningGroups.get(id);
        if (!groups) return undefined;
        return async () => (groups.freeze ? await groups.freeze() : undefined);
      },
    },
  );
  const cgroupDriver = options.cgroups ?? detectCgroupDriver();
  const requireLimits = options.requireLimits ?? false;
  // Namespaces are named per data directory, so a server removes only its own leftovers.
  const netnsPrefix = `lumina-${createHash("sha256").update(options.sandboxesDir).digest("hex").slice(0, 8)}-`;
  return {
    kind: "bubblewrap",
    enforcesLimits: true,
    containsProcesses: true,
    async preflight() {
      bwrapPath = await resolveBubblewrap(options.bwrapPath);
      // Without its network tools no sandbox could start; refused here, before anything opens.
      await requireNetworkTools();
      await checkCgroupLimits(cgroupDriver, { requireLimits, log });
    },
    async init() {
      await removeStaleNamespaces(netnsPrefix, log);
      await disks.probe();
    },
    create: storage.create,
    hasStorage: storage.hasStorage,
    prepare: storage.prepare,
    async start(sandbox): Promise<SandboxRuntime> {
      const spec = storage.place(sandbox);
      checkSpec(spec);
      await storage.ensure(spec);
      const bundle = await agentBundlePath();
      const network = await openSandboxNetwork(
        `${netnsPrefix}${spec.id}`,
        sandbox.network ?? { egress: "internet" },
      );
      const cgroups = await createSandboxCgroups(cgroupDriver, spec, requireLimits).catch(
        async (error: unknown) => {
          await network.close();
          throw error;
        },
      );
      const tunnel = await openPortTunnel({
        insideDir: tunnelDirInside,
        ownerUid: spec.hostUid,
      }).catch(async (error: unknown) => {
        await cgroups.remove().catch(() => {});
        await network.close();
        throw error;
      });
      const tunnelBind = ["--ro-bind", tunnel.hostDir, tunnelDirInside];
      const argsText = bwrapArgs(spec, bundle, [...cgroups.bwrapArgs, ...tunnelBind])
        .map((arg) => `${arg}\0`)
        .join("");
      const { maxProcesses, maxFileSize } = spec.limits;
      // `nproc` inside shows the sandbox's share of the CPUs (the quota is what binds).
      const cpuList = cpuListOf(spec.limits.maxCpus, spec.id);
      const affinity = cpuList ? ["/usr/bin/taskset", "-c", cpuList] : [];
      const child = await spawnChild(
        "/usr/bin/bash",
        [
          // No startup files at all: with a socket on stdin bash would otherwise read ~/.bashrc.
          "--norc",
          "--noprofile",
          "-c",
          launcher,
          "lumina-launch",
          cgroups.procsFiles.join(":"),
          "/usr/bin/nsenter",
          `--net=${network.path}`,
          "--",
          "/usr/bin/prlimit",
          `--nproc=${maxProcesses}:${maxProcesses}`,
          `--fsize=${maxFileSize}:${maxFileSize}`,
          "--core=0:0",
          "--",
          ...affinity,
          "/usr/bin/setpriv",
          `--reuid=${spec.hostUid}`,
          `--regid=${spec.hostUid}`,
          "--clear-groups",
          "--",
          bwrapPath,
          "--args",
          "3",
          "--",
          nodePath,
          agentPathInside,
        ],
        // Never the server's environment: /proc/1/environ inside shows the spawner's.
        { stdio: ["pipe", "pipe", "pipe", "pipe"], env: { PATH: "/usr/bin:/bin" }, detached: true },
        options.spawn,
      ).catch(async (error: unknown) => {
        await tunnel.close();
        await cgroups.remove().catch(() => {}); // Left over, it is reused by the next start.
        await network.close();
        throw error;
      });
      runningGroups.set(spec.id, cgroups);
      const argsPipe = child.stdio[3] as Writable;
      argsPipe.on("error", () => {}); // The chain failed before bwrap read it: the exit tells.
      argsPipe.end(argsText);
      const runtime = await runtimeFromProcess(
        child,
        async () => {
          if (runningGroups.get(spec.id) === cgroups) runningGroups.delete(spec.id);
          await cgroups.killAll();
          await cgroups.remove();
          await network.close();
        },
        { log, tunnel },
      );
      return { ...runtime, setNetwork: (policy) => network.apply(policy) };
    },
    destroy: storage.destroy,
    ...snapshots,
    close: storage.close,
  };
}

/** The bubblewrap backend as the server builds it: storage below `<dataDir>/sandboxes`. */
export const bubblewrapBackendFactory: BackendFactory = (context) =>
  createBubblewrapBackend({
    sandboxesDir: join(context.dataDir, "sandboxes"),
    hostUids: context.hostUids,
    log: context.log,
    diskOvercommit: context.diskOvercommit,
    diskQuota: context.diskQuota,
    requireLimits: context.requireLimits,
    ...(context.cgroups ? { cgroups: context.cgroups } : {}),
    ...(context.bwrapPath ? { bwrapPath: context.bwrapPath } : {}),
  });
