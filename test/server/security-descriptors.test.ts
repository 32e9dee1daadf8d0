/**
 * SECURITY.md, resources: file descriptors are shared by every tenant, and no one (least of all
 * an anonymous caller holding idle connections) may use them up. A start that finds too few
 * answers 503; a spawn that fails with EMFILE fails that start, never the server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { closeSync, openSync, readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../server/errors.ts";
import { defaultLimits } from "../../server/index.ts";
import type { SandboxSpec } from "../../server/sandbox/backend.ts";
import { createBubblewrapBackend } from "../../server/sandbox/bubblewrap.ts";
import type { SpawnFunction } from "../../server/sandbox/spawn-child.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { requireSandboxHost } from "../support/use-server.ts";
import { openIdleConnections } from "./connection-helpers.ts";
import { fixedHostUid } from "./sandbox-helpers.ts";

requireSandboxHost();

const root = new URL("../../", import.meta.url).pathname;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Opens /dev/null until EMFILE, then frees `spare` of them; returns a release function. */
function exhaustDescriptors(spare: number): () => void {
  const held: number[] = [];
  try {
    for (let i = 0; i < 1_000_000; i++) held.push(openSync("/dev/null", "r"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EMFILE") throw error;
  }
  for (let i = 0; i < spare; i++) closeSync(held.pop() as number);
  return () => {
    for (const fd of held) closeSync(fd);
  };
}

describe("a spawn that fails", () => {
  it("fails that start with 503 unavailable when spawn hits EMFILE, and the next start works", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-emfile-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    let faults = 1;
    // The real spawn, called while this process has no descriptor left for its pipes.
    const spawnWithoutDescriptors: SpawnFunction = (file, args, options) => {
      if (faults-- <= 0) return spawn(file, args, options);
      const release = exhaustDescriptors(2);
      try {
        return spawn(file, args, options);
      } finally {
        release();
      }
    };
    const hostUid = 2_000_000_000 + randomInt(100_000_000);
    const backend = createBubblewrapBackend({
      sandboxesDir: dir,
      hostUids: fixedHostUid(hostUid),
      log: () => {},
      spawn: spawnWithoutDescriptors,
    });
    const spec: SandboxSpec = {
      id: `emfile-${randomInt(1e9)}`,
      name: "emfile",
      user: "test",
      limits: { ...defaultLimits, diskSize: 0 },
    };
    await backend.prepare(spec);
    const failure = await backend.start(spec).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ServerError);
    expect((failure as ServerError).code).toBe("unavailable");
    expect((failure as ServerError).message).toMatch(/EMFILE.*try again/);
    // This process (the server, in real life) is still here, and the next start works.
    const runtime = await backend.start(spec);
    expect(await runtime.call("ping", {})).toBeDefined();
    await runtime.stop();
    await backend.destroy(spec);
  }, 120_000);
});

interface ServerProcess {
  child: ChildProcess;
  url: string;
  token: string;
  stderr(): string;
  /** Descriptors the server process holds now. */
  openDescriptors(): number;
}

/** Starts the server in its own process under `prlimit --nofile=<limit>`. */
async function startLimitedServer(limit: number, options: object): Promise<ServerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), "lumina-fd-"));
  const { PATH = "/usr/bin:/bin", HOME = "/root" } = process.env;
  const child = spawn(
    "/usr/bin/prlimit",
    [
      `--nofile=${limit}:${limit}`,
      "--",
      process.execPath,
      "--import",
      "tsx",
      "test/support/server-process.ts",
    ],
    {
      cwd: root,
      env: {
        PATH,
        HOME,
        LUMINA_TEST_SERVER_OPTIONS: JSON.stringify({ dataDir, ...options }),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  cleanups.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await new Promise((done) => child.once("exit", done));
    }
    await rm(dataDir, { recursive: true, force: true });
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += chunk;
  });
  const first = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk) => {
      out += chunk;
      if (out.includes("\n")) resolve(out.split("\n")[0] ?? "");
    });
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  const { url, token, pid } = JSON.parse(first) as { url: string; token: string; pid: number };
  return {
    child,
    url,
    token,
    stderr: () => stderr,
    openDescriptors: () => readdirSync(`/proc/${pid}/fd`).length,
  };
}

describe("idle connections against a server with few descriptors", () => {
  it("make a create answer 503 unavailable; the server stays up and serves once they go", async () => {
    const limit = 256;
    const reserve = 64;
    // Caps above the descriptor limit: only the reserve stands between the idle sockets and EMFILE.
    const server = await startLimitedServer(limit, {
      descriptorReserve: reserve,
      maxConnections: 10_000,
      maxUnauthenticatedConnectionsPerAddress: 10_000,
      headersTimeoutMs: 120_000,
      requestTimeoutMs: 120_000,
    });
    const baseline = server.openDescriptors();
    // Leave half the reserve free: enough for the create's own connection, not for a start.
    const idle = await openIdleConnections(server.url, limit - baseline - reserve / 2);
    cleanups.push(() => idle.close());
    await expect
      .poll(() => server.openDescriptors(), { timeout: 60_000, interval: 100 })
      .toBeGreaterThanOrEqual(limit - reserve / 2);

    const refused = await rawCall(server.url, "/v1/sandboxes", {
      token: server.token,
      body: { name: randomSandboxName("fd") },
    });
    expect(refused.status).toBe(503);
    expect(errorCode(refused)).toBe("unavailable");
    expect(refused.text).toMatch(/file descriptors.*try again/);
    expect(refused.headers.get("retry-after")).toBe("1");
    const logged = /refused a sandbox start: (\d+) of (\d+) file descriptors/.exec(server.stderr());
    expect(logged).not.toBeNull();
    // The figure the issue asks for: descriptors held when the start was refused cleanly.
    console.info(`descriptors held at the refused start: ${logged?.[1]} of ${logged?.[2]}`);

    idle.close();
    await expect
      .poll(() => server.openDescriptors(), { timeout: 60_000, interval: 100 })
      .toBeLessThan(limit - reserve);
    const created = await rawCall(server.url, "/v1/sandboxes", {
      token: server.token,
      body: { name: randomSandboxName("fd") },
    });
    expect(created.status).toBe(201);
    expect(server.child.exitCode).toBeNull();
  }, 180_000);
});
