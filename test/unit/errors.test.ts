import { describe, expect, it } from "vitest";
import {
  createClient,
  isLuminaError,
  isNetworkError,
  isTimeoutError,
  isToolError,
  isValidationError,
  LuminaError,
  NetworkError,
  TimeoutError,
  ToolError,
  ValidationError,
} from "../../src/index.ts";
import { base, failure, fakeServer, json } from "./fake-server.ts";

function clientAnswering(response: () => Response) {
  return createClient({ ...base, retry: false, fetch: fakeServer(response).fetch });
}

describe("error mapping", () => {
  it.each([
    [400, "ambiguous_match", "found 3 occurrences of old_string"],
    [401, "unauthorized", "missing or bad credentials"],
    [404, "not_found", "file not found: /home/user/x"],
    [409, "stale_read", "the file changed since it was read"],
    [413, "payload_too_large", "the body is over 10 MiB"],
    [429, "rate_limited", "slow down"],
    [500, "internal", "something broke"],
    [503, "unavailable", "try again"],
    [507, "disk_full", "no space left for /home/user/x"],
  ])(
    "a %i answer becomes a ToolError with the server's code and message",
    async (status, code, message) => {
      const client = clientAnswering(() => failure(status, code, message));
      const error = await client.read("/x").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ToolError);
      expect(error).toBeInstanceOf(LuminaError);
      expect(error).toMatchObject({ name: "ToolError", statusCode: status, code, message });
    },
  );

  it("a non-JSON 502 becomes http_error with the status and an excerpt", async () => {
    const html = "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>";
    const client = clientAnswering(
      () => new Response(html, { status: 502, headers: { "content-type": "text/html" } }),
    );
    const error = await client.glob("*").catch((caught: unknown) => caught);
    expect(error).toMatchObject({ statusCode: 502, code: "http_error" });
    expect((error as Error).message).toMatch(/HTTP 502: 502 Bad Gateway nginx$/);
    expect((error as Error).message).toContain(
      "POST http://lumina.test/v1/sandboxes/my%20box/tools/glob",
    );
  });

  it("a bash failure after the kept-alive 200 headers becomes a ToolError with its status", async () => {
    const late = '   {"error":{"code":"unavailable","message":"the sandbox stopped","status":503}}';
    const client = clientAnswering(() => new Response(late, { status: 200 }));
    await expect(client.bash("sleep 30")).rejects.toMatchObject({
      name: "ToolError",
      statusCode: 503,
      code: "unavailable",
      message: "the sandbox stopped",
    });
  });

  it("a JSON body that is not a Lumina error also becomes http_error", async () => {
    const client = clientAnswering(() => json({ message: "nope" }, 500));
    await expect(client.getSandbox()).rejects.toMatchObject({
      code: "http_error",
      statusCode: 500,
    });
  });

  it("a non-zero exit code is data, not an error", async () => {
    const client = clientAnswering(() =>
      json({ output: "", exit_code: 1, killed: false, truncated: false, shell_id: "" }),
    );
    await expect(client.bash("false")).resolves.toMatchObject({ exitCode: 1 });
  });

  it("a refused connection becomes a NetworkError keeping the cause", async () => {
    const cause = new TypeError("fetch failed");
    const client = createClient({ ...base, retry: false, fetch: () => Promise.reject(cause) });
    const error = await client.getSandbox().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).cause).toBe(cause);
    expect((error as Error).message).toContain("fetch failed");
  });

  it("errors show their fields in JSON.stringify", () => {
    const url = "http://lumina.test/v1/sandboxes/a/tools/write";
    const details = { method: "POST", url, requestId: "req-1", retryAfter: 2000 };
    const error = new ToolError(409, "not_read", "read it first", details);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: "ToolError",
      message: "read it first",
      statusCode: 409,
      code: "not_read",
      ...details,
    });
    expect(JSON.parse(JSON.stringify(new TimeoutError("slow", 5)))).toEqual({
      name: "TimeoutError",
      message: "slow",
      timeout: 5,
    });
    const cause = new TypeError("fetch failed");
    expect(JSON.parse(JSON.stringify(new NetworkError("down", { cause })))).toEqual({
      name: "NetworkError",
      message: "down",
      cause: "TypeError: fetch failed",
    });
  });

  it("errors have their fields as own properties, in a fixed order, unknown ones undefined", () => {
    const fields = (error: object) => Object.entries(error);
    const details = { method: "GET", url: "http://lumina.test/v1/sandboxes", requestId: "req-1" };
    expect(
      fields(new ToolError(503, "unavailable", "later", { ...details, retryAfter: 0 })),
    ).toEqual([
      ["name", "ToolError"],
      ["statusCode", 503],
      ["code", "unavailable"],
      ["method", "GET"],
      ["url", "http://lumina.test/v1/sandboxes"],
      ["requestId", "req-1"],
      ["retryAfter", 0],
    ]);
    const bare = new ToolError(500, "internal", "broke", { requestId: null });
    expect(fields(bare).map(([key]) => key)).toEqual([
      "name",
      "statusCode",
      "code",
      "method",
      "url",
      "requestId",
      "retryAfter",
    ]);
    expect([bare.method, bare.url, bare.requestId, bare.retryAfter]).toEqual([
      "",
      "",
      undefined,
      undefined,
    ]);
    expect(fields(new TimeoutError("slow", 5))).toEqual([
      ["name", "TimeoutError"],
      ["timeout", 5],
    ]);
    expect(fields(new ValidationError("bad", "a.b"))).toEqual([
      ["name", "ValidationError"],
      ["path", "a.b"],
    ]);
  });

  it("the guards recognise each class, also from another realm, and nothing else", () => {
    const errors = [
      new ToolError(400, "x", "y"),
      new NetworkError("n"),
      new TimeoutError("t", 1),
      new ValidationError("v", "a.b"),
    ];
    const guards = [isToolError, isNetworkError, isTimeoutError, isValidationError];
    for (const [index, guard] of guards.entries()) {
      expect(errors.map(guard)).toEqual(errors.map((_, other) => other === index));
    }
    expect(errors.every(isLuminaError)).toBe(true);
    // An error from another realm: same registered symbol, different class identity.
    const foreign = Object.assign(new Error("x"), { name: "ToolError", statusCode: 404 });
    Object.defineProperty(foreign, Symbol.for("lumina-sandbox.error"), { value: true });
    expect(isToolError(foreign)).toBe(true);
    expect(isToolError(Object.assign(new Error("x"), { name: "ToolError" }))).toBe(false);
    expect(isTimeoutError(new DOMException("late", "TimeoutError"))).toBe(false);
    expect(isLuminaError(null)).toBe(false);
  });
});

describe("malformed answers", () => {
  it("name the field path, with array indexes", async () => {
    const client = clientAnswering(() =>
      json({
        mode: "content",
        matches: [
          { file: "/a", line_number: 1, line: "x", before_context: [], after_context: [] },
          { file: "/a", line_number: "7", line: "x", before_context: [], after_context: [] },
        ],
        total_matches: 2,
      }),
    );
    const error = await client
      .grep("x", { outputMode: "content" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ path: "matches[1].line_number" });
    expect((error as Error).message).toBe(
      'Malformed grep answer: matches[1].line_number: expected number, received "7"',
    );
  });

  it("reject a grep answer in another mode than the one requested, naming mode", async () => {
    const filesAnswer = () => json({ mode: "files_with_matches", files: ["/a"], count: 1 });
    const error = await clientAnswering(filesAnswer)
      .grep("x", { outputMode: "content" })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ path: "mode" });
    expect((error as Error).message).toBe(
      'Malformed grep answer: mode: expected "content", received "files_with_matches"',
    );
    await expect(
      clientAnswering(() => json({ mode: "count", counts: [], total: 0 })).grep("x"),
    ).rejects.toMatchObject({ name: "ValidationError", path: "mode" });
    await expect(clientAnswering(filesAnswer).grep("x")).resolves.toMatchObject({ files: ["/a"] });
  });

  it("reject a missing field, an unknown discriminant and a wrong status", async () => {
    await expect(
      clientAnswering(() => json({ type: "text", content: "", total_lines: 0 })).read("/a"),
    ).rejects.toMatchObject({ name: "ValidationError", path: "lines_returned" });
    await expect(clientAnswering(() => json({ type: "video" })).read("/a")).rejects.toMatchObject({
      name: "ValidationError",
      path: "type",
    });
    await expect(
      clientAnswering(() =>
        json({ output: "", status: "done", exit_code: 0, cursor: 0 }),
      ).bashOutput("bash_1"),
    ).rejects.toMatchObject({ path: "status" });
  });

  it("reject a 2xx body that is not JSON, or is empty where data is due", async () => {
    await expect(clientAnswering(() => new Response("<html>")).getSandbox()).rejects.toMatchObject({
      name: "ValidationError",
      path: "",
    });
    await expect(clientAnswering(() => new Response("")).getSandbox()).rejects.toBeInstanceOf(
      ValidationError,
    );
  });
});
