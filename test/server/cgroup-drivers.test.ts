/**
 * The cgroup drivers against fixtures: which hierarchy the probe picks from mountinfo texts,
 * which files the v2 driver writes for given limits (a fixture tree laid out as the kernel
 * makes it), what it reports when a controller is missing, and that a job slot is killed
 * through `cgroup.kill` where there is one. The real kernel: cgroup-v2-kernel.test.ts.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { JobGroup } from "../../server/agent/shell/job-group.ts";
import { jobSlots } from "../../server/sandbox/cgroup.ts";
import { probeCgroupLayout } from "../../server/sandbox/cgroup-probe.ts";
import { cpuMaxOf, createCgroupV2Driver } from "../../server/sandbox/cgroup-v2.ts";
import { requireSandboxHost } from "../support/use-server.ts";

requireSandboxHost();

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lumina-cgroup-"));
  dirs.push(dir);
  return dir;
}

/** Mountinfo lines as the kernel writes them (fields after the mount point shortened). */
const line = (id: number, mountPoint: string, fsType: string, superOptions: string) =>
  `${id} 23 0:${id} / ${mountPoint} rw,nosuid,nodev,noexec,relatime shared:${id} - ${fsType} ${fsType} ${superOptions}`;
const rootLines = [line(21, "/", "ext4", "rw"), line(22, "/proc", "proc", "rw")];

describe("the cgroup probe", () => {
  it("picks cgroup v2 when the unified hierarchy is mounted at /sys/fs/cgroup", () => {
    const text = [...rootLines, line(30, "/sys/fs/cgroup", "cgroup2", "rw,nsdelegate")].join("\n");
    expect(probeCgroupLayout(text)).toEqual({ version: "v2", root: "/sys/fs/cgroup" });
  });

  it("picks cgroup v1 with each controller's mount point, cpu,cpuacct included", () => {
    const text = [
      ...rootLines,
      line(30, "/sys/fs/cgroup", "tmpfs", "rw,mode=755"),
      line(31, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
      line(32, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
      line(33, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
      line(34, "/sys/fs/cgroup/systemd", "cgroup", "rw,xattr,name=systemd"),
    ].join("\n");
    expect(probeCgroupLayout(text)).toEqual({
      version: "v1",
      mounts: {
        cpu: "/sys/fs/cgroup/cpu,cpuacct",
        memory: "/sys/fs/cgroup/memory",
        pids: "/sys/fs/cgroup/pids",
      },
    });
  });

  it("finds the v1 freezer beside the limit controllers, for snapshots", () => {
    const text = [
      ...rootLines,
      line(32, "/sys/fs/cgroup/cpu", "cgroup", "rw,cpu"),
      line(36, "/sys/fs/cgroup/freezer", "cgroup", "rw,freezer"),
    ].join("\n");
    expect(probeCgroupLayout(text)).toEqual({
      version: "v1",
      mounts: { cpu: "/sys/fs/cgroup/cpu", freezer: "/sys/fs/cgroup/freezer" },
    });
  });

  it("picks cgroup v1 on a hybrid host, whose cgroup2 mount has no controllers", () => {
    // This machine's layout: v1 controllers plus an empty cgroup2 at /sys/fs/cgroup/unified.
    const text = [
      ...rootLines,
      line(32, "/sys/fs/cgroup/cpu", "cgroup", "rw,cpu"),
      line(35, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
      line(39, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
      line(41, "/sys/fs/cgroup/unified", "cgroup2", "rw"),
    ].join("\n");
    expect(probeCgroupLayout(text)).toMatchObject({ version: "v1" });
  });

  it("falls back to a cgroup2 mount elsewhere, decoding escaped spaces, and else to none", () => {
    const text = [...rootLines, line(40, "/run/my\\040cgroups", "cgroup2", "rw")].join("\n");
    expect(probeCgroupLayout(text)).toEqual({ version: "v2", root: "/run/my cgroups" });
    expect(probeCgroupLayout(rootLines.join("\n"))).toEqual({ version: "none" });
    expect(probeCgroupLayout("")).toEqual({ version: "none" });
  });
});

const limitFiles = ["memory.max", "memory.swap.max", "pids.max", "cpu.max"];

/**
 * A cgroup2 tree as the kernel lays it out: `controllers` available at the root, the
 * sandbox's group with the limit files of the controllers enabled for it, and its slots.
 */
async function v2Fixture(controllers: string[], id: string): Promise<string> {
  const root = await tempDir();
  await writeFile(join(root, "cgroup.controllers"), `${controllers.join(" ")}\n`);
  await writeFile(join(root, "cgroup.subtree_control"), "");
  const group = join(root, "lumina", id);
  await mkdir(group, { recursive: true });
  await writeFile(join(root, "lumina", "cgroup.subtree_control"), "");
  const present = limitFiles.filter((file) => controllers.includes(file.split(".")[0]!));
  for (const file of ["cgroup.procs", "cgroup.kill", ...present])
    await writeFile(join(group, file), "");
  for (let index = 0; index < jobSlots; index++) {
    await mkdir(join(group, `job${index}`));
    for (const file of ["cgroup.procs", "cgroup.kill"])
      await writeFile(join(group, `job${index}`, file), "");
  }
  return root;
}

const uid = 1_234_567;
const limits = { maxMemory: 512 * 1024 ** 2, maxProcesses: 100, maxCpus: 1.5 };

describe("the cgroup v2 driver", () => {
  it("enables the controllers and writes memory.max, memory.swap.max, pids.max and cpu.max", async () => {
    const root = await v2Fixture(["cpuset", "cpu", "io", "memory", "pids"], "sb1");
    const driver = createCgroupV2Driver({ root });
    expect(await driver.missingLimits()).toEqual([]);
    const groups = await driver.create("sb1", limits, uid);
    const group = join(root, "lumina", "sb1");
    const read = (file: string) => readFile(join(group, file), "utf8");
    expect(await read("memory.max")).toBe(String(512 * 1024 ** 2));
    expect(await read("memory.swap.max")).toBe("0");
    expect(await read("pids.max")).toBe("108");
    expect(await read("cpu.max")).toBe("150000 100000");
    for (const dir of [root, join(root, "lumina")])
      expect(await readFile(join(dir, "cgroup.subtree_control"), "utf8")).toBe(
        "+memory +pids +cpu",
      );
    expect(groups.missing).toEqual([]);
    expect(groups.procsFiles).toEqual([join(group, "cgroup.procs")]);
    expect(groups.bwrapArgs).toEqual(["--bind", group, "/run/lumina/jobs"]);
  });

  it("gives the sandbox uid the procs and kill files only, never a directory or a limit", async () => {
    const root = await v2Fixture(["cpu", "memory", "pids"], "sb2");
    await createCgroupV2Driver({ root }).create("sb2", limits, uid);
    const group = join(root, "lumina", "sb2");
    const owner = async (path: string) => (await stat(path)).uid;
    expect(await owner(join(group, "cgroup.procs"))).toBe(uid);
    for (const root of [group, join(group, "job0")]) expect(await owner(root)).toBe(0);
    for (const file of limitFiles) expect(await owner(join(group, file))).toBe(0);
    for (const index of [0, jobSlots - 1]) {
      const slot = join(group, `job${index}`);
      expect(await owner(join(slot, "cgroup.procs"))).toBe(uid);
      expect(await owner(join(slot, "cgroup.kill"))).toBe(uid);
    }
  });

  it("names each controller it cannot use and marks the sandbox's limits missing", async () => {
    const root = await v2Fixture(["cpu", "pids"], "sb3");
    const missing = await createCgroupV2Driver({ root }).missingLimits();
    expect(missing.map(({ limit }) => limit)).toEqual(["memory"]);
    expect(missing[0]?.reason).toMatch(/memory controller is not available/);
    const groups = await createCgroupV2Driver({ root }).create("sb3", limits, uid);
    expect(groups.missing).toEqual(["memory"]);
    expect(await readFile(join(root, "cgroup.subtree_control"), "utf8")).toBe("+pids +cpu");
  });

  it("reports every limit when the root is no cgroup2 group", async () => {
    const missing = await createCgroupV2Driver({ root: await tempDir() }).missingLimits();
    expect(missing.map(({ limit }) => limit)).toEqual(["memory", "pids", "cpu"]);
  });

  it("writes cpu.max as max when there is no CPU limit", () => {
    expect(cpuMaxOf(undefined)).toBe("max 100000");
    expect(cpuMaxOf(0.001)).toBe("1000 100000");
  });
});

describe("a job group in the sandbox", () => {
  it("is killed through its cgroup.kill unless a member is spared", async () => {
    const jobs = await tempDir();
    await writeFile(join(jobs, "cgroup.procs"), "");
    await mkdir(join(jobs, "job0"));
    for (const file of ["cgroup.procs", "cgroup.kill"])
      await writeFile(join(jobs, "job0", file), "");
    const group = JobGroup.claim(jobs);
    expect(group?.dir).toBe(join(jobs, "job0"));
    // A member the caller spares (the shell itself): the kernel would kill it too, so no write.
    await writeFile(join(jobs, "job0", "cgroup.procs"), `${process.pid}\n`);
    await group?.kill();
    expect(await readFile(join(jobs, "job0", "cgroup.kill"), "utf8")).toBe("");
    await writeFile(join(jobs, "job0", "cgroup.procs"), "");
    await group?.kill();
    expect(await readFile(join(jobs, "job0", "cgroup.kill"), "utf8")).toBe("1");
  });
});
