/**
 * Real sandboxes on cgroup v2 job groups: the server's v2 driver over this host's cgroup2
 * hierarchy (`/sys/fs/cgroup/unified` on a hybrid host, whose controllers are bound to v1, so
 * these sandboxes get no memory, pids or cpu limit from it), with bubblewrap's user and cgroup
 * namespaces. Pins the in-sandbox side (server/agent/shell/job-group.ts) on the v2 layout:
 * each command in its own slot, kills of setsid double-forked children, and what the
 * sandbox may not do to its groups. Skipped where no cgroup2 hierarchy is mounted there.
 */
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listPids, removeTree } from "../../server/sandbox/cgroup-tree.ts";
import { createCgroupV2Driver } from "../../server/sandbox/cgroup-v2.ts";
import type { LuminaClient } from "../../src/index.ts";
import { escapee, until } from "../support/processes.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

const unified = "/sys/fs/cgroup/unified";
const usable =
  process.getuid?.() === 0 &&
  readFileSync("/proc/self/mountinfo", "utf8").includes(` ${unified} `) &&
  existsSync(join(unified, "cgroup.controllers"));
const parent = `lumina-test-${process.pid}`;
let lumina: LuminaClient;
let group = "";

/** How many `sleep <seconds>` processes run in the sandbox's v2 group, seen from the host. */
async function onHost(seconds: string): Promise<number> {
  let count = 0;
  for (const pid of await listPids([group])) {
    const args = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (args === `/bin/sleep\0${seconds}\0`) count += 1;
  }
  return count;
}

describe.skipIf(!usable)("sandboxes on cgroup v2 job groups", () => {
  // Registered before the server's hooks, so the parent group goes once the server has closed.
  afterAll(() => removeTree(join(unified, parent)));
  useTestServer({ cgroups: createCgroupV2Driver({ root: unified, parent }) }, async (server) => {
    lumina = await newSandboxClient(server);
    group = join(unified, parent, basename(dirname(await hostHomeOf(server, lumina))));
  });

  it("runs each command in a slot of its own group, which has cgroup.kill", async () => {
    const own = await lumina.bash("grep '^0::' /proc/self/cgroup; ls /run/lumina/jobs/job0");
    // The sandbox's cgroup namespace starts at its group: a slot shows as /jobN.
    expect(own.output).toMatch(/^0::\/job\d+\n[\s\S]*cgroup\.kill/);
  });

  it("kill_bash kills a background command's double-forked, setsid, env -i children", async () => {
    const { shellId } = await lumina.bash(`${escapee("4245.1")} sleep 600`, {
      runInBackground: true,
    });
    await until(async () => (await onHost("4245.1")) === 1, "the escapee runs");
    expect((await lumina.killBash(shellId)).status).toBe("killed");
    expect(await onHost("4245.1")).toBe(0);
  });

  it("a foreground timeout kills the command's double-forked, setsid, env -i children", async () => {
    const result = await lumina.bash(`${escapee("4245.2")} sleep 600`, { timeout: 3000 });
    expect(result.killed).toBe(true);
    expect(await onHost("4245.2")).toBe(0);
    expect((await lumina.bash("echo alive")).output).toBe("alive\n");
  });

  it("lets the sandbox move its processes, but not create groups or delegate controllers", async () => {
    expect((await lumina.bash("mkdir /run/lumina/jobs/mine")).exitCode).not.toBe(0);
    expect((await lumina.bash("mkdir /run/lumina/jobs/job0/mine")).exitCode).not.toBe(0);
    const control = "echo +pids > /run/lumina/jobs/job0/cgroup.subtree_control";
    expect((await lumina.bash(control)).exitCode).not.toBe(0);
    const moved = await lumina.bash(
      "sh -c 'echo $$ > /run/lumina/jobs/job1/cgroup.procs && grep ^0:: /proc/self/cgroup'",
    );
    expect(moved.output).toBe("0::/job1\n");
  });

  it("destroy kills everything in the group and removes it with its slots", async () => {
    await lumina.bash("/bin/sleep 4245.3 &");
    expect(await onHost("4245.3")).toBe(1);
    await lumina.destroySandbox();
    expect(existsSync(group)).toBe(false);
  });
});
