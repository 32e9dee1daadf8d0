/**
 * Exactly-once calls (CONTRACT §13), end to end: answers lost after the request reached the
 * server, a connection cut during a long bash, concurrent repeats, mismatches, expiry and a
 * server restart. Side effects are counted inside the sandbox.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { errorCode, rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

let sandbox: string;
/** Added to the server's clock of key expiry: tests pass a day without waiting. */
let clockOffset = 0;

const server = useTestServer({ idempotencyClock: () => Date.now() + clockOffset }, async () => {
  sandbox = randomSandboxName("once");
  await client().createSandbox();
});

/** What each request the client sent carried. */
interface Sent {
  path: string;
  key: string | null;
}

/**
 * A client whose fetch lets every request reach the server; `lose(index)` says which answers
 * are then lost (the answer's body is cancelled and the fetch fails like a dropped connection).
 */
function losingClient(lose: (index: number) => boolean, name = sandbox) {
  const sent: Sent[] = [];
  const lumina = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: name,
    retry: { baseDelay: 10, maxDelay: 50 },
    fetch: async (request: Request) => {
      const index = sent.push({
        path: new URL(request.url).pathname,
        key: request.headers.get("idempotency-key"),
      });
      const answer = await fetch(request);
      if (!lose(index - 1)) return answer;
      await answer.body?.cancel();
      throw new TypeError("fetch failed: the connection was lost");
    },
  });
  return { lumina, sent };
}

function client(): LuminaClient {
  return createClient({ baseUrl: server().url, token: server().token, sandbox });
}

/** A raw call with an Idempotency-Key and a tool session. */
function keyed(path: string, key: string, body?: unknown, method?: string) {
  return rawCall(server().url, path, {
    token: server().token,
    session: "once-raw",
    headers: { "idempotency-key": key },
    ...(body === undefined ? {} : { body }),
    ...(method ? { method } : {}),
  });
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const tools = () => `/v1/sandboxes/${sandbox}/tools`;

describe("a lost answer is retried with the same key and applied once", () => {
  const first = (index: number) => index === 0;

  it("bash", async () => {
    const { lumina, sent } = losingClient(first);
    const result = await lumina.bash(
      "mkdir -p /home/user/b && echo $RANDOM >> /home/user/b/log; echo ran",
    );
    expect(result).toMatchObject({ output: "ran\n", exitCode: 0 });
    expect(sent).toHaveLength(2);
    expect(sent[0]!.key).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[1]!.key).toBe(sent[0]!.key);
    expect((await client().bash("wc -l < /home/user/b/log")).output).toBe("1\n");
  });

  it("write", async () => {
    const { lumina, sent } = losingClient(first);
    // A second write of a new file without a read would be a 409 not_read.
    const result = await lumina.write("/home/user/w/new.txt", "hello");
    expect(result).toMatchObject({ bytesWritten: 5 });
    expect(sent).toHaveLength(2);
  });

  it("edit", async () => {
    const { lumina } = losingClient((index) => index === 2);
    await lumina.write("/home/user/e.txt", "a");
    await lumina.read("/home/user/e.txt");
    expect(await lumina.edit("/home/user/e.txt", "a", "ab")).toMatchObject({ replacements: 1 });
    expect((await client().bash("cat /home/user/e.txt")).output).toBe("ab");
  });

  it("createSandbox and destroySandbox", async () => {
    const name = randomSandboxName("once-new");
    const { lumina, sent } = losingClient((index) => index === 0 || index === 2, name);
    // Without the key, the retry would be a 409 sandbox_exists.
    expect(await lumina.createSandbox({ eager: false })).toMatchObject({ name });
    expect(sent).toHaveLength(2);
    // And here a 404: the first attempt destroyed it.
    await expect(lumina.destroySandbox()).resolves.toBeUndefined();
    expect(sent).toHaveLength(4);
    expect(sent[3]!.key).toBe(sent[2]!.key);
  });
});

describe("a long foreground bash", () => {
  it("reattaches after its connection is cut at 5 s and gets the one run's output", async () => {
    let attempts = 0;
    const lumina = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox,
      retry: { baseDelay: 10, maxDelay: 50 },
      fetch: async (request: Request) => {
        if (attempts++ > 0) return fetch(request);
        const cut = new AbortController();
        setTimeout(() => cut.abort(new TypeError("the connection was cut")), 5_000);
        return fetch(request, { signal: cut.signal });
      },
    });
    const started = Date.now();
    const result = await lumina.bash(
      "mkdir -p /home/user/cut; echo start >> /home/user/cut/log; sleep 20; echo end >> /home/user/cut/log; echo finished",
    );
    expect(result).toMatchObject({ output: "finished\n", exitCode: 0 });
    expect(attempts).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(19_000);
    expect((await client().bash("cat /home/user/cut/log")).output).toBe("start\nend\n");
  }, 90_000);
});

describe("the server's record of a key", () => {
  it("answers two concurrent requests with one key from one execution", async () => {
    const body = {
      command:
        "mkdir -p /home/user/c; echo $RANDOM >> /home/user/c/log; sleep 1; tail -n1 /home/user/c/log",
    };
    const [a, b] = await Promise.all([
      keyed(`${tools()}/bash`, "concurrent-1", body),
      keyed(`${tools()}/bash`, "concurrent-1", body),
    ]);
    expect(a.status).toBe(200);
    expect(b.json).toEqual(a.json);
    expect([a.headers.get("idempotent-replayed"), b.headers.get("idempotent-replayed")]).toContain(
      "true",
    );
    expect((await client().bash("wc -l < /home/user/c/log")).output).toBe("1\n");
  });

  it("refuses the same key with another body, method or path: 422 idempotency_mismatch", async () => {
    const path = `${tools()}/write`;
    const first = await keyed(path, "mismatch-1", { file_path: "/home/user/m1", content: "x" });
    expect(first.status).toBe(200);
    const other = await keyed(path, "mismatch-1", { file_path: "/home/user/m1", content: "y" });
    expect(other.status).toBe(422);
    expect(errorCode(other)).toBe("idempotency_mismatch");
    const elsewhere = await keyed(`${tools()}/edit`, "mismatch-1", {
      file_path: "/home/user/m1",
      content: "x",
    });
    expect(elsewhere.status).toBe(422);
    expect((await client().bash("cat /home/user/m1")).output).toBe("x");
  });

  it("replays a recorded error as it was, and ignores the key on reads", async () => {
    const body = { file_path: "relative", content: "x" };
    const first = await keyed(`${tools()}/write`, "error-1", body);
    const again = await keyed(`${tools()}/write`, "error-1", body);
    expect([first.status, again.status]).toEqual([400, 400]);
    expect(again.text).toBe(first.text);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const read = await keyed(`${tools()}/read`, "read-1", { file_path: "/home/user/m1" });
    const reread = await keyed(`${tools()}/read`, "read-1", { file_path: "/home/user/m1" });
    expect(reread.headers.get("idempotent-replayed")).toBeNull();
    expect(reread.json).toEqual(read.json);
  });

  it("keeps a keyed command running after its client hung up, and records its answer", async () => {
    const hangUp = new AbortController();
    // The 200 headers come at once, the answer only after 2 s: hang up in between.
    await fetch(`${server().url}${tools()}/bash`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${server().token}`,
        "content-type": "application/json",
        "lumina-tool-session": "once-raw",
        "idempotency-key": "hang-up-1",
      },
      body: JSON.stringify({ command: "sleep 2; echo done > /home/user/hung-up; echo ok" }),
      signal: hangUp.signal,
    });
    hangUp.abort();
    const later = await keyed(`${tools()}/bash`, "hang-up-1", {
      command: "sleep 2; echo done > /home/user/hung-up; echo ok",
    });
    expect(later.json).toMatchObject({ output: "ok\n", exit_code: 0 });
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect((await client().bash("cat /home/user/hung-up")).output).toBe("done\n");
  });

  it("keeps only the size and digest of an answer over 1 MiB, and says so on a repeat", async () => {
    const lumina = client();
    // 10^6 quotes: 2 MB once escaped in JSON.
    const { shellId } = await lumina.bash("head -c 1000000 /dev/zero | tr '\\0' '\"'", {
      runInBackground: true,
    });
    let status = "running";
    for (let i = 0; i < 100 && status === "running"; i++) {
      ({ status } = await lumina.bashOutput(shellId, { cursor: 0, waitMs: 1000 }));
    }
    const body = { bash_id: shellId, cursor: 0 };
    const session = { session: lumina.toolSessionId };
    const path = `${tools()}/bash_output`;
    const headers = { "idempotency-key": "huge-1" };
    const options = { token: server().token, body, headers, ...session };
    const first = await rawCall(server().url, path, options);
    expect(first.status).toBe(200);
    expect((first.json as { output: string }).output).toHaveLength(1_000_000);
    const again = await rawCall(server().url, path, options);
    expect(again.status).toBe(409);
    expect(again.text).toContain("larger than the 1048576 bytes the server keeps");
  });

  it("forgets a key after 24 hours: at its next use, and in one sweep", async () => {
    const path = `${tools()}/write`;
    const write = (key: string, file: string) =>
      keyed(path, key, { file_path: `/home/user/${file}`, content: "a" });
    expect((await write("expiry-1", "x1")).status).toBe(200);
    expect((await write("expiry-2", "x2")).status).toBe(200);
    expect((await write("expiry-2", "x3")).status).toBe(422);
    clockOffset = 25 * 3_600_000;
    try {
      // Forgotten: each key now starts a new call instead of a mismatch.
      expect((await write("expiry-1", "x4")).status).toBe(200);
      expect(server().sweepIdempotencyKeys()).toBeGreaterThanOrEqual(1);
      expect((await write("expiry-2", "x5")).status).toBe(200);
    } finally {
      clockOffset = 0;
    }
  });

  it("replays completed answers after a restart; a key left running answers 404", async () => {
    const path = `${tools()}/write`;
    const body = { file_path: "/home/user/r/new.txt", content: "once" };
    const first = await keyed(path, "restart-1", body);
    expect(first.status).toBe(200);
    // A row as a server killed mid-call leaves it.
    const db = new Database(join(server().dataDir, "lumina.db"));
    db.prepare(
      "INSERT INTO idempotency_records (user, key, method, path, body_digest, session_id, state, created_at) VALUES ('admin', 'restart-lost', 'POST', ?, ?, '', 'running', ?)",
    ).run(`${tools()}/bash`, sha256(JSON.stringify({ command: "true" })), Date.now());
    db.close();
    await server().restart();
    const replay = await keyed(path, "restart-1", body);
    expect(replay.status).toBe(200);
    expect(replay.json).toEqual(first.json);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const lost = await keyed(`${tools()}/bash`, "restart-lost", { command: "true" });
    expect(lost.status).toBe(404);
    expect(lost.text).toContain("still running when the server restarted");
  });
});

describe("a caller's abort cancels its keyed call on the server", () => {
  it("needs the user's credentials", async () => {
    const answer = await rawCall(server().url, "/v1/calls/some-key", { method: "DELETE" });
    expect(answer.status).toBe(401);
  });

  it("a cancel that overtakes its call refuses the call, which runs nothing", async () => {
    const key = `overtaken-${Date.now()}`;
    const cancel = await rawCall(server().url, `/v1/calls/${key}`, {
      method: "DELETE",
      token: server().token,
    });
    expect(cancel.status).toBe(204);
    const call = await keyed(`${tools()}/bash`, key, { command: "touch /home/user/overtaken" });
    expect(call.status).toBe(409);
    expect((await client().bash("test -e /home/user/overtaken; echo $?")).output).toBe("1\n");
  });

  it("an aborted call's command stops, and its repeat gets the killed answer", async () => {
    const key = `aborted-${Date.now()}`;
    const lumina = client();
    const controller = new AbortController();
    const call = lumina.bash("sleep 30; touch /home/user/after-abort", {
      signal: controller.signal,
      idempotencyKey: key,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    controller.abort(new Error("stop"));
    await expect(call).rejects.toThrow("stop");
    // The cancel is sent without waiting: the repeat waits for the stopped run's answer.
    const repeat = lumina.bash("sleep 30; touch /home/user/after-abort", {
      idempotencyKey: key,
      requestTimeout: 20_000,
    });
    await expect(repeat).rejects.toMatchObject({ statusCode: 409, code: "conflict" });
    expect((await client().bash("test -e /home/user/after-abort; echo $?")).output).toBe("1\n");
  });
});

describe("a keyed call its sandbox had taken when it stopped", () => {
  it("is recorded as interrupted, so its retry is told rather than run again", async () => {
    const lumina = client();
    const key = `interrupted-${Date.now()}`;
    const started = await keyed(`${tools()}/bash`, `${key}-start`, {
      command: "sleep 60",
      run_in_background: true,
    });
    const shellId = (started.json as { shell_id: string }).shell_id;
    const body = { bash_id: shellId, wait_ms: 20_000 };
    const waiting = keyed(`${tools()}/bash_output`, key, body);
    // The long poll has reached the agent once the sandbox answers other calls behind it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await lumina.restartSandbox();
    const first = await waiting;
    expect(first.status).toBe(503);
    const repeat = await keyed(`${tools()}/bash_output`, key, body);
    expect(repeat.status).toBe(409);
    expect(errorCode(repeat)).toBe("conflict");
    expect(repeat.text).toContain("may have been applied");
  });
});
