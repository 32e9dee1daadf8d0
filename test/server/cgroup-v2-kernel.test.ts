/**
 * The cgroup v2 driver and job groups against the real kernel: a cgroup2 hierarchy mounted in
 * a mount namespace of its own (`unshare -m`, held by a sleeping process and reached through
 * its `/proc/<pid>/root`), so the host's mounts stay as they were (the hierarchy is still the
 * host's one cgroup2 hierarchy: every group made here is removed). On a host whose controllers
 * are bound to cgroup v1 (this one) the hierarchy has no memory, pids or cpu controller: what
 * runs for real is group creation, the delegation to the sandbox's uid (moves by that uid, its
 * refused mkdir and writes), `cgroup.kill` and removal. The limit files: cgroup-drivers.test.ts.
 * Skipped where the kernel refuses the mount (no root, no cgroup2).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobGroup } from "../../server/agent/shell/job-group.ts";
import { jobSlots, type SandboxCgroups } from "../../server/sandbox/cgroup.ts";
import { killMembers, removeTree } from "../../server/sandbox/cgroup-tree.ts";
import { createCgroupV2Driver } from "../../server/sandbox/cgroup-v2.ts";
import { until } from "../support/processes.ts";

const mountPoint = mkdtempSync(join(tmpdir(), "lumina-cgroup2-"));
const parentName = `lumina-test-${process.pid}`;
const sandboxUid = 1_990_000_000 + (process.pid % 10_000);
let holder: ChildProcess | undefined;
let root = "";

/** Mounts cgroup2 in a new mount namespace; resolves false where the kernel does not allow it. */
function mountInOwnNamespace(): Promise<boolean> {
  if (process.getuid?.() !== 0) return Promise.resolve(false);
  const script = `mount -t cgroup2 none '${mountPoint}' && echo mounted && exec sleep 3600`;
  const child = spawn("unshare", ["-m", "--propagation", "private", "sh", "-c", script], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  holder = child;
  return new Promise((resolve) => {
    child.on("error", () => resolve(false));
    child.on("exit", () => resolve(false));
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("mounted")) resolve(true);
    });
  });
}

const mounted = await mountInOwnNamespace();
if (mounted) root = `/proc/${holder?.pid}/root${mountPoint}`;

afterAll(async () => {
  // A failed test may leave its sleepers: the hierarchy is the host's, so nothing may stay.
  if (root) await killMembers([join(root, parentName)]);
  if (root) await removeTree(join(root, parentName));
  holder?.kill("SIGKILL");
  rmSync(mountPoint, { recursive: true, force: true });
});

/**
 * Runs `script` with sh as the sandbox's uid, after root put it into the group `dir`; in the
 * holder's mount namespace (nsenter), since that uid may not follow the holder's /proc root.
 * Paths under `root` in the script are given as they appear there.
 */
function runAsSandbox(dir: string, script: string): string {
  const drop = `/usr/bin/setpriv --reuid=${sandboxUid} --regid=${sandboxUid} --clear-groups`;
  const local = (text: string) => text.replaceAll(root, mountPoint);
  return execFileSync(
    "nsenter",
    [
      `--target=${holder?.pid}`,
      "--mount",
      "--",
      "sh",
      "-c",
      `echo $$ > '${local(dir)}/cgroup.procs' && exec ${drop} sh -c "$0"`,
      local(script),
    ],
    { encoding: "utf8", timeout: 20_000 },
  );
}

/** Whether `pid` runs (a zombie counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

describe.skipIf(!mounted)("the cgroup v2 driver on a real cgroup2 mount", () => {
  const limits = { maxMemory: 256 * 1024 ** 2, maxProcesses: 64, maxCpus: 1 };
  let groups: SandboxCgroups;
  let group = "";

  beforeAll(async () => {
    groups = await createCgroupV2Driver({ root, parent: parentName }).create(
      "sb",
      limits,
      sandboxUid,
    );
    group = join(root, parentName, "sb");
  });

  it("reports exactly the controllers this hierarchy lacks", async () => {
    const available = (await readFile(join(root, "cgroup.controllers"), "utf8")).split(/\s+/);
    const missing = await createCgroupV2Driver({ root, parent: parentName }).missingLimits();
    const expected = ["memory", "pids", "cpu"].filter((name) => !available.includes(name));
    expect(missing.map(({ limit }) => limit)).toEqual(expected);
    expect(groups.missing).toEqual(expected);
  });

  it("creates the sandbox's group with its slots, each with cgroup.kill", () => {
    expect(groups.procsFiles).toEqual([join(group, "cgroup.procs")]);
    expect(groups.bwrapArgs).toEqual(["--bind", group, "/run/lumina/jobs"]);
    for (const index of [0, jobSlots - 1]) {
      expect(existsSync(join(group, `job${index}`, "cgroup.kill"))).toBe(true);
    }
    expect(existsSync(join(group, `job${jobSlots}`))).toBe(false);
  });

  it("lets the sandbox's uid move itself between its group and a slot, and nothing more", () => {
    const out = runAsSandbox(
      group,
      [
        `mkdir '${group}/mine' 2>/dev/null || echo mkdir refused`,
        `mkdir '${group}/job0/mine' 2>/dev/null || echo mkdir in slot refused`,
        `(echo 1 > '${group}/cgroup.max.descendants') 2>/dev/null || echo limit refused`,
        `echo $$ > '${group}/job0/cgroup.procs' && echo to slot`,
        "grep '^0::' /proc/self/cgroup",
        `echo $$ > '${group}/cgroup.procs' && echo back`,
        "grep '^0::' /proc/self/cgroup",
      ].join("\n"),
    );
    expect(out).toBe(
      "mkdir refused\nmkdir in slot refused\nlimit refused\nto slot\n" +
        `0::/${parentName}/sb/job0\nback\n0::/${parentName}/sb\n`,
    );
  });

  it("kills a slot's setsid, double-forked, env -i members through cgroup.kill", async () => {
    const job = JobGroup.claim(group);
    expect(job).toBeDefined();
    const escapee = "/usr/bin/env -i /usr/bin/setsid /bin/sh -c '/bin/sleep 4243 & exit'";
    // The slot's own `cgroup.kill` is the sandbox uid's: it can kill its job, too.
    const out = runAsSandbox(
      group,
      [
        `echo $$ > '${job?.procsFile}'`,
        `${escapee} >/dev/null 2>&1`,
        "/bin/sleep 4243 >/dev/null 2>&1 &",
        `sh -c "echo 1 > '${group}/job1/cgroup.kill'" && echo kill-writable`,
      ].join("\n"),
    );
    expect(out).toContain("kill-writable");
    const members = job?.pids() ?? [];
    expect(members.length).toBe(2);
    await job?.kill();
    expect(job?.pids()).toEqual([]);
    for (const pid of members) expect(alive(pid)).toBe(false);
    expect(job?.release()).toBe(true);
  });

  it("freezes every member of the sandbox's group, slots included, until thawed", async () => {
    const spin = "/bin/sh -c 'while :; do :; done' >/dev/null 2>&1";
    const pids = runAsSandbox(
      group,
      `${spin} & echo $!; echo $$ > '${group}/job2/cgroup.procs'; ${spin} & echo $!`,
    )
      .trim()
      .split("\n")
      .map(Number);
    const cpuTime = (pid: number) => {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in ticks
    };
    const thaw = await groups.freeze!();
    const frozen = pids.map(cpuTime);
    // A frozen process gets no CPU at all: its time stands still however long we look.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(pids.map(cpuTime)).toEqual(frozen);
    await thaw();
    await until(
      () => pids.every((pid, index) => cpuTime(pid) > frozen[index]!),
      "the thawed spinners run again",
    );
  });

  it("kills everything in the sandbox's group and removes it, slots first", async () => {
    runAsSandbox(group, `/bin/sleep 4244 >/dev/null 2>&1 & echo $! > '${group}/job5/cgroup.procs'`);
    expect((await readFile(join(group, "job5", "cgroup.procs"), "utf8")).trim()).not.toBe("");
    await groups.killAll();
    await groups.remove();
    expect(existsSync(group)).toBe(false);
  });
});
