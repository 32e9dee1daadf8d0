/**
 * Sandbox lifecycle on the bubblewrap backend: lazy shared start, restart keeps the home and
 * clears /tmp, destroy deletes storage, a dead agent is noticed, and a server killed with -9
 * takes its sandboxes down with it.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readFile as readTool, writeFile as writeTool } from "../../server/tools/files.ts";
import { requireSandboxHost } from "../support/use-server.ts";
import { type DirectSandbox, startDirectSandbox } from "./sandbox-helpers.ts";

requireSandboxHost();

let sandbox: DirectSandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

const cgroupProcs = (id: string) => `/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`;
const livePids = (id: string): number[] =>
  existsSync(cgroupProcs(id))
    ? readFileSync(cgroupProcs(id), "utf8").split("\n").filter(Boolean).map(Number)
    : [];

async function waitFor(check: () => boolean, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("SandboxManager on bubblewrap", () => {
  it("shares one start between concurrent callers and reports running", async () => {
    sandbox = await startDirectSandbox();
    const { manager, spec, runtime } = sandbox;
    const [a, b] = await Promise.all([manager.ensureRunning(spec), manager.ensureRunning(spec)]);
    expect(a).toBe(runtime);
    expect(b).toBe(runtime);
    expect(manager.status(spec.id)).toBe("running");
    expect(await runtime.call("ping", {})).toMatchObject({ uid: 1000 });
  });

  it("restart keeps /home/user and clears /tmp and every process", async () => {
    sandbox = await startDirectSandbox();
    const ctx = sandbox.context();
    await writeTool(ctx, { file_path: "/home/user/keep.txt", content: "kept\n" });
    await writeTool(ctx, { file_path: "/tmp/gone.txt", content: "gone\n" });
    const before = livePids(sandbox.spec.id);
    const runtime = await sandbox.manager.restart(sandbox.spec);
    const after = { ...ctx, runtime };
    expect(await readTool(after, { file_path: "/home/user/keep.txt" })).toMatchObject({
      content: "   1\tkept\n",
    });
    await expect(readTool(after, { file_path: "/tmp/gone.txt" })).rejects.toMatchObject({
      code: "not_found",
    });
    const now = livePids(sandbox.spec.id);
    for (const pid of before) expect(now).not.toContain(pid);
  });

  it("stop ends every process; destroy deletes the storage", async () => {
    sandbox = await startDirectSandbox();
    const { manager, spec } = sandbox;
    expect(livePids(spec.id).length).toBeGreaterThan(0);
    await manager.stop(spec.id);
    expect(manager.status(spec.id)).toBe("stopped");
    expect(livePids(spec.id)).toEqual([]);
    await manager.destroy(spec);
    expect(existsSync(sandbox.storageDir)).toBe(false);
  });

  it("notices an agent that died, and the next call starts it afresh", async () => {
    sandbox = await startDirectSandbox();
    const { manager, spec, runtime } = sandbox;
    for (const pid of livePids(spec.id)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already: killing the sandbox's first process takes the others with it.
      }
    }
    await runtime.stopped;
    expect(manager.status(spec.id)).toBe("stopped");
    await expect(runtime.call("ping", {})).rejects.toMatchObject({ code: "unavailable" });
    const fresh = await manager.ensureRunning(spec);
    expect(fresh).not.toBe(runtime);
    expect(await fresh.call("ping", {})).toMatchObject({ uid: 1000 });
  });
});

describe("a server killed with -9", () => {
  it("takes its sandbox down (die-with-parent)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-kill9-"));
    const id = `kill9-${process.pid}`;
    const script = join(dir, "server.mts");
    const root = process.cwd();
    await writeFile(
      script,
      `import { createBubblewrapBackend } from ${JSON.stringify(join(root, "server/sandbox/bubblewrap.ts"))};
const backend = createBubblewrapBackend({ sandboxesDir: ${JSON.stringify(dir)}, hostUids: { claim: () => 399999, uidOf: () => 399999, release() {} } });
const spec = { id: ${JSON.stringify(id)}, name: "kill9", user: "test",
  limits: { maxProcesses: 64, maxFileSize: 1e8, maxMemory: 1e9, tmpSize: 1e7 } };
const runtime = await backend.start(spec);
await runtime.call("ping", {});
console.log("ready");
setInterval(() => {}, 1000);
`,
    );
    // One process (node with tsx's loader), not the tsx CLI, which would run the script in a child.
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
      child.on("exit", () => reject(new Error("the server script exited early")));
    });
    expect(livePids(id).length).toBeGreaterThan(0);
    child.kill("SIGKILL");
    expect(await waitFor(() => livePids(id).length === 0)).toBe(true);
    await rm(dir, { recursive: true, force: true });
    for (const controller of ["memory", "pids"]) {
      await rmdir(`/sys/fs/cgroup/${controller}/lumina/${id}`).catch(() => {});
    }
  }, 60_000);
});
