import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createClient, type LuminaClient, TimeoutError } from "../../src/index.ts";
import { base, failure, fakeServer, hang, json } from "./fake-server.ts";

const sandboxWire = { sandbox: { name: "b", status: "running", created_at: "now" } };
const anyAnswer = {
  ...sandboxWire,
  sandboxes: [],
  type: "text",
  content: "",
  total_lines: 0,
  lines_returned: 0,
  matches: [],
  count: 0,
  search_path: "/",
  truncated: false,
  mode: "files_with_matches",
  files: [],
  output: "",
  status: "running",
  exit_code: 0,
  cursor: 0,
  killed: false,
  shell_id: "",
  message: "ok",
  bytes_written: 0,
  file_path: "/a",
  replacements: 1,
  lease: null,
};

/** A server that fails `failures` times with `status` (or a dropped connection), then answers. */
function flaky(failures: number, status: number | "drop", headers: Record<string, string> = {}) {
  const server = fakeServer((_, index) => {
    if (index >= failures) return json(anyAnswer);
    if (status === "drop") throw new TypeError("fetch failed");
    return failure(status, "unavailable", "busy", headers);
  });
  return server;
}

const fast = { baseDelay: 1, maxDelay: 5 };

describe("retries", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const idempotent: [string, (c: LuminaClient) => Promise<unknown>][] = [
    ["listSandboxes", (c) => c.listSandboxes()],
    ["getSandbox", (c) => c.getSandbox()],
    ["read", (c) => c.read("/a")],
    ["glob", (c) => c.glob("*")],
    ["grep", (c) => c.grep("x")],
    ["bashOutput with a cursor", (c) => c.bashOutput("bash_1", { cursor: 0 })],
  ];
  const nonIdempotent: [string, (c: LuminaClient) => Promise<unknown>][] = [
    ["bash", (c) => c.bash("ls")],
    ["write", (c) => c.write("/a", "x")],
    ["edit", (c) => c.edit("/a", "x", "y")],
    ["createSandbox", (c) => c.createSandbox()],
    ["destroySandbox", (c) => c.destroySandbox()],
    ["restartSandbox", (c) => c.restartSandbox()],
    ["killBash", (c) => c.killBash("bash_1")],
    ["bashOutput without a cursor", (c) => c.bashOutput("bash_1")],
  ];

  it.each(idempotent)("%s is retried twice by default, then succeeds", async (_, run) => {
    const server = flaky(2, 503);
    await run(createClient({ ...base, retry: fast, fetch: server.fetch }));
    expect(server.requests).toHaveLength(3);
  });

  it.each(nonIdempotent)(
    "%s is retried with one Idempotency-Key for all attempts",
    async (_, run) => {
      const server = flaky(2, "drop");
      await run(createClient({ ...base, retry: fast, fetch: server.fetch }));
      expect(server.requests).toHaveLength(3);
      const keys = server.requests.map((request) => request.headers["idempotency-key"]);
      expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
      expect(new Set(keys).size).toBe(1);
    },
  );

  it.each(idempotent)("%s sends no Idempotency-Key", async (_, run) => {
    const server = flaky(0, 503);
    await run(createClient({ ...base, fetch: server.fetch }));
    expect(server.requests[0]!.headers["idempotency-key"]).toBeUndefined();
  });

  it("gives each call its own key", async () => {
    const server = flaky(0, 503);
    const client = createClient({ ...base, fetch: server.fetch });
    await client.write("/a", "x");
    await client.write("/a", "x");
    const [first, second] = server.requests.map((request) => request.headers["idempotency-key"]);
    expect(first).not.toBe(second);
  });

  it("sends a given idempotencyKey on every attempt, also with retry: false", async () => {
    const server = flaky(1, 503);
    const client = createClient({ ...base, retry: fast, fetch: server.fetch });
    await client.bash("ls", { idempotencyKey: "queue-message-7" });
    expect(server.requests.map((request) => request.headers["idempotency-key"])).toEqual([
      "queue-message-7",
      "queue-message-7",
    ]);
    const once = flaky(1, "drop");
    const single = createClient({ ...base, retry: false, fetch: once.fetch });
    await expect(single.write("/a", "x", { idempotencyKey: "k-2" })).rejects.toThrow();
    expect(once.requests).toHaveLength(1);
    expect(once.requests[0]!.headers["idempotency-key"]).toBe("k-2");
  });

  it("with retry: false sends a call once, and without a key unless one is given", async () => {
    const server = flaky(5, "drop");
    const client = createClient({ ...base, retry: false, fetch: server.fetch });
    await expect(client.bash("ls")).rejects.toMatchObject({ name: "NetworkError" });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers["idempotency-key"]).toBeUndefined();
  });

  it("does not retry an error that came inside a 200 answer: the server took the call", async () => {
    const server = fakeServer(() =>
      json({ error: { code: "unavailable", message: "the sandbox stopped", status: 503 } }),
    );
    const client = createClient({ ...base, retry: fast, fetch: server.fetch });
    await expect(client.bash("ls")).rejects.toMatchObject({ statusCode: 503 });
    expect(server.requests).toHaveLength(1);
  });

  it.each([429, 502, 503, 504, "drop"] as const)("retries after %s", async (status) => {
    const server = flaky(1, status);
    await createClient({ ...base, retry: fast, fetch: server.fetch }).read("/a");
    expect(server.requests).toHaveLength(2);
  });

  it.each([400, 404, 409, 500])("does not retry a %i", async (status) => {
    const server = flaky(1, status);
    await expect(
      createClient({ ...base, retry: fast, fetch: server.fetch }).read("/a"),
    ).rejects.toMatchObject({ statusCode: status });
    expect(server.requests).toHaveLength(1);
  });

  it("gives up after the limit with the last error", async () => {
    const server = flaky(10, 503);
    const client = createClient({ ...base, retry: { ...fast, limit: 4 }, fetch: server.fetch });
    await expect(client.read("/a")).rejects.toMatchObject({ statusCode: 503 });
    expect(server.requests).toHaveLength(5);
  });

  it("takes a number, and false for none", async () => {
    // Zero jitter: the default delays would make this test slow.
    vi.spyOn(Math, "random").mockReturnValue(0);
    const three = flaky(10, 503);
    await expect(
      createClient({ ...base, retry: 3, fetch: three.fetch }).getSandbox(),
    ).rejects.toThrow();
    expect(three.requests).toHaveLength(4);
    const none = flaky(10, "drop");
    await expect(
      createClient({ ...base, retry: false, fetch: none.fetch }).getSandbox(),
    ).rejects.toThrow();
    expect(none.requests).toHaveLength(1);
  });
});

describe("waits", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Math, "random").mockReturnValue(0.999);
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("backs off exponentially with the jitter's upper bound at base × 2^n", async () => {
    const server = flaky(2, 503);
    const done = createClient({ ...base, retry: { baseDelay: 1000 }, fetch: server.fetch }).read(
      "/a",
    );
    await vi.advanceTimersByTimeAsync(998);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2);
    expect(server.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1990);
    expect(server.requests).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(10);
    expect(server.requests).toHaveLength(3);
    await done;
  });

  it("honours Retry-After in seconds", async () => {
    const server = flaky(1, 429, { "retry-after": "3" });
    const done = createClient({ ...base, fetch: server.fetch }).read("/a");
    await vi.advanceTimersByTimeAsync(2999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
    await done;
  });

  it("honours Retry-After as an HTTP date, capped at maxDelay", async () => {
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
    const server = flaky(1, 503, { "retry-after": "Tue, 01 Jan 2030 00:00:04 GMT" });
    const done = createClient({ ...base, fetch: server.fetch }).read("/a");
    await vi.advanceTimersByTimeAsync(3999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
    await done;

    const capped = flaky(1, 503, { "retry-after": "3600" });
    const late = createClient({ ...base, retry: { maxDelay: 500 }, fetch: capped.fetch }).read(
      "/a",
    );
    await vi.advanceTimersByTimeAsync(500);
    expect(capped.requests).toHaveLength(2);
    await late;
  });

  it("honours Retry-After for a call that is not idempotent, resending its key", async () => {
    const server = flaky(1, 503, { "retry-after": "2" });
    const done = createClient({ ...base, fetch: server.fetch }).bash("make");
    await vi.advanceTimersByTimeAsync(1999);
    expect(server.requests).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.requests).toHaveLength(2);
    await done;
    expect(server.requests[1]!.headers["idempotency-key"]).toBe(
      server.requests[0]!.headers["idempotency-key"],
    );
  });

  it("an abort during the retry wait of a bash rejects with its reason, sends no retry, and cancels its key", async () => {
    const server = flaky(5, 429, { "retry-after": "60" });
    const controller = new AbortController();
    const settled = createClient({ ...base, fetch: server.fetch })
      .bash("make", { signal: controller.signal })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    controller.abort("stop");
    expect(await settled).toBe("stop");
    await vi.advanceTimersByTimeAsync(120_000);
    // The one attempt, then the cancel of its key (the server may still be running it).
    expect(server.requests.map((r) => r.method)).toEqual(["POST", "DELETE"]);
    const key = server.requests[0]!.headers["idempotency-key"]!;
    expect(server.requests[1]!.path).toBe(`/v1/calls/${key}`);
  });

  it("sends no cancel for a call aborted before it was sent", async () => {
    const server = flaky(0, 200);
    const controller = new AbortController();
    controller.abort("early");
    const settled = createClient({ ...base, fetch: server.fetch })
      .bash("make", { signal: controller.signal })
      .catch((error: unknown) => error);
    expect(await settled).toBe("early");
    expect(server.requests).toHaveLength(0);
  });

  it("an abort during the retry wait rejects with exactly the signal's reason", async () => {
    const server = flaky(5, 503, { "retry-after": "60" });
    const controller = new AbortController();
    const reason = { why: "user left" };
    const done = createClient({ ...base, fetch: server.fetch }).read("/a", {
      signal: controller.signal,
    });
    const settled = done.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(10);
    expect(server.requests).toHaveLength(1);
    controller.abort(reason);
    expect(await settled).toBe(reason);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(server.requests).toHaveLength(1);
  });

  it("close() during the retry wait rejects at once and sends no further attempt", async () => {
    const server = flaky(5, 503, { "retry-after": "20" });
    const client = createClient({ ...base, fetch: server.fetch });
    const settled = client.read("/a").catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(200);
    expect(server.requests).toHaveLength(1);
    await client.close();
    expect(await settled).toMatchObject({ name: "LuminaError", message: "The client is closed" });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.requests).toHaveLength(1);
  });

  it("an abort during a request rejects with exactly the signal's reason and aborts the fetch", async () => {
    const server = fakeServer(hang);
    const controller = new AbortController();
    const reason = new Error("stop");
    const settled = createClient({ ...base, fetch: server.fetch })
      .bash("sleep 100", { signal: controller.signal })
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5);
    controller.abort(reason);
    expect(await settled).toBe(reason);
    expect(server.requests[0]!.signal.aborted).toBe(true);
  });

  it("a fetch that ignores the signal still rejects at once on abort", async () => {
    const controller = new AbortController();
    const client = createClient({ ...base, fetch: () => new Promise<Response>(() => {}) });
    const settled = client
      .getSandbox({ signal: controller.signal })
      .catch((error: unknown) => error);
    controller.abort("gone");
    expect(await settled).toBe("gone");
  });

  it("times out after the client timeout, overridden per call by requestTimeout", async () => {
    const server = fakeServer(hang);
    const client = createClient({ ...base, timeout: 1000, retry: false, fetch: server.fetch });
    const first = client.getSandbox().catch((error: unknown) => error);
    const second = client.getSandbox({ requestTimeout: 5000 }).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(1000);
    const error = await first;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ timeout: 1000 });
    expect(server.requests[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(3999);
    expect(server.requests[1]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await second).toMatchObject({ name: "TimeoutError", timeout: 5000 });
  });

  it("gives bash its command timeout plus a 15 s margin, and 120 s + 15 s by default", async () => {
    const server = fakeServer(hang);
    const client = createClient({ ...base, timeout: 10, fetch: server.fetch });
    const custom = client.bash("sleep 1", { timeout: 1000 }).catch((error: unknown) => error);
    const standard = client.bash("sleep 1").catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(15_999);
    expect(server.requests[0]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await custom).toMatchObject({ name: "TimeoutError", timeout: 16_000 });
    await vi.advanceTimersByTimeAsync(135_000 - 16_000 - 1);
    expect(server.requests[1]!.signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await standard).toMatchObject({ name: "TimeoutError", timeout: 135_000 });
  });

  it("times out background bash and bashOutput after their real duration plus the margin", async () => {
    const server = fakeServer(hang);
    // The client's long default timeout does not apply to calls whose duration is known.
    const client = createClient({ ...base, retry: false, fetch: server.fetch });
    const timeoutOf = (call: Promise<unknown>) =>
      call.catch((error: unknown) => (error as TimeoutError).timeout);
    const calls = [
      timeoutOf(client.bash("make", { timeout: 600_000, runInBackground: true })),
      timeoutOf(client.bashOutput("bash_1")),
      timeoutOf(client.bashOutput("bash_1", { waitMs: 0, requestTimeout: 1 })),
      timeoutOf(client.bashOutput("bash_1", { cursor: 0, waitMs: 20_000 })),
      timeoutOf(client.bashOutput("bash_1", { requestTimeout: 40_000 })),
    ];
    await vi.advanceTimersByTimeAsync(40_000);
    expect(await Promise.all(calls)).toEqual([15_000, 15_000, 15_000, 35_000, 40_000]);
  });

  it("does not retry a timeout", async () => {
    const server = fakeServer(hang);
    const settled = createClient({ ...base, timeout: 100, fetch: server.fetch })
      .read("/a")
      .catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(await settled).toBeInstanceOf(TimeoutError);
    expect(server.requests).toHaveLength(1);
  });
});
