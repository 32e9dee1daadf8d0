/**
 * Per-sandbox cgroup v1 groups (memory and pids) when the host lets us write them. The memory
 * limit lives here rather than in RLIMIT_AS because V8 reserves far more address space than it
 * uses, so an address-space limit small enough to matter breaks Node. Without a writable
 * controller the sandbox still has RLIMIT_NPROC / RLIMIT_FSIZE and a sized /tmp.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

const roots = { memory: "/sys/fs/cgroup/memory", pids: "/sys/fs/cgroup/pids" } as const;
type Controller = keyof typeof roots;

/** The cgroup directories one sandbox's processes are placed in. */
export interface SandboxCgroups {
  /** The `cgroup.procs` files to write the sandbox's first pid into. */
  procsFiles: string[];
  /** Extra bwrap arguments that show (part of) the groups inside the sandbox; none today. */
  bwrapArgs: string[];
  /** Kills every process still in the groups and waits (bounded) until they are gone. */
  killAll(): Promise<void>;
  /** Removes the groups (after the processes are gone). */
  remove(): Promise<void>;
}

function writable(controller: Controller): boolean {
  return existsSync(join(roots[controller], "cgroup.procs")) && process.getuid?.() === 0;
}

/** Creates (or reuses) the sandbox's groups with its limits; the groups left over from a crash are emptied first. */
export async function createSandboxCgroups(
  id: string,
  limits: { maxMemory: number; maxProcesses: number },
): Promise<SandboxCgroups> {
  const dirs: string[] = [];
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
      } else {
        await writeFile(join(dir, "pids.max"), String(limits.maxProcesses + 8));
      }
      dirs.push(dir);
    } catch {
      // A controller we cannot configure is skipped; the rlimits still apply.
    }
  }
  const groups: SandboxCgroups = {
    procsFiles: dirs.map((dir) => join(dir, "cgroup.procs")),
    bwrapArgs: [],
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
      for (const dir of dirs) await rmdir(dir).catch(() => {});
    },
  };
  await groups.killAll();
  return groups;
}

async function listPids(dirs: string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line) pids.add(Number(line));
  }
  return [...pids];
}
