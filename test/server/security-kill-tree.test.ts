/**
 * SECURITY.md: killing a command kills everything it started, also children that cleared their
 * environment, called setsid and double-forked (a cgroup per command, not process groups or
 * environment markers). Checked from inside (`ps`) and from the host (the sandbox's memory
 * cgroup, which holds every process of the sandbox).
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { escapee, until } from "../support/processes.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;
let id: string;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
  id = basename(dirname(await hostHomeOf(server(), lumina)));
});

/** How many `sleep <seconds>` processes the sandbox sees. */
async function inside(seconds: string): Promise<number> {
  const { output } = await lumina.bash(`ps -eo args | grep -c '^/bin/sleep ${seconds}$' || true`);
  return Number(output.trim());
}

/** How many `sleep <seconds>` processes run in the sandbox's memory cgroup, seen from the host. */
async function onHost(seconds: string): Promise<number> {
  const procs = `/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`;
  if (!existsSync(procs)) return 0; // No memory controller here: the inside check stands alone.
  let count = 0;
  for (const pid of (await readFile(procs, "utf8")).split("\n").filter(Boolean)) {
    const args = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (args === `/bin/sleep\0${seconds}\0`) count += 1;
  }
  return count;
}

describe("killing a command kills everything it started", () => {
  it("kill_bash kills a background command's double-forked, setsid, env -i children", async () => {
    const { shellId } = await lumina.bash(`${escapee("4242.1")} sleep 600`, {
      runInBackground: true,
    });
    await until(async () => (await inside("4242.1")) === 1, "the escapee runs");
    expect(await onHost("4242.1")).toBe(1);
    expect((await lumina.killBash(shellId)).status).toBe("killed");
    expect(await inside("4242.1")).toBe(0);
    expect(await onHost("4242.1")).toBe(0);
  });

  it("a foreground timeout kills the command's double-forked, setsid, env -i children", async () => {
    const result = await lumina.bash(`${escapee("4242.2")} sleep 600`, { timeout: 3000 });
    expect(result.killed).toBe(true);
    expect(await inside("4242.2")).toBe(0);
    expect(await onHost("4242.2")).toBe(0);
  });

  it("a `cmd &` left by a successful command runs on, as at a terminal, until a restart", async () => {
    expect(await lumina.bash("/bin/sleep 4242.3 &")).toMatchObject({ exitCode: 0, killed: false });
    await lumina.bash("true");
    expect(await inside("4242.3")).toBe(1);
    await lumina.restartSandbox();
    expect(await onHost("4242.3")).toBe(0);
    expect(await inside("4242.3")).toBe(0);
  });

  it("runs each command in its own job group and frees it afterwards", async () => {
    const own = await lumina.bash("cat /proc/self/cgroup | grep -o 'pids:/.*'");
    expect(own.output).toMatch(/^pids:\/job\d+\n$/);
    const { shellId } = await lumina.bash("grep -o 'pids:/.*' /proc/self/cgroup", {
      runInBackground: true,
    });
    await until(async () => (await lumina.bashOutput(shellId)).status !== "running", "it ends");
    await lumina.killBash(shellId);
    // Between commands the shell is back in the sandbox's top group; no slot holds anything.
    const group = `/sys/fs/cgroup/pids/lumina/${id}`;
    for (const entry of await readdir(group, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        expect(await readFile(`${group}/${entry.name}/cgroup.procs`, "utf8")).toBe("");
      }
    }
  });
});

describe("the delegated cgroup", () => {
  it("lets the sandbox move its processes, but not raise its limit or create groups", async () => {
    const limit = await lumina.bash("cat /run/lumina/jobs/pids.max");
    expect(limit.output).toMatch(/^\d+\n$/);
    const raise = await lumina.bash("echo 100000 > /run/lumina/jobs/pids.max");
    expect(raise.exitCode).not.toBe(0);
    expect((await lumina.bash("cat /run/lumina/jobs/pids.max")).output).toBe(limit.output);
    expect((await lumina.bash("chmod 666 /run/lumina/jobs/pids.max")).exitCode).not.toBe(0);
    expect((await lumina.bash("echo 1 > /run/lumina/jobs/job0/pids.max")).exitCode).not.toBe(0);
    // Cgroups cost the host kernel memory the sandbox is barely charged for: a fixed pool only.
    expect((await lumina.bash("mkdir /run/lumina/jobs/mine")).exitCode).not.toBe(0);
    expect((await lumina.bash("mkdir /run/lumina/jobs/job0/mine")).exitCode).not.toBe(0);
    const moved = await lumina.bash(
      "sh -c 'echo $$ > /run/lumina/jobs/job1/cgroup.procs && echo ok'",
    );
    expect(moved.output).toBe("ok\n");
  });

  it("destroy removes the sandbox's pids group with its job groups", async () => {
    await lumina.bash("/bin/sleep 4242.4 &");
    const { shellId } = await lumina.bash("sleep 600", { runInBackground: true });
    expect(shellId).not.toBe("");
    await lumina.destroySandbox();
    expect(existsSync(`/sys/fs/cgroup/pids/lumina/${id}`)).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/memory/lumina/${id}`)).toBe(false);
  });
});
