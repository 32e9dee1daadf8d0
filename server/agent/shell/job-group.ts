/**
 * A cgroup per command (a "job group"): the server gives the sandbox a fixed pool of child
 * groups ("slots") of its group (cgroup v1: the `pids` group; v2: its one group) at
 * `/run/lumina/jobs` (server/sandbox/cgroup.ts), whose `cgroup.procs` the sandbox's user may
 * write; both layouts name it so. Every process a command forks lands in its slot whatever it
 * does to its session, process group or environment (`env -i setsid …`, double forks), so
 * killing the slot's members kills all of it: in one write to the slot's `cgroup.kill` where
 * the kernel has it (v2, 5.14+), else by signalling each member. Without the mount
 * (`--isolation none`, hosts without usable cgroups) or with every slot taken, `claim` returns
 * undefined and callers rely on the environment-marker scan of process-tree.ts alone.
 */
import { accessSync, constants, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the sandbox's pids group appears inside the sandbox. */
export const jobsRoot = "/run/lumina/jobs";

/** The sandbox's top group: a shell goes back here after each command. */
export const topProcsFile = join(jobsRoot, "cgroup.procs");

/** The slots' directories per jobs root (probed once; the pool is fixed for the sandbox's life). */
const slotsByRoot = new Map<string, string[]>();
/** The slots this agent has handed out and not yet released. */
const claimed = new Set<string>();

function slotDirs(root: string): string[] {
  let slots = slotsByRoot.get(root);
  if (slots === undefined) {
    slots = [];
    slotsByRoot.set(root, slots);
    try {
      accessSync(join(root, "cgroup.procs"), constants.W_OK);
      for (const entry of readdirSync(root, { withFileTypes: true })) {
        const dir = join(root, entry.name);
        if (entry.isDirectory() && writable(join(dir, "cgroup.procs"))) slots.push(dir);
      }
    } catch {
      // No job groups here: stay with the marker scan.
    }
  }
  return slots;
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/** One command's cgroup, held from `claim` until `release` finds it empty. */
export class JobGroup {
  private released = false;

  private constructor(readonly dir: string) {}

  /** Takes a free, empty slot of the pool at `root`, or returns undefined when there is none. */
  static claim(root: string = jobsRoot): JobGroup | undefined {
    for (const dir of slotDirs(root)) {
      if (claimed.has(dir)) continue;
      const group = new JobGroup(dir);
      // Someone moved processes in by hand: not free.
      if (group.pids().length > 0) continue;
      claimed.add(dir);
      return group;
    }
    return undefined;
  }

  /** The file a process writes its pid into to join the group. */
  get procsFile(): string {
    return join(this.dir, "cgroup.procs");
  }

  /** The processes in the group (pids of the sandbox's namespace). */
  pids(): number[] {
    let text: string;
    try {
      text = readFileSync(this.procsFile, "latin1");
    } catch {
      return [];
    }
    const pids: number[] = [];
    for (const line of text.split("\n")) if (line) pids.push(Number(line));
    return pids;
  }

  /**
   * Stops, then kills, every process in the group except `spare`, reading it again until
   * none is left (bounded). Stopping first keeps members from forking between read and kill.
   */
  async kill(spare: readonly number[] = []): Promise<void> {
    if (this.released) return;
    const skip = new Set([process.pid, ...spare]);
    const members = () => this.pids().filter((pid) => !skip.has(pid));
    // The kernel kills every member and whatever they fork meanwhile, unless one is spared.
    if (!this.pids().some((pid) => skip.has(pid))) this.killByKernel();
    for (let round = 0; round < 100; round++) {
      let found = members();
      if (found.length === 0) return;
      const stopped = new Set<number>();
      for (let pass = 0; pass < 5 && found.some((pid) => !stopped.has(pid)); pass++) {
        for (const pid of found) {
          signal(pid, "SIGSTOP");
          stopped.add(pid);
        }
        found = members();
      }
      for (const pid of stopped) signal(pid, "SIGKILL");
      for (const pid of stopped) signal(pid, "SIGCONT");
      await new Promise((resolve) => setTimeout(resolve, round < 5 ? 2 : 20));
    }
  }

  /** Writes the slot's `cgroup.kill` (cgroup v2, kernel 5.14+), where there is one. */
  private killByKernel(): void {
    try {
      writeFileSync(join(this.dir, "cgroup.kill"), "1");
    } catch {
      // None here (cgroup v1, older kernels): the signal loop below does it.
    }
  }

  /** Gives the slot back if the group is empty; true once it is released. */
  release(): boolean {
    if (!this.released && this.pids().length === 0) {
      this.released = true;
      claimed.delete(this.dir);
    }
    return this.released;
  }

  /** Kills everything in the group, then releases it. */
  async destroy(): Promise<void> {
    for (let attempt = 0; attempt < 50 && !this.release(); attempt++) await this.kill();
  }
}
