/**
 * Idle stop (CONTRACT §12) on the real server, with the idle clock injected so idle time passes
 * without sleeping: a sandbox idle past its timeout stops (processes gone, home kept) and its
 * next bash starts it again; a running background command keeps it alive; 0 never stops; the
 * last activity survives a restart of the server.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, hostHomeOf } from "./sandbox-helpers.ts";

let clockMs = Date.now();
const server = useTestServer({ idleClock: () => clockMs });

async function newSandbox(options: { idleTimeout?: number } = {}): Promise<LuminaClient> {
  const client = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: randomSandboxName("idle"),
  });
  await client.createSandbox({ eager: true, ...options });
  return client;
}

/** The pids in the sandbox's memory cgroup (every process of it). */
async function pidsOf(client: LuminaClient | string): Promise<number[]> {
  const id =
    typeof client === "string" ? client : basename(dirname(await hostHomeOf(server(), client)));
  const procs = `/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`;
  if (!existsSync(procs)) return [];
  return readFileSync(procs, "utf8").split("\n").filter(Boolean).map(Number);
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean): Promise<void> {
  for (let tries = 0; tries < 600 && !check(); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(check()).toBe(true);
}

/** Passes `ms` of idle time and runs the sweep. */
async function idleFor(ms: number): Promise<void> {
  clockMs += ms;
  await server().sweepIdle();
}

/** The sandbox's status without counting as activity (a list is not a request for it). */
async function statusOf(client: LuminaClient): Promise<string | undefined> {
  return (await client.listSandboxes()).find((info) => info.name === client.sandbox)?.status;
}

describe("idle stop", () => {
  it("stops a sandbox idle past its timeout, keeps its home, and the next bash starts it again", async () => {
    const client = await newSandbox({ idleTimeout: 1000 });
    await client.write("/home/user/kept.txt", "still here\n");
    // A process outside any background command: the stop must end it too.
    await client.bash("(setsid sleep 600 >/dev/null 2>&1 &)");
    const home = await hostHomeOf(server(), client);
    expect((await pidsOf(client)).length).toBeGreaterThan(1);
    await idleFor(999);
    expect(await statusOf(client)).toBe("running");
    await idleFor(2);
    expect(await statusOf(client)).toBe("stopped");
    expect(existsSync(`${home}/kept.txt`)).toBe(true);
    // The stop ended every process (the sandbox's groups went with them).
    expect(await pidsOf(basename(dirname(home)))).toEqual([]);
    const after = await client.bash("cat kept.txt; pgrep -c sleep || true");
    expect(after.output).toBe("still here\n0\n");
    expect(await statusOf(client)).toBe("running");
    const info = await client.getSandbox();
    expect(info.idleTimeout).toBe(1000);
    expect(info.lastActivityAt).toBe(new Date(clockMs).toISOString());
  });

  it("a running background command keeps the sandbox alive; once it ends the sandbox stops", async () => {
    const client = await newSandbox({ idleTimeout: 1000 });
    const { shellId } = await client.bash("sleep 600", { runInBackground: true });
    await idleFor(60_000);
    expect(await statusOf(client)).toBe("running");
    await client.killBash(shellId!);
    await idleFor(1000);
    expect(await statusOf(client)).toBe("stopped");
  });

  it("a call in flight keeps the sandbox alive however long it takes", async () => {
    const client = await newSandbox({ idleTimeout: 1000 });
    const home = await hostHomeOf(server(), client);
    const call = client.bash("touch started; until [ -e go ]; do sleep 0.05; done; echo finished");
    await until(() => existsSync(`${home}/started`));
    await idleFor(60_000);
    writeFileSync(`${home}/go`, "");
    expect((await call).output).toBe("finished\n");
    expect(await statusOf(client)).toBe("running");
  });

  it("0 never stops it, and a sandbox created without one takes the server's default", async () => {
    const never = await newSandbox({ idleTimeout: 0 });
    const byDefault = await newSandbox();
    await idleFor(24 * 3_600_000);
    expect(await statusOf(never)).toBe("running");
    expect(await statusOf(byDefault)).toBe("stopped");
    expect((await never.getSandbox()).idleTimeout).toBe(0);
    expect((await byDefault.getSandbox()).idleTimeout).toBe(1_800_000);
  });

  it("refuses an idle timeout below 1000 ms other than 0", async () => {
    const client = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: randomSandboxName("idle"),
    });
    const message = await expectToolError(
      client.createSandbox({ idleTimeout: 999 }),
      400,
      "invalid_request",
    );
    expect(message).toMatch(/idle_timeout/);
  });

  it("keeps the last activity across a restart of the server", async () => {
    const client = await newSandbox({ idleTimeout: 60_000 });
    clockMs += 10;
    await client.bash("true");
    const lastActivity = new Date(clockMs).toISOString();
    clockMs += 30_000;
    await server().restart();
    const again = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: client.sandbox,
    });
    const listed = (await again.listSandboxes()).find((info) => info.name === client.sandbox);
    expect(listed).toMatchObject({ status: "stopped", lastActivityAt: lastActivity });
    expect((await again.bash("echo back")).output).toBe("back\n");
  });
});
