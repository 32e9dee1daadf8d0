import { stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { until } from "../support/processes.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer, useTestServers } from "../support/use-server.ts";
import { hostHomeOf } from "./sandbox-helpers.ts";

const server = useTestServer();
const startServer = useTestServers();

const client = (sandbox: string, token = server().token): LuminaClient =>
  createClient({ baseUrl: server().url, token, sandbox, retry: false });

async function failure(promise: Promise<unknown>): Promise<{ statusCode: number; code: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isToolError(error)) throw new Error(`expected a ToolError, got ${String(error)}`);
  return { statusCode: error.statusCode, code: error.code };
}

describe("sandbox lifecycle", () => {
  it("creates an eager sandbox running at once, with a lease", async () => {
    const lumina = client(randomSandboxName());
    const info = await lumina.createSandbox();
    expect(info).toMatchObject({
      name: lumina.sandbox,
      status: "running",
      lease: { backend: "bubblewrap" },
    });
    expect(Number.isNaN(Date.parse(String(info.createdAt)))).toBe(false);
    // The lease never shows host details.
    expect(JSON.stringify(info.lease)).not.toMatch(/\/|uid/);
  });

  it("refuses a second sandbox of the same name with 409 sandbox_exists", async () => {
    const lumina = client(randomSandboxName());
    await lumina.createSandbox({ eager: false });
    expect(await failure(lumina.createSandbox({ eager: false }))).toEqual({
      statusCode: 409,
      code: "sandbox_exists",
    });
  });

  it("starts a lazily created sandbox on its first tool call", async () => {
    const lumina = client(randomSandboxName());
    expect((await lumina.createSandbox({ eager: false })).status).toBe("stopped");
    expect((await lumina.getSandbox()).status).toBe("stopped");
    const result = await lumina.bash("echo hello");
    expect(result.output).toBe("hello\n");
    expect((await lumina.getSandbox()).status).toBe("running");
  });

  it("lists the user's sandboxes with their status", async () => {
    const name = randomSandboxName();
    await client(name).createSandbox({ eager: false });
    const listed = await client(name).listSandboxes();
    expect(listed.find((sandbox) => sandbox.name === name)).toMatchObject({
      name,
      status: "stopped",
    });
    const raw = await rawCall(server().url, "/v1/sandboxes", { token: server().token });
    const wire = (raw.json as { sandboxes: { name: string }[] }).sandboxes.find(
      (s) => s.name === name,
    );
    expect(wire).toEqual({
      name,
      status: "stopped",
      created_at: expect.any(String),
      idle_timeout: 1_800_000,
      last_activity_at: expect.any(String),
      resources: {
        cpus: expect.any(Number),
        memory_mb: expect.any(Number),
        disk_mb: expect.any(Number),
      },
      network: { egress: "internet" },
    });
  });

  it("restarts: keeps /home/user, drops everything else and every process", async () => {
    const lumina = client(randomSandboxName());
    await lumina.createSandbox();
    await lumina.write("/home/user/keep.txt", "kept\n");
    await lumina.bash("echo gone > /tmp/gone.txt");
    const background = await lumina.bash("sleep 300", { runInBackground: true });
    const info = await lumina.restartSandbox();
    expect(info.status).toBe("running");
    const kept = await lumina.read("/home/user/keep.txt");
    expect(kept.type === "text" && kept.content).toContain("kept");
    const tmp = await lumina.bash("test -e /tmp/gone.txt; echo $?; pgrep -x sleep | wc -l");
    expect(tmp.output).toBe("1\n0\n");
    // The background command of before the restart is gone with its shell.
    const old = await lumina.bashOutput(background.shellId).then(
      (answer) => answer.status,
      (error: unknown) => (isToolError(error) ? error.statusCode : error),
    );
    expect(old).toBe("killed");
  });

  it("destroys: 204, then 404 everywhere, and the name starts afresh", async () => {
    const name = randomSandboxName();
    const lumina = client(name);
    await lumina.createSandbox();
    await lumina.write("/home/user/secret.txt", "x");
    const deleted = await rawCall(server().url, `/v1/sandboxes/${name}`, {
      method: "DELETE",
      token: server().token,
    });
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe("");
    expect(await failure(lumina.getSandbox())).toEqual({ statusCode: 404, code: "not_found" });
    expect(await failure(lumina.read("/home/user/secret.txt"))).toEqual({
      statusCode: 404,
      code: "not_found",
    });
    expect(await failure(lumina.destroySandbox())).toEqual({ statusCode: 404, code: "not_found" });
    await lumina.createSandbox();
    const glob = await lumina.glob("**/*");
    expect(glob.matches).not.toContain("/home/user/secret.txt");
  });

  it("keeps sandboxes, their files and keys across a server restart", async () => {
    const name = randomSandboxName();
    const otherKey = server().addUser("restart-user");
    await client(name).createSandbox();
    await client(name).write("/home/user/persist.txt", "still here\n");
    await server().restart();
    const again = client(name);
    expect((await again.getSandbox()).status).toBe("stopped");
    const read = await again.read("/home/user/persist.txt");
    expect(read.type === "text" && read.content).toContain("still here");
    await expect(client("x", otherKey).listSandboxes()).resolves.toEqual([]);
  });
});

describe("per-user limits", () => {
  it("answers too many tool calls in flight with 429 and Retry-After, per user", async () => {
    const limited = await startServer({ maxRequestsPerUser: 2 });
    const name = randomSandboxName();
    const as = (token: string, sandbox: string, session?: string) =>
      createClient({
        baseUrl: limited.url,
        token,
        sandbox,
        retry: false,
        ...(session ? { toolSessionId: session } : {}),
      });
    await as(limited.token, name).createSandbox();
    const other = as(limited.addUser("other"), name);
    await other.createSandbox();
    const home = await hostHomeOf(limited, as(limited.token, name));
    const running = [
      as(limited.token, name, "one").bash("touch admitted-one; sleep 6"),
      as(limited.token, name, "two").bash("touch admitted-two; sleep 6"),
    ];
    // A command that runs was admitted: the third knocks once both hold their slots.
    const admitted = async (call: string) =>
      Boolean(await stat(join(home, `admitted-${call}`)).catch(() => undefined));
    await until(async () => (await admitted("one")) && (await admitted("two")), "both run");
    const third = await rawCall(limited.url, `/v1/sandboxes/${name}/tools/bash`, {
      token: limited.token,
      session: "three",
      body: { command: "true" },
    });
    expect({ status: third.status, code: errorCode(third) }).toEqual({
      status: 429,
      code: "rate_limited",
    });
    expect(Number(third.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another user is not held back by the first one's calls.
    expect((await other.bash("echo mine")).output).toBe("mine\n");
    await Promise.all(running);
    // Slots come back once the calls end.
    expect((await as(limited.token, name, "three").bash("echo ok")).output).toBe("ok\n");
  });
});

describe("a locked registry", () => {
  it("waits a bounded time, then answers 503 with Retry-After", async () => {
    const Database = (await import("better-sqlite3")).default;
    const blocker = new Database(`${server().dataDir}/lumina.db`);
    blocker.exec("BEGIN IMMEDIATE");
    try {
      const answer = await rawCall(server().url, "/v1/sandboxes", {
        token: server().token,
        body: { name: randomSandboxName(), eager: false },
      });
      expect({ status: answer.status, code: errorCode(answer) }).toEqual({
        status: 503,
        code: "unavailable",
      });
      expect(answer.headers.get("retry-after")).not.toBeNull();
    } finally {
      blocker.exec("ROLLBACK");
      blocker.close();
    }
    // Once the lock is gone, writes work again.
    const after = await rawCall(server().url, "/v1/sandboxes", {
      token: server().token,
      body: { name: randomSandboxName(), eager: false },
    });
    expect(after.status).toBe(201);
  });
});
