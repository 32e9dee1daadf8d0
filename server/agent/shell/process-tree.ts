/**
 * Finds and kills every process a command started, including the ones that left its process
 * group (`setsid`, double forks, `nohup … &`, `disown`). Each command runs with a marker
 * variable in its environment, which every descendant inherits; we scan `/proc` for it and for
 * the descendants of marked processes (covering `env -i` children), stop them all so none can
 * fork again, then kill them. Process groups alone miss detached children; cgroups are not
 * available inside the sandbox.
 */
import { readdirSync, readFileSync } from "node:fs";

interface ProcessEntry {
  pid: number;
  parent: number;
  group: number;
  /** Start time in clock ticks since boot. */
  startTicks: number;
  zombie: boolean;
}

/** Clock ticks per second of `/proc/<pid>/stat` start times (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

/** The current time in the clock ticks of `/proc/<pid>/stat` start times. */
export function nowInTicks(): number {
  const uptime = readFileSync("/proc/uptime", "latin1");
  return Math.floor(Number.parseFloat(uptime) * ticksPerSecond);
}

function readEntry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return {
      pid,
      parent: Number(fields[1]),
      group: Number(fields[2]),
      startTicks: Number(fields[19]),
      zombie: fields[0] === "Z" || fields[0] === "X",
    };
  } catch {
    return undefined; // Gone already.
  }
}

function environHas(pid: number, needles: readonly Buffer[]): boolean {
  let environ: Buffer;
  try {
    environ = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false; // Gone, or not ours to read.
  }
  return needles.some((needle) => environ.indexOf(needle) !== -1);
}

function listProcesses(): ProcessEntry[] {
  const entries: ProcessEntry[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid <= 1) continue;
    const entry = readEntry(pid);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** What to kill: processes with one of these environment entries, these roots, and all their descendants. */
export interface KillTarget {
  /** Entries such as `LUMINA_JOB=abc`; matched as whole `NAME=value` entries. */
  markers: readonly string[];
  /** Processes to kill with their descendants even if their marker is gone. */
  roots?: readonly number[];
  /**
   * Processes of this process group started at or after `sinceTicks`: the forked subshells of
   * a shell, whose `/proc` environment still shows the shell's original one.
   */
  group?: { id: number; sinceTicks: number };
  /** Processes never to touch (the session's own shell). */
  spare?: readonly number[];
}

function findTargets(target: KillTarget, needles: readonly Buffer[]): number[] {
  const spare = new Set([process.pid, ...(target.spare ?? [])]);
  const all = listProcesses().filter((entry) => !entry.zombie && !spare.has(entry.pid));
  const chosen = new Set<number>(target.roots ?? []);
  const { group } = target;
  for (const entry of all) {
    const young = group && entry.group === group.id && entry.startTicks >= group.sinceTicks - 1;
    if (young || environHas(entry.pid, needles)) chosen.add(entry.pid);
  }
  // Descendants of chosen processes, to a fixed point (children that cleared their environment).
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of all) {
      if (!chosen.has(entry.pid) && chosen.has(entry.parent)) {
        chosen.add(entry.pid);
        grew = true;
      }
    }
  }
  return all.filter((entry) => chosen.has(entry.pid)).map((entry) => entry.pid);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

/**
 * Stops, then kills, every process matching `target`, scanning again until none is left.
 * Returns how many processes it signalled.
 */
export async function killProcessTree(target: KillTarget): Promise<number> {
  const needles = target.markers.map((marker) => Buffer.from(`${marker}\0`));
  const signalled = new Set<number>();
  for (let round = 0; round < 50; round++) {
    // Stop first so nothing forks between the scan and the kill.
    let found = findTargets(target, needles);
    for (let pass = 0; pass < 5 && found.some((pid) => !signalled.has(pid)); pass++) {
      for (const pid of found) {
        signal(pid, "SIGSTOP");
        signalled.add(pid);
      }
      found = findTargets(target, needles);
    }
    if (found.length === 0) return signalled.size;
    for (const pid of found) signal(pid, "SIGKILL");
    for (const pid of found) signal(pid, "SIGCONT");
    await new Promise((resolve) => setTimeout(resolve, round < 5 ? 2 : 20));
  }
  return signalled.size;
}
