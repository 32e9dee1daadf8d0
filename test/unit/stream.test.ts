import { afterEach, describe, expect, it, vi } from "vitest";
import { type BashOutputResult, createClient } from "../../src/index.ts";
import { fakeCommand, tooMany } from "./fake-command.ts";
import { base, failure, fakeServer, hang, json, type RecordedRequest } from "./fake-server.ts";

/**
 * A background command whose whole output grows step by step: answer `n` sees `steps[n]` as the
 * output so far. Like the real server, it answers from the cursor, or from the session's position.
 */
function command(steps: { output: string; status?: string }[]) {
  let position = 0;
  return (request: RecordedRequest, index: number) => {
    const step = steps[Math.min(index, steps.length - 1)]!;
    const { cursor } = request.body as { cursor?: number };
    const from = cursor ?? position;
    position = step.output.length;
    const status = step.status ?? "running";
    return json({
      output: step.output.slice(from),
      status,
      exit_code: status === "running" ? null : 0,
      cursor: step.output.length,
    });
  };
}

async function collect(stream: AsyncIterable<BashOutputResult>): Promise<BashOutputResult[]> {
  const chunks: BashOutputResult[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("streamOutput", () => {
  it("yields each new chunk, skips empty ones and ends after the terminal status", async () => {
    const server = fakeServer(
      command([
        { output: "a\n" },
        { output: "a\n" },
        { output: "a\nb\n" },
        { output: "a\nb\n", status: "completed" },
      ]),
    );
    const client = createClient({ ...base, fetch: server.fetch });
    const chunks = await collect(client.streamOutput("bash_1", { filter: "b" }));
    expect(chunks.map((chunk) => [chunk.output, chunk.status])).toEqual([
      ["a\n", "running"],
      ["b\n", "running"],
      ["", "completed"],
    ]);
    expect(chunks.at(-1)).toMatchObject({ exitCode: 0, cursor: 4 });
    expect(server.requests.map((request) => request.body)).toEqual([
      { bash_id: "bash_1", filter: "b", wait_ms: 0 },
      { bash_id: "bash_1", filter: "b", cursor: 2, wait_ms: 25_000 },
      { bash_id: "bash_1", filter: "b", cursor: 2, wait_ms: 25_000 },
      { bash_id: "bash_1", filter: "b", cursor: 4, wait_ms: 25_000 },
    ]);
  });

  it("starts from a given cursor with a long poll", async () => {
    const server = fakeServer(command([{ output: "abcdef", status: "failed" }]));
    const client = createClient({ ...base, fetch: server.fetch });
    const chunks = await collect(client.streamOutput("bash_1", { cursor: 3 }));
    expect(chunks).toEqual([{ output: "def", status: "failed", exitCode: 0, cursor: 6 }]);
    expect(server.requests[0]!.body).toEqual({ bash_id: "bash_1", cursor: 3, wait_ms: 25_000 });
  });

  it("break aborts the poll in flight and sends nothing more", async () => {
    const server = fakeServer((request, index) =>
      index === 0 ? command([{ output: "x" }])(request, 0) : hang(request),
    );
    const client = createClient({ ...base, fetch: server.fetch });
    for await (const chunk of client.streamOutput("bash_1")) {
      expect(chunk.output).toBe("x");
      // Give the next poll time to reach the server.
      await vi.waitFor(() => expect(server.requests).toHaveLength(2));
      break;
    }
    expect(server.requests[1]!.signal.aborted).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it("a dropped poll is retried with the same cursor: nothing lost, nothing repeated", async () => {
    const steps = [
      { output: "one\n" },
      { output: "one\ntwo\n" },
      { output: "one\ntwo\n", status: "completed" },
    ];
    const answer = command(steps);
    let dropped = false;
    const server = fakeServer((request, index) => {
      if (index === 1 && !dropped) {
        dropped = true;
        throw new TypeError("socket hang up");
      }
      return answer(request, index - (dropped ? 1 : 0));
    });
    const client = createClient({ ...base, retry: { baseDelay: 1 }, fetch: server.fetch });
    const chunks = await collect(client.streamOutput("bash_1"));
    expect(chunks.map((chunk) => chunk.output).join("")).toBe("one\ntwo\n");
    expect((server.requests[1]!.body as { cursor: number }).cursor).toBe(4);
    expect((server.requests[2]!.body as { cursor: number }).cursor).toBe(4);
  });

  it("falls back to interval polling against a server that ignores wait_ms", async () => {
    vi.useFakeTimers();
    let finished = false;
    const server = fakeServer(() =>
      json({ output: "", status: finished ? "completed" : "running", exit_code: null, cursor: 0 }),
    );
    const client = createClient({ ...base, fetch: server.fetch });
    const done = collect(client.streamOutput("bash_1"));
    // The first poll (no wait) and the first long poll answer at once; then 250, 500, 1000, 2000, 2000 ms.
    await vi.advanceTimersByTimeAsync(0);
    expect(server.requests).toHaveLength(2);
    const counts: number[] = [];
    for (const step of [250, 500, 1000, 2000, 2000]) {
      await vi.advanceTimersByTimeAsync(step - 1);
      counts.push(server.requests.length);
      await vi.advanceTimersByTimeAsync(1);
      counts.push(server.requests.length);
    }
    expect(counts).toEqual([2, 3, 3, 4, 4, 5, 5, 6, 6, 7]);
    finished = true;
    await vi.advanceTimersByTimeAsync(2000);
    await expect(done).resolves.toEqual([
      { output: "", status: "completed", exitCode: null, cursor: 0 },
    ]);
  });

  it("does not back off when a filtered poll skipped lines (its cursor moved)", async () => {
    vi.useFakeTimers();
    let read = 0;
    // A filter that matches nothing: each answer is empty, early, but covers more output.
    const server = fakeServer(() => {
      read += 10;
      return json({
        output: "",
        status: read >= 50 ? "completed" : "running",
        exit_code: null,
        cursor: read,
      });
    });
    const client = createClient({ ...base, fetch: server.fetch });
    const done = collect(client.streamOutput("bash_1", { filter: "ERROR" }));
    await vi.advanceTimersByTimeAsync(0);
    expect(server.requests).toHaveLength(5);
    await expect(done).resolves.toEqual([
      { output: "", status: "completed", exitCode: null, cursor: 50 },
    ]);
  });

  it("an abort rejects with the signal's reason, also while waiting between polls", async () => {
    vi.useFakeTimers();
    const server = fakeServer(() =>
      json({ output: "", status: "running", exit_code: null, cursor: 0 }),
    );
    const client = createClient({ ...base, fetch: server.fetch });
    const controller = new AbortController();
    const reason = new Error("enough");
    const done = collect(client.streamOutput("bash_1", { signal: controller.signal })).catch(
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(100);
    controller.abort(reason);
    expect(await done).toBe(reason);
    const before = server.requests.length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.requests).toHaveLength(before);
  });
});

describe("streamOutput under faults", () => {
  const steps = ["one\n", "two\n", "three\n", "four\n"];

  it("re-asks a lost first answer by cursor after the server moved its position", async () => {
    const model = fakeCommand(steps, { drop: (index) => index === 0 });
    const server = fakeServer(model.respond);
    const client = createClient({ ...base, retry: { baseDelay: 1 }, fetch: server.fetch });
    const { shellId } = await client.bash("./build", { runInBackground: true });
    const chunks = await collect(client.streamOutput(shellId));
    expect(model.state.dropped).toBe(1);
    expect(chunks.map((chunk) => chunk.output).join("")).toBe(model.whole);
    const polls = server.requests.slice(1).map((request) => request.body as { cursor?: number });
    expect(polls[0]).toMatchObject({ cursor: 0 });
    expect(polls[1]).toMatchObject({ cursor: 0 });
  });

  it("starts where the session's last bashOutput ended, by cursor", async () => {
    const model = fakeCommand(steps, { drop: (index) => index === 1 });
    const server = fakeServer(model.respond);
    const client = createClient({ ...base, retry: { baseDelay: 1 }, fetch: server.fetch });
    const { shellId } = await client.bash("./build", { runInBackground: true });
    const first = await client.bashOutput(shellId);
    expect(first.output).toBe("one\n");
    const chunks = await collect(client.streamOutput(shellId));
    expect(first.output + chunks.map((chunk) => chunk.output).join("")).toBe(model.whole);
    expect(server.requests[2]!.body).toMatchObject({ cursor: 4 });
  });

  it("for a command the client never saw, gets a lost first answer back by its key", async () => {
    const model = fakeCommand(steps, { drop: (index) => index === 1 });
    const server = fakeServer(model.respond);
    // Another client of the same session read the first step.
    const other = createClient({ ...base, toolSessionId: "s", fetch: server.fetch });
    expect((await other.bashOutput("bash_1")).output).toBe("one\n");
    const client = createClient({
      ...base,
      toolSessionId: "s",
      retry: { baseDelay: 1 },
      fetch: server.fetch,
    });
    const chunks = await collect(client.streamOutput("bash_1"));
    // Nothing lost, nothing repeated: the retry of the lost poll is answered from its record.
    expect(chunks.map((chunk) => chunk.output).join("")).toBe("two\nthree\nfour\n");
    const [, lost, retried] = server.requests;
    expect(lost!.body).toEqual({ bash_id: "bash_1", wait_ms: 0 });
    expect(retried!.body).toEqual(lost!.body);
    expect(retried!.headers["idempotency-key"]).toBe(lost!.headers["idempotency-key"]);
  });

  it("outlives a 429 storm, honouring Retry-After, without throwing at the consumer", async () => {
    vi.useFakeTimers();
    const model = fakeCommand(steps, {
      refuse: (index) => (index >= 1 && index <= 20 ? tooMany(2) : undefined),
    });
    const server = fakeServer(model.respond);
    const client = createClient({ ...base, fetch: server.fetch });
    const { shellId } = await client.bash("./build", { runInBackground: true });
    const done = collect(client.streamOutput(shellId));
    await vi.advanceTimersByTimeAsync(0);
    const sentAt: number[] = [];
    for (let second = 0; model.state.refused < 20 && second < 200; second++) {
      const before = server.requests.length;
      await vi.advanceTimersByTimeAsync(1000);
      if (server.requests.length > before) sentAt.push(second);
    }
    // Every re-ask waited the 2 s the server asked for: at most one request per 2 s.
    for (let i = 1; i < sentAt.length; i++)
      expect(sentAt[i]! - sentAt[i - 1]!).toBeGreaterThanOrEqual(2);
    await vi.advanceTimersByTimeAsync(10_000);
    const chunks = await done;
    expect(model.state.refused).toBe(20);
    expect(chunks.map((chunk) => chunk.output).join("")).toBe(model.whole);
    expect(chunks.at(-1)?.status).toBe("completed");
  });

  it("a cursorless first poll refused with 429 is re-asked without a cursor (nothing was read)", async () => {
    const model = fakeCommand(steps, { refuse: (index) => (index === 0 ? tooMany(0) : undefined) });
    const server = fakeServer(model.respond);
    const client = createClient({ ...base, fetch: server.fetch });
    await collect(client.streamOutput("bash_1"));
    expect(server.requests[1]!.body).toEqual({ bash_id: "bash_1", wait_ms: 0 });
  });

  it("ends with the error on a non-retryable answer, and on a 429 when retries are off", async () => {
    const gone = fakeServer(() => failure(404, "not_found", "No background command bash_1"));
    await expect(
      collect(createClient({ ...base, fetch: gone.fetch }).streamOutput("bash_1")),
    ).rejects.toMatchObject({ statusCode: 404 });
    expect(gone.requests).toHaveLength(1);
    const busy = fakeServer(() => tooMany(0));
    await expect(
      collect(createClient({ ...base, retry: false, fetch: busy.fetch }).streamOutput("bash_1")),
    ).rejects.toMatchObject({ statusCode: 429 });
    expect(busy.requests).toHaveLength(1);
  });

  it("an abort during a 429 backoff rejects with the signal's reason", async () => {
    vi.useFakeTimers();
    const server = fakeServer(() => tooMany(30));
    const client = createClient({ ...base, fetch: server.fetch });
    const controller = new AbortController();
    const done = collect(client.streamOutput("bash_1", { signal: controller.signal })).catch(
      (error: unknown) => error,
    );
    await vi.advanceTimersByTimeAsync(100);
    controller.abort("stop");
    expect(await done).toBe("stop");
  });
});
