/**
 * The cgroup v2 driver: one group per sandbox, `<root>/lumina/<id>`, with `memory.max`
 * (`memory.swap.max` 0 where swap is accounted), `pids.max` and `cpu.max`. The memory, pids and
 * cpu controllers are enabled in the `cgroup.subtree_control` of the root and of `lumina`;
 * the sandbox's own group enables none, so it may hold processes and child groups at once
 * (the no-internal-processes rule only binds groups that delegate controllers) and every job
 * slot below it is charged to the sandbox's limits. The sandbox uid owns the group's and the
 * slots' `cgroup.procs` (a move needs write access to the common ancestor's, which is the
 * sandbox's group) and the slots' `cgroup.kill` (kernel 5.14+); never a directory or a limit.
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

/** Options of the cgroup v2 driver. */
export interface CgroupV2Options {
  /** The cgroup2 mount (or a delegated group in it) the driver works under. @default "/sys/fs/cgroup" */
  root?: string;
  /** The group under `root` that holds every sandbox's group. @default "lumina" */
  parent?: string;
}

/** The `cpu.max` line for `maxCpus` cores: quota and period in µs, or `max` for none. */
export function cpuMaxOf(maxCpus: number | undefined): string {
  const quota = cpuQuotaOf(maxCpus);
  return `${quota === "-1" ? "max" : quota} ${cpuPeriodUs}`;
}

async function words(file: string): Promise<Set<string>> {
  const text = await readFile(file, "utf8").catch(() => "");
  return new Set(text.split(/\s+/).filter(Boolean));
}

/**
 * Enables `limits`' controllers in a `cgroup.subtree_control` file: all in one write, or one
 * by one when that fails, to tell which cannot be enabled.
 */
async function enableIn(file: string, limits: readonly CgroupLimit[]): Promise<MissingLimit[]> {
  const enabled = await words(file);
  const needed = limits.filter((limit) => !enabled.has(limit));
  const write = (names: readonly string[]) =>
    writeFile(file, names.map((name) => `+${name}`).join(" ")).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error,
    );
  if (needed.length === 0 || !(await write(needed))) return [];
  const missing: MissingLimit[] = [];
  for (const limit of needed) {
    const failed = await write([limit]);
    if (!failed) continue;
    const hint = failed.code === "EBUSY" ? " (the group holds processes of its own)" : "";
    missing.push({ limit, reason: `cannot enable it in ${file}: ${failed.code}${hint}` });
  }
  return missing;
}

/** Creates the v2 driver over the cgroup2 hierarchy at `options.root`. */
export function createCgroupV2Driver(options: CgroupV2Options = {}): CgroupDriver {
  const root = options.root ?? "/sys/fs/cgroup";
  const parent = join(root, options.parent ?? "lumina");

  /** Enables the controllers for every sandbox's group; returns the limits that cannot work. */
  async function enableControllers(): Promise<MissingLimit[]> {
    if (process.getuid?.() !== 0) {
      return cgroupLimits.map((limit) => ({ limit, reason: "the server does not run as root" }));
    }
    if (!existsSync(join(root, "cgroup.controllers"))) {
      return cgroupLimits.map((limit) => ({ limit, reason: `${root} is not a cgroup v2 group` }));
    }
    const available = await words(join(root, "cgroup.controllers"));
    const missing: MissingLimit[] = [];
    try {
      await mkdir(parent, { recursive: true });
    } catch (error) {
      const reason = `cannot create ${parent}: ${(error as Error).message}`;
      return cgroupLimits.map((limit) => ({ limit, reason }));
    }
    const wanted: CgroupLimit[] = [];
    for (const limit of cgroupLimits) {
      if (available.has(limit)) wanted.push(limit);
      else
        missing.push({
          limit,
          reason: `the cgroup v2 ${limit} controller is not available in ${root} (bound to cgroup v1, or disabled)`,
        });
    }
    for (const group of [root, parent]) {
      const failures = await enableIn(join(group, "cgroup.subtree_control"), wanted);
      for (const failure of failures) {
        missing.push(failure);
        wanted.splice(wanted.indexOf(failure.limit), 1);
      }
    }
    return missing;
  }

  return {
    version: "v2",
    missingLimits: enableControllers,
    async create(id, limits, hostUid) {
      const dir = join(parent, id);
      const missing = new Set<CgroupLimit>(cgroupLimits);
      await enableControllers(); // What it cannot enable shows as a limit file that will not take.
      const made = await mkdir(dir, { recursive: true }).then(
        () => true,
        () => false,
      );
      if (made) {
        const limitFiles: Record<CgroupLimit, [string, string]> = {
          memory: ["memory.max", String(limits.maxMemory)],
          pids: ["pids.max", String(limits.maxProcesses + 8)],
          cpu: ["cpu.max", cpuMaxOf(limits.maxCpus)],
        };
        for (const limit of cgroupLimits) {
          const [file, value] = limitFiles[limit];
          // The kernel makes the file when the controller is enabled; never create one ourselves.
          if (!existsSync(join(dir, file))) continue;
          const written = await writeFile(join(dir, file), value).then(
            () => true,
            () => false,
          );
          if (written) missing.delete(limit);
        }
        // Swap counts too where the kernel accounts it, so a hog cannot page out instead.
        if (!missing.has("memory") && existsSync(join(dir, "memory.swap.max")))
          await writeFile(join(dir, "memory.swap.max"), "0").catch(() => {});
      }
      const dirs = made ? [dir] : [];
      const groups: SandboxCgroups = {
        procsFiles: dirs.map((group) => join(group, "cgroup.procs")),
        bwrapArgs: [],
        missing: [...missing],
        killAll: () => killMembers(dirs),
        async remove() {
          for (const group of dirs) await removeTree(group);
        },
      };
      if (!made) return groups;
      const freezeFile = join(dir, "cgroup.freeze");
      if (existsSync(freezeFile)) {
        await writeFile(freezeFile, "0").catch(() => {}); // A crash may have left it frozen.
        groups.freeze = () =>
          freezeGroup(freezeFile, { frozen: "1", thawed: "0" }, async () =>
            (await readFile(join(dir, "cgroup.events"), "utf8")).includes("frozen 1"),
          );
      }
      await groups.killAll();
      // Job groups of a previous run (a crash) go; the sandbox's own group stays.
      for (const child of await subgroups(dir)) await removeTree(child);
      const slotFiles = existsSync(join(dir, "cgroup.kill"))
        ? ["cgroup.procs", "cgroup.kill"]
        : ["cgroup.procs"];
      try {
        await chown(dir, 0, 0); // Never the sandbox's: it must not create groups.
        await delegateFiles(dir, ["cgroup.procs"], hostUid);
        // Without slots the agent falls back to its process scan; the sandbox still starts.
        await createJobSlots(dir, jobSlots, slotFiles, hostUid).catch(() => {});
        groups.bwrapArgs.push("--bind", dir, jobsMountPoint);
      } catch {
        // Not delegated: the limits still hold, commands fall back to the process scan.
      }
      return groups;
    },
  };
}
