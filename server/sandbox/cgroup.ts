/**
 * Per-sandbox cgroup v1 groups (memory, pids and cpu) when the host lets us write them. The memory
 * limit lives here rather than in RLIMIT_AS because V8 reserves far more address space than it
 * uses, so an address-space limit small enough to matter breaks Node. The cpu group caps the
 * sandbox at `maxCpus` cores of CPU time (CFS quota), so a busy loop cannot starve the server
 * or other sandboxes. Without a writable
 * controller the sandbox still has RLIMIT_NPROC / RLIMIT_FSIZE and a sized /tmp.
 *
 * The pids group also appears inside at `/run/lumina/jobs` with a fixed pool of child groups
 * ("job slots") whose `cgroup.procs`/`tasks` (never `pids.max`, never a directory) belong to the
 * sandbox's uid: the agent runs each command in a slot so a kill finds everything the command
 * forked (server/agent/shell/job-group.ts). The pool is fixed because the kernel charges
 * almost none of a cgroup's memory to the sandbox (docs/security.md): a sandbox that could
 * mkdir groups could exhaust host memory. Slots count against the sandbox's `pids.max`.
 */
import { existsSync } from "node:fs";
import { chown, mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const roots = {
  memory: "/sys/fs/cgroup/memory",
  pids: "/sys/fs/cgroup/pids",
  cpu: "/sys/fs/cgroup/cpu",
} as const;

/** The CFS period of a sandbox's cpu group, in µs (the kernel default). */
export const cpuPeriodUs = 100_000;
type Controller = keyof typeof roots;

/** Where the sandbox's pids group appears inside the sandbox. */
export const jobsMountPoint = "/run/lumina/jobs";

/** How many job slots a sandbox gets (beyond them the agent falls back to its process scan). */
export const jobSlots = 64;

/** The cgroup directories one sandbox's processes are placed in. */
export interface SandboxCgroups {
  /** The `cgroup.procs` files to write the sandbox's first pid into. */
  procsFiles: string[];
  /** Extra bwrap arguments that show the delegated pids group inside the sandbox. */
  bwrapArgs: string[];
  /** Kills every process still in the groups and waits (bounded) until they are gone. */
  killAll(): Promise<void>;
  /** Removes the groups and the sandbox's job groups in them, deepest first (after `killAll`). */
  remove(): Promise<void>;
}

function writable(controller: Controller): boolean {
  return existsSync(join(roots[controller], "cgroup.procs")) && process.getuid?.() === 0;
}

/**
 * Creates (or reuses) the sandbox's groups with its limits, with job slots for `hostUid` in the
 * pids group; the groups left over from a crash are emptied and their job groups removed first.
 */
export async function createSandboxCgroups(
  id: string,
  limits: { maxMemory: number; maxProcesses: number; maxCpus?: number | undefined },
  hostUid: number,
): Promise<SandboxCgroups> {
  const dirs: string[] = [];
  const bwrapArgs: string[] = [];
  let pidsDir: string | undefined;
  for (const controller of Object.keys(roots) as Controller[]) {
    if (!writable(controller)) continue;
    const dir = join(roots[controller], "lumina", id);
    try {
      await mkdir(dir, { recursive: true });
      if (controller === "memory") {
        await writeFile(join(dir, "memory.limit_in_bytes"), String(limits.maxMemory));
        // Swap counts too where the kernel accounts it, so a hog cannot page out instead.
        await writeFile(join(dir, "memory.memsw.limit_in_bytes"), String(limits.maxMemory)).catch(
          () => {},
        );
      } else if (controller === "cpu") {
        await writeFile(join(dir, "cpu.cfs_period_us"), String(cpuPeriodUs));
        await writeFile(join(dir, "cpu.cfs_quota_us"), cpuQuotaOf(limits.maxCpus));
      } else {
        await writeFile(join(dir, "pids.max"), String(limits.maxProcesses + 8));
        await chown(dir, 0, 0); // Never the sandbox's: it must not create groups.
        await delegateProcs(dir, hostUid);
        bwrapArgs.push("--bind", dir, jobsMountPoint);
        pidsDir = dir;
      }
      dirs.push(dir);
    } catch {
      // A controller we cannot configure is skipped; the rlimits still apply.
    }
  }
  const groups: SandboxCgroups = {
    procsFiles: dirs.map((dir) => join(dir, "cgroup.procs")),
    bwrapArgs,
    async killAll() {
      for (let attempt = 0; attempt < 100; attempt++) {
        const pids = await listPids(dirs);
        if (pids.length === 0) return;
        for (const pid of pids) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {}
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async remove() {
      for (const dir of dirs) await removeTree(dir);
    },
  };
  await groups.killAll();
  // Job groups of a previous run (a crash) go; the sandbox's own groups stay.
  for (const dir of dirs) for (const child of await subgroups(dir)) await removeTree(child);
  // Without slots the agent falls back to its process scan; the sandbox still starts.
  if (pidsDir) await createJobSlots(pidsDir, hostUid).catch(() => {});
  return groups;
}

/** The CFS quota for `maxCpus` cores per period (-1: unlimited); at least the kernel's 1 ms. */
export function cpuQuotaOf(maxCpus: number | undefined): string {
  if (maxCpus === undefined || !(maxCpus > 0)) return "-1";
  return String(Math.max(1000, Math.round(maxCpus * cpuPeriodUs)));
}

/** Lets `uid` move its processes into the group `dir` (and nothing else there). */
async function delegateProcs(dir: string, uid: number): Promise<void> {
  for (const file of ["cgroup.procs", "tasks"]) await chown(join(dir, file), uid, uid);
}

/** The pool of job slots `job0`… in the sandbox's pids group. */
async function createJobSlots(dir: string, uid: number): Promise<void> {
  const slots = Array.from({ length: jobSlots }, (_, index) => join(dir, `job${index}`));
  await Promise.all(
    slots.map(async (slot) => {
      await mkdir(slot);
      await delegateProcs(slot, uid);
    }),
  );
}

/** The child groups of a group (its subdirectories); none if it is gone. */
async function subgroups(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name));
}

/** Removes an emptied group and its child groups, deepest first (a group with children cannot go). */
async function removeTree(dir: string): Promise<void> {
  await Promise.all((await subgroups(dir)).map(removeTree));
  // A killed process may linger a moment before it leaves the group.
  for (let attempt = 0; attempt < 50; attempt++) {
    const error = await rmdir(dir).then(
      () => undefined,
      (caught: NodeJS.ErrnoException) => caught,
    );
    if (error?.code !== "EBUSY") return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every process in the groups and their child groups (host pids). */
async function listPids(dirs: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line) pids.add(Number(line));
    for (const pid of await listPids(await subgroups(dir))) pids.add(pid);
  }
  return [...pids];
}
