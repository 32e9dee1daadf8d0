/**
 * Operations on a tree of cgroup directories that cgroup v1 and v2 share: listing child groups
 * and member pids, killing every member, removing a tree deepest first, and the fixed pool of
 * job slots (server/sandbox/cgroup.ts).
 */
import { existsSync } from "node:fs";
import { chown, mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The child groups of a group (its subdirectories); none if it is gone. */
export async function subgroups(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => join(dir, entry.name));
}

/** Removes an emptied group and its child groups, deepest first (a group with children cannot go). */
export async function removeTree(dir: string): Promise<void> {
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
export async function listPids(dirs: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of dirs) {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line) pids.add(Number(line));
    for (const pid of await listPids(await subgroups(dir))) pids.add(pid);
  }
  return [...pids];
}

/**
 * Kills every process in the groups and waits (bounded) until they are gone. A group with a
 * `cgroup.kill` file (cgroup v2, kernel 5.14+) is killed by the kernel in one write, forks
 * included; the signal loop covers older kernels and cgroup v1.
 */
export async function killMembers(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    if (existsSync(join(dir, "cgroup.kill")))
      await writeFile(join(dir, "cgroup.kill"), "1").catch(() => {});
  }
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
}

/** Gives `uid` the named files of group `dir` (and nothing else there: never the directory). */
export async function delegateFiles(
  dir: string,
  files: readonly string[],
  uid: number,
): Promise<void> {
  for (const file of files) await chown(join(dir, file), uid, uid);
}

/** Creates the pool of `count` job slots `job0`… in `dir`, each with `files` given to `uid`. */
export async function createJobSlots(
  dir: string,
  count: number,
  files: readonly string[],
  uid: number,
): Promise<void> {
  const slots = Array.from({ length: count }, (_, index) => join(dir, `job${index}`));
  await Promise.all(
    slots.map(async (slot) => {
      await mkdir(slot, { recursive: true }); // A leftover slot that would not go is reused.
      await delegateFiles(slot, files, uid);
    }),
  );
}

/**
 * Writes `frozen` to a group's freeze file and waits until `state()` reports that the kernel
 * froze every member (bounded: a member stuck in an uninterruptible wait may delay it); on
 * failure writes `thawed` back and throws. Resolves to the function that thaws the group.
 */
export async function freezeGroup(
  file: string,
  values: { frozen: string; thawed: string },
  isFrozen: () => Promise<boolean>,
): Promise<() => Promise<void>> {
  const thaw = () => writeFile(file, values.thawed);
  await writeFile(file, values.frozen);
  for (let attempt = 0; attempt < 500; attempt++) {
    if (await isFrozen()) return thaw;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await thaw();
  throw new Error(`the processes of ${file} did not freeze within 5 s`);
}
