/**
 * Per-sandbox cgroups: memory, process and CPU limits, and the job slots that let a kill find
 * everything a command forked. Two drivers share one interface: cgroup v1 (a memory, a pids and
 * a cpu group per sandbox: server/sandbox/cgroup-v1.ts) and cgroup v2 (one group per sandbox
 * with `memory.max`, `pids.max` and `cpu.max`: server/sandbox/cgroup-v2.ts), picked by what
 * `/proc/self/mountinfo` shows (server/sandbox/cgroup-probe.ts). The memory limit lives here
 * rather than in RLIMIT_AS because V8 reserves far more address space than it uses, so an
 * address-space limit small enough to matter breaks Node. The CPU limit caps the sandbox at
 * `maxCpus` cores of CPU time, so a busy loop cannot starve the server or other sandboxes.
 * Without a writable controller the sandbox still has RLIMIT_NPROC / RLIMIT_FSIZE and a sized
 * /tmp; the server says so once at start, or refuses to start with `requireLimits`.
 *
 * The sandbox's group that holds its processes (v1: the pids group) also appears inside at
 * `/run/lumina/jobs` with a fixed pool of child groups ("job slots") whose `cgroup.procs`
 * (v1 also `tasks`, v2 also `cgroup.kill`; never a limit file, never a directory) belong to
 * the sandbox's uid: the agent runs each command in a slot (server/agent/shell/job-group.ts).
 * The pool is fixed because the kernel charges almost none of a cgroup's memory to the sandbox
 * (docs/security.md): a sandbox that could mkdir groups could exhaust host memory.
 */
import { ServerError } from "../errors.ts";
import type { SandboxLimits } from "./backend.ts";

/** The CFS period of a sandbox's cpu group, in µs (the kernel default). */
export const cpuPeriodUs = 100_000;

/** Where the sandbox's job groups appear inside the sandbox. */
export const jobsMountPoint = "/run/lumina/jobs";

/** How many job slots a sandbox gets (beyond them the agent falls back to its process scan). */
export const jobSlots = 64;

/** A limit that a cgroup applies. */
export type CgroupLimit = "memory" | "pids" | "cpu";

/** Every limit a sandbox should get, in the order they are reported. */
export const cgroupLimits: readonly CgroupLimit[] = ["memory", "pids", "cpu"];

/** A limit that cannot be applied here, and why (for the operator). */
export interface MissingLimit {
  limit: CgroupLimit;
  reason: string;
}

/** The limits a sandbox's cgroups apply. */
export type CgroupLimitValues = Pick<SandboxLimits, "maxMemory" | "maxProcesses"> & {
  maxCpus?: number | undefined;
};

/** The cgroup directories one sandbox's processes are placed in. */
export interface SandboxCgroups {
  /** The `cgroup.procs` files to write the sandbox's first pid into. */
  procsFiles: string[];
  /** Extra bwrap arguments that show the sandbox's job groups inside the sandbox. */
  bwrapArgs: string[];
  /** The limits that could not be applied to this sandbox. */
  missing: CgroupLimit[];
  /** Kills every process still in the groups and waits (bounded) until they are gone. */
  killAll(): Promise<void>;
  /** Removes the groups and the sandbox's job groups in them, deepest first (after `killAll`). */
  remove(): Promise<void>;
  /**
   * Freezes every process of the sandbox at once (the kernel's freezer: no signal they could
   * see) and resolves to the function that thaws them; absent where no freezer is available.
   */
  freeze?(): Promise<() => Promise<void>>;
}

/** One way of making sandbox cgroups on this host (cgroup v1, v2, or none at all). */
export interface CgroupDriver {
  /** Which hierarchy the driver writes. */
  readonly version: "v1" | "v2" | "none";
  /** The limits the driver cannot apply here, with why; empty when every limit works. */
  missingLimits(): Promise<MissingLimit[]>;
  /**
   * Creates (or reuses) the sandbox's groups with its limits, with job slots for `hostUid`;
   * groups left over from a crash are emptied and their job groups removed first.
   */
  create(id: string, limits: CgroupLimitValues, hostUid: number): Promise<SandboxCgroups>;
}

/** The CFS quota for `maxCpus` cores per period (-1: unlimited); at least the kernel's 1 ms. */
export function cpuQuotaOf(maxCpus: number | undefined): string {
  if (maxCpus === undefined || !(maxCpus > 0)) return "-1";
  return String(Math.max(1000, Math.round(maxCpus * cpuPeriodUs)));
}

/**
 * Creates the sandbox's groups; with `requireLimits` a sandbox whose limits could not all be
 * applied does not start (503), its groups removed again.
 */
export async function createSandboxCgroups(
  driver: CgroupDriver,
  spec: { id: string; limits: CgroupLimitValues; hostUid: number },
  requireLimits = false,
): Promise<SandboxCgroups> {
  const groups = await driver.create(spec.id, spec.limits, spec.hostUid);
  if (requireLimits && groups.missing.length > 0) {
    await groups.killAll();
    await groups.remove();
    throw new ServerError(
      "unavailable",
      `the server could not apply the sandbox's ${groups.missing.join(", ")} limit; try again later or ask the operator to check the host's cgroups`,
    );
  }
  return groups;
}

/**
 * Checks at server start that every limit can be applied: with `requireLimits` throws an
 * error naming the missing ones, otherwise logs one loud warning naming them (nothing if all work).
 */
export async function checkCgroupLimits(
  driver: CgroupDriver | undefined,
  options: { requireLimits: boolean; log: (line: string) => void },
): Promise<MissingLimit[]> {
  const missing = driver
    ? await driver.missingLimits()
    : cgroupLimits.map((limit) => ({ limit, reason: "--isolation none applies no limits" }));
  if (missing.length === 0) return missing;
  const list = missing.map(({ limit, reason }) => `${limit} (${reason})`).join("; ");
  if (options.requireLimits) {
    throw new Error(
      `--require-limits: refusing to start, these sandbox limits cannot be applied on this host: ${list}. ` +
        "Run the server as root on a host with writable cgroup v1 memory/pids/cpu controllers or cgroup v2 with them enabled, or start without --require-limits.",
    );
  }
  options.log(
    `lumina: WARNING: sandboxes will run WITHOUT these limits: ${list}. One sandbox can then take the host's memory or CPU; pass --require-limits to refuse to start instead.`,
  );
  return missing;
}
