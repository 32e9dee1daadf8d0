/**
 * The cgroup v1 driver: a memory, a pids and a cpu group per sandbox, `lumina/<id>` under each
 * controller's mount. The pids group holds the job slots (its `cgroup.procs` and `tasks` are
 * the sandbox uid's); slots count against the sandbox's `pids.max`.
 */
import { existsSync } from "node:fs";
import { chown, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CgroupDriver,
  type CgroupLimit,
  cgroupLimits,
  cpuPeriodUs,
  cpuQuotaOf,
  jobSlots,
  jobsMountPoint,
  type MissingLimit,
  type SandboxCgroups,
} from "./cgroup.ts";
import {
  createJobSlots,
  delegateFiles,
  freezeGroup,
  killMembers,
  removeTree,
  subgroups,
} from "./cgroup-tree.ts";

/** Where each v1 controller is mounted (the freezer lets a snapshot stop every process at once). */
export type CgroupV1Mounts = Partial<Record<CgroupLimit | "freezer", string>>;

/** The usual v1 mount points. */
export const defaultV1Mounts: CgroupV1Mounts = {
  memory: "/sys/fs/cgroup/memory",
  pids: "/sys/fs/cgroup/pids",
  cpu: "/sys/fs/cgroup/cpu",
  freezer: "/sys/fs/cgroup/freezer",
};

const delegated = ["cgroup.procs", "tasks"];

/** Creates the v1 driver over the controllers mounted at `mounts`. */
export function createCgroupV1Driver(mounts: CgroupV1Mounts = defaultV1Mounts): CgroupDriver {
  const isRoot = () => process.getuid?.() === 0;
  const usable = (limit: CgroupLimit) => {
    const mount = mounts[limit];
    return mount !== undefined && isRoot() && existsSync(join(mount, "cgroup.procs"));
  };
  return {
    version: "v1",
    async missingLimits() {
      const missing: MissingLimit[] = [];
      for (const limit of cgroupLimits) {
        const mount = mounts[limit];
        if (!mount) missing.push({ limit, reason: `no cgroup v1 ${limit} controller is mounted` });
        else if (!isRoot()) missing.push({ limit, reason: "the server does not run as root" });
        else if (!usable(limit)) missing.push({ limit, reason: `${mount} is not a cgroup` });
        else {
          // The groups of every sandbox go here: a read-only cgroupfs shows now, not per start.
          await mkdir(join(mount, "lumina"), { recursive: true }).catch((error: Error) =>
            missing.push({
              limit,
              reason: `cannot create ${join(mount, "lumina")}: ${error.message}`,
            }),
          );
        }
      }
      return missing;
    },
    async create(id, limits, hostUid) {
      const dirs: string[] = [];
      const bwrapArgs: string[] = [];
      const missing: CgroupLimit[] = [];
      let pidsDir: string | undefined;
      for (const limit of cgroupLimits) {
        const mount = mounts[limit];
        if (mount === undefined || !usable(limit)) {
          missing.push(limit);
          continue;
        }
        const dir = join(mount, "lumina", id);
        try {
          await mkdir(dir, { recursive: true });
          if (limit === "memory") {
            await writeFile(join(dir, "memory.limit_in_bytes"), String(limits.maxMemory));
            // Swap counts too where the kernel accounts it, so a hog cannot page out instead.
            await writeFile(
              join(dir, "memory.memsw.limit_in_bytes"),
              String(limits.maxMemory),
            ).catch(() => {});
          } else if (limit === "cpu") {
            await writeFile(join(dir, "cpu.cfs_period_us"), String(cpuPeriodUs));
            await writeFile(join(dir, "cpu.cfs_quota_us"), cpuQuotaOf(limits.maxCpus));
          } else {
            await writeFile(join(dir, "pids.max"), String(limits.maxProcesses + 8));
            await chown(dir, 0, 0); // Never the sandbox's: it must not create groups.
            await delegateFiles(dir, delegated, hostUid);
            bwrapArgs.push("--bind", dir, jobsMountPoint);
            pidsDir = dir;
          }
          dirs.push(dir);
        } catch {
          // A controller we cannot configure is skipped; the rlimits still apply.
          missing.push(limit);
        }
      }
      const freezerDir = await createFreezerGroup(mounts.freezer, id);
      if (freezerDir) dirs.push(freezerDir);
      const groups: SandboxCgroups = {
        procsFiles: dirs.map((dir) => join(dir, "cgroup.procs")),
        bwrapArgs,
        missing,
        killAll: () => killMembers(dirs),
        async remove() {
          for (const dir of dirs) await removeTree(dir);
        },
      };
      if (freezerDir) {
        const stateFile = join(freezerDir, "freezer.state");
        groups.freeze = () =>
          freezeGroup(
            stateFile,
            { frozen: "FROZEN", thawed: "THAWED" },
            async () => (await readFile(stateFile, "utf8")).trim() === "FROZEN",
          );
      }
      await groups.killAll();
      // Job groups of a previous run (a crash) go; the sandbox's own groups stay.
      for (const dir of dirs) for (const child of await subgroups(dir)) await removeTree(child);
      // Without slots the agent falls back to its process scan; the sandbox still starts.
      if (pidsDir) await createJobSlots(pidsDir, jobSlots, delegated, hostUid).catch(() => {});
      return groups;
    },
  };
}

/** The sandbox's freezer group, thawed (a crash may have left it frozen); none without a freezer. */
async function createFreezerGroup(
  mount: string | undefined,
  id: string,
): Promise<string | undefined> {
  if (mount === undefined || process.getuid?.() !== 0) return undefined;
  const dir = join(mount, "lumina", id);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "freezer.state"), "THAWED");
    return dir;
  } catch {
    return undefined; // Snapshots then fall back to freezing the filesystem (server/sandbox/home-snapshot.ts).
  }
}
