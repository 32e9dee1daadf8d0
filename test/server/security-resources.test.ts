/**
 * SECURITY.md, resources and processes: a fork bomb, a memory hog or a /tmp filler in one sandbox
 * leaves the other sandboxes and the API responsive; no nested user namespaces; a grep pattern
 * that looks like a ripgrep option stays a pattern.
 */
import { readFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { describe, expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

let noisy: LuminaClient;
let quiet: LuminaClient;

const server = useTestServer(
  {
    limits: { maxProcesses: 64, maxMemory: 256 * 1024 ** 2, tmpSize: 16 * 1024 ** 2 },
  },
  async () => {
    noisy = await newSandboxClient(server());
    quiet = await newSandboxClient(server());
  },
);

/** The storage id of a sandbox, which names its cgroups. */
async function sandboxIdOf(client: LuminaClient): Promise<string> {
  return basename(dirname(await hostHomeOf(server(), client)));
}

/** The neighbour sandbox and the API still answer, and right. */
async function expectNeighboursFine(): Promise<void> {
  expect((await quiet.bash("echo still here")).output).toBe("still here\n");
  const health = await fetch(`${server().url}/v1/health`);
  expect(health.status).toBe(200);
}

describe("one sandbox cannot starve the others", () => {
  it("a fork bomb stays within its sandbox's process limit; a restart clears it", async () => {
    // The bomb outlives its command (its halves run in the background), as at a terminal.
    await noisy.bash("bomb() { bomb | bomb & }; bomb; sleep 2", { timeout: 20_000 });
    // The memory group holds every process; the pids group's own list omits its job groups.
    const pids = await readFile(
      `/sys/fs/cgroup/memory/lumina/${await sandboxIdOf(noisy)}/cgroup.procs`,
      "utf8",
    );
    const running = pids.split("\n").filter(Boolean).length;
    // It did fill the sandbox (so the limit was what stopped it) and no more than that.
    expect(running).toBeGreaterThan(32);
    expect(running).toBeLessThanOrEqual(64 + 8);
    await expectNeighboursFine();
    await noisy.restartSandbox();
    const after = await noisy.bash("echo recovered; ps -e --no-headers | wc -l");
    expect(after.output).toMatch(/^recovered\n\d+\n$/);
    expect(Number(after.output.split("\n")[1])).toBeLessThan(10);
  });

  it("a memory hog is stopped by its sandbox's memory limit", async () => {
    const hog = await noisy.bash(
      "python3 -c 'b = bytearray(1024 ** 3); print(\"allocated\", len(b))'",
      { timeout: 60_000 },
    );
    expect(hog.exitCode).not.toBe(0);
    expect(hog.output).not.toMatch(/^allocated/m);
    await expectNeighboursFine();
    expect((await noisy.bash("echo alive")).output).toBe("alive\n");
  });

  it("a /tmp filler runs out of its sandbox's /tmp, not the host's disk", async () => {
    const fill = await noisy.bash(
      "head -c 64M /dev/zero > /tmp/fill; echo exit=$?; du -m /tmp/fill",
    );
    expect(fill.output).toMatch(/No space left on device/);
    expect(fill.output).toMatch(/exit=1/);
    expect(Number(fill.output.trim().split("\n").at(-1)?.split("\t")[0])).toBeLessThanOrEqual(16);
    await expectNeighboursFine();
  });
});

describe("no way out through namespaces or options", () => {
  it("cannot create nested user namespaces", async () => {
    const nested = await noisy.bash("unshare --user --map-root-user id -u 2>&1; echo exit=$?");
    expect(nested.output).toMatch(/exit=[1-9]/);
    expect(nested.output).not.toMatch(/^0$/m);
  });

  it("a grep pattern that looks like an option is searched for, never run", async () => {
    await noisy.write("/home/user/opts/notes.txt", "use --pre=sh with care\n");
    const found = await noisy.grep("--pre=sh", { path: "/home/user/opts", outputMode: "content" });
    expect(found.matches.map((match) => match.line)).toEqual(["use --pre=sh with care"]);
    const globbed = await noisy.grep("care", { path: "/home/user/opts", glob: "--pre=sh" });
    expect(globbed.files).toEqual([]);
  });
});
