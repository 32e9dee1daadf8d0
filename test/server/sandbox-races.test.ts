/**
 * Lifecycle races: concurrent restarts, a restart against a delete or a tool call, all settle
 * and leave a working sandbox (or none after a delete); and a tool call whose body was still
 * arriving when its sandbox was deleted answers 404 without bringing anything back.
 */
import { existsSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { basename, dirname, join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { hostHomeOf } from "./sandbox-helpers.ts";

// One tool call per user at a time: a held slot shows that a call is in the route.
const server = useTestServer({ maxRequestsPerUser: 1 }, undefined, 60_000);

const settleBoundMs = 60_000;
/** Settles every promise, or fails if they hang (a deadlocked sandbox never settles). */
async function settleAll(promises: Promise<unknown>[]): Promise<PromiseSettledResult<unknown>[]> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("the lifecycle calls hung")), settleBoundMs);
  });
  try {
    return await Promise.race([Promise.allSettled(promises), hung]);
  } finally {
    clearTimeout(timer);
  }
}

async function newSandbox(token = server().token): Promise<LuminaClient> {
  const lumina = createClient({
    baseUrl: server().url,
    token,
    sandbox: randomSandboxName("r"),
    retry: false,
  });
  await lumina.createSandbox({ eager: true });
  return lumina;
}

async function deleteSandbox(lumina: LuminaClient, token = server().token): Promise<void> {
  const answer = await rawCall(server().url, `/v1/sandboxes/${lumina.sandbox}`, {
    method: "DELETE",
    token,
  });
  if (answer.status !== 204) throw new Error(`DELETE answered ${answer.status}: ${answer.text}`);
}

const cgroupPids = (id: string): string[] => {
  const procs = `/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`;
  return existsSync(procs) ? readFileSync(procs, "utf8").split("\n").filter(Boolean) : [];
};

describe("concurrent lifecycle calls", () => {
  it("two restarts at once both settle and the sandbox works", async () => {
    const lumina = await newSandbox();
    const results = await settleAll([lumina.restartSandbox(), lumina.restartSandbox()]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect((await lumina.bash("echo ok")).output).toBe("ok\n");
    expect((await lumina.getSandbox()).status).toBe("running");
  }, 120_000);

  it("a restart and a delete at once settle and the sandbox is gone", async () => {
    const lumina = await newSandbox();
    const id = basename(dirname(await hostHomeOf(server(), lumina)));
    const results = await settleAll([lumina.restartSandbox(), deleteSandbox(lumina)]);
    expect(results[1]?.status).toBe("fulfilled");
    await expect(lumina.getSandbox()).rejects.toMatchObject({ statusCode: 404 });
    expect(existsSync(join(server().dataDir, "sandboxes", id))).toBe(false);
    expect(cgroupPids(id)).toEqual([]);
  }, 120_000);

  it("a restart and a tool call at once settle and the sandbox works", async () => {
    const lumina = await newSandbox();
    const results = await settleAll([lumina.restartSandbox(), lumina.bash("echo during")]);
    expect(results[0]?.status).toBe("fulfilled");
    expect((await lumina.bash("echo after")).output).toBe("after\n");
  }, 120_000);
});

/** Sends a bash call whose body arrives in two parts; resolves with `finish` and the answer. */
function slowBashCall(name: string, token: string) {
  const body = JSON.stringify({ command: "echo revived" });
  const cut = Math.floor(body.length / 2);
  const req = request(`${server().url}/v1/sandboxes/${name}/tools/bash`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "lumina-tool-session": "slow-body",
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(body)),
    },
  });
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", reject);
  });
  let answered = false;
  void answer.then(
    () => {
      answered = true;
    },
    () => {
      answered = true;
    },
  );
  req.write(body.slice(0, cut));
  return {
    answer,
    answered: () => answered,
    finish: () => req.end(body.slice(cut)),
    abandon: () => req.destroy(),
  };
}

/**
 * Starts the slow call until it holds the user's only slot: then `probe` gets a 429 while the
 * call is unanswered. (A probe that came first makes the call itself get the 429: try again.)
 */
async function slowCallHoldingTheSlot(name: string, token: string, probe: LuminaClient) {
  for (;;) {
    const call = slowBashCall(name, token);
    for (;;) {
      const status = await probe.glob("*").then(
        () => 200,
        (error: { statusCode?: number }) => error.statusCode,
      );
      if (call.answered()) {
        const early = await call.answer;
        if (early.status !== 429) throw new Error(`answered early: ${early.status} ${early.text}`);
        break;
      }
      if (status === 429) return call;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    call.abandon();
  }
}

describe("a tool call in flight during a delete", () => {
  it("answers 404 and recreates no storage, process or session", async () => {
    const token = server().addUser(`slow-${Date.now()}`);
    const lumina = await newSandbox(token);
    const other = await newSandbox(token);
    const id = basename(dirname(await hostHomeOf(server(), lumina)));

    const call = await slowCallHoldingTheSlot(lumina.sandbox, token, other);
    await deleteSandbox(lumina, token);
    call.finish();
    const answer = await call.answer;
    expect(answer.status, answer.text).toBe(404);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: "not_found" } });

    expect(existsSync(join(server().dataDir, "sandboxes", id))).toBe(false);
    expect(cgroupPids(id)).toEqual([]);
    const db = new Database(join(server().dataDir, "lumina.db"), { readonly: true });
    try {
      expect(db.prepare("SELECT * FROM tool_sessions WHERE sandbox_id = ?").all(id)).toEqual([]);
    } finally {
      db.close();
    }
    expect((await other.bash("echo fine")).output).toBe("fine\n");
  }, 120_000);
});
