/**
 * Missing sandbox limits are never silent: the server logs one warning naming them at start,
 * or with `requireLimits` (`--require-limits`) refuses to start, and fails a sandbox's start
 * that could not get them. The cgroup driver is injected as a v2 driver over a fixture tree
 * (this host mounts v1, whose real limits are checked by security-resources.test.ts).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLuminaServer } from "../../server/index.ts";
import { createCgroupV2Driver } from "../../server/sandbox/cgroup-v2.ts";
import { createClient } from "../../src/index.ts";
import { requireSandboxHost, useTestServers } from "../support/use-server.ts";

requireSandboxHost();

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});
// Registered after the cleanup above, so each test's servers close before its directories go.
const startServer = useTestServers();

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lumina-limits-"));
  dirs.push(dir);
  return dir;
}

/** A cgroup2 root offering `controllers`, as a host whose others are bound to cgroup v1. */
async function cgroup2Root(controllers: string[]): Promise<string> {
  const root = await tempDir();
  await writeFile(join(root, "cgroup.controllers"), controllers.join(" "));
  await writeFile(join(root, "cgroup.subtree_control"), "");
  await mkdir(join(root, "lumina"));
  await writeFile(join(root, "lumina", "cgroup.subtree_control"), "");
  return root;
}

describe("a server whose sandboxes cannot get every limit", () => {
  it("refuses to start with requireLimits, naming the limit and why, leaving no registry", async () => {
    const dataDir = await tempDir();
    const cgroups = createCgroupV2Driver({ root: await cgroup2Root(["cpu", "pids"]) });
    const starting = createLuminaServer({ dataDir, port: 0, requireLimits: true, cgroups });
    await expect(starting).rejects.toThrow(
      /--require-limits: refusing to start.*memory \(the cgroup v2 memory controller is not available/,
    );
    await expect(starting).rejects.not.toThrow(/cpu \(/);
    expect(existsSync(join(dataDir, "lumina.db"))).toBe(false);
  });

  it("starts without requireLimits and logs one warning naming each missing limit", async () => {
    const lines: string[] = [];
    const cgroups = createCgroupV2Driver({ root: await cgroup2Root(["memory"]) });
    await startServer({ cgroups, log: (text) => lines.push(text) });
    const warnings = lines.filter((text) => text.includes("WARNING"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/WITHOUT these limits: pids \(.*\); cpu \(.*--require-limits/);
    expect(warnings[0]).not.toMatch(/memory \(/);
  });

  it("logs nothing when every limit can be applied", async () => {
    const lines: string[] = [];
    const cgroups = createCgroupV2Driver({ root: await cgroup2Root(["memory", "pids", "cpu"]) });
    await startServer({ cgroups, log: (text) => lines.push(text) });
    expect(lines.filter((text) => text.includes("WARNING"))).toEqual([]);
  });

  it("fails a sandbox's start with 503 when its limit files do not take, under requireLimits", async () => {
    // The controllers are offered, but the kernel makes no limit file in the sandbox's group.
    const cgroups = createCgroupV2Driver({ root: await cgroup2Root(["memory", "pids", "cpu"]) });
    const server = await startServer({ requireLimits: true, cgroups });
    const lumina = createClient({
      baseUrl: server.url,
      token: server.token,
      sandbox: "no-limits",
      retry: false,
    });
    await expect(lumina.createSandbox()).rejects.toMatchObject({
      statusCode: 503,
      code: "unavailable",
      message: expect.stringMatching(/could not apply the sandbox's memory, pids, cpu limit/),
    });
  });
});

describe("requireLimits on this host's real cgroups", () => {
  it("starts and runs a sandbox with every limit applied", async () => {
    const server = await startServer({ requireLimits: true });
    const lumina = createClient({ baseUrl: server.url, token: server.token, sandbox: "limited" });
    await lumina.createSandbox();
    expect((await lumina.bash("echo limited")).output).toBe("limited\n");
  });
});

describe("the --require-limits flag", () => {
  it("makes the CLI exit non-zero, saying why, when no limit can be applied", async () => {
    const root = new URL("../../", import.meta.url).pathname;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "server/main.ts", "--port", "0", "--data", await tempDir()].concat([
        "--isolation",
        "none",
        "--require-limits",
      ]),
      {
        cwd: root,
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // A server that started instead would run on: stop it, so the test fails rather than hangs.
    const stop = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(stop);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /--require-limits: refusing to start.*--isolation none applies no limits/,
    );
  });
});
