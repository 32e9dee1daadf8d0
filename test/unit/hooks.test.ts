/** The `hooks` client option: ofetch's hooks, run for every HTTP attempt, retries included. */
import { describe, expect, it } from "vitest";
import { createClient, isNetworkError, isToolError } from "../../src/index.ts";
import { base, failure, fakeServer, json } from "./fake-server.ts";

const textFile = { type: "text", content: "   1\thi\n", total_lines: 1, lines_returned: 1 };
const noDelay = { limit: 2, baseDelay: 0 };

describe("hooks", () => {
  it("run once per HTTP attempt, so a retried call runs them again", async () => {
    const server = fakeServer((_, index) =>
      index === 0 ? failure(503, "unavailable", "busy, retry") : json(textFile),
    );
    const seen: string[] = [];
    const client = createClient({
      ...base,
      fetch: server.fetch,
      retry: noDelay,
      hooks: {
        onRequest: () => void seen.push("request"),
        onResponse: ({ response }) => void seen.push(`response ${response.status}`),
        onResponseError: ({ response }) => void seen.push(`error ${response.status}`),
      },
    });
    expect(await client.read("/home/user/a.txt")).toMatchObject({ content: "   1\thi\n" });
    expect(server.requests).toHaveLength(2);
    expect(seen).toEqual(["request", "response 503", "error 503", "request", "response 200"]);
  });

  it("can add a header that the server sees", async () => {
    const server = fakeServer(() => json(textFile));
    const client = createClient({
      ...base,
      fetch: server.fetch,
      hooks: {
        onRequest: [
          ({ options }) => options.headers.set("traceparent", "00-abc-def-01"),
          ({ options }) => options.headers.set("lumina-tool-session", "chosen-by-hook"),
        ],
      },
    });
    await client.read("/home/user/a.txt");
    expect(server.requests[0]!.headers).toMatchObject({
      traceparent: "00-abc-def-01",
      "lumina-tool-session": "chosen-by-hook",
      authorization: "Bearer t0k",
    });
  });

  it("see a network failure in onRequestError, and the call still rejects with a NetworkError", async () => {
    const errors: string[] = [];
    const client = createClient({
      ...base,
      retry: false,
      fetch: () => Promise.reject(new TypeError("fetch failed")),
      hooks: { onRequestError: ({ error }) => void errors.push(error.message) },
    });
    const error = await client.getSandbox().catch((thrown: unknown) => thrown);
    expect(isNetworkError(error)).toBe(true);
    expect((error as Error).message).toContain("fetch failed");
    expect(errors).toEqual(["fetch failed"]);
  });

  it("leave the error mapping exact: a Lumina error body and a proxy's HTML page", async () => {
    const server = fakeServer((_, index) =>
      index === 0
        ? failure(409, "not_read", "read it first", { "lumina-request-id": "req-7" })
        : new Response("<html><body>Bad gateway</body></html>", {
            status: 502,
            headers: { "content-type": "text/html" },
          }),
    );
    const client = createClient({
      ...base,
      fetch: server.fetch,
      retry: false,
      hooks: { onResponseError: () => {} },
    });
    const first = await client.write("/home/user/a.txt", "x").catch((thrown: unknown) => thrown);
    expect(isToolError(first)).toBe(true);
    expect(first).toMatchObject({
      statusCode: 409,
      code: "not_read",
      message: "read it first",
      method: "POST",
      url: "http://lumina.test/v1/sandboxes/my%20box/tools/write",
      requestId: "req-7",
    });
    const second = await client.glob("*").catch((thrown: unknown) => thrown);
    expect(second).toMatchObject({ statusCode: 502, code: "http_error" });
    expect((second as Error).message).toContain("Bad gateway");
  });

  it("a hook that throws fails the call with that error as its cause", async () => {
    const server = fakeServer(() => json(textFile));
    const boom = new Error("no tracing today");
    const client = createClient({
      ...base,
      fetch: server.fetch,
      retry: false,
      hooks: {
        onRequest: () => {
          throw boom;
        },
      },
    });
    const error = await client.read("/a").catch((thrown: unknown) => thrown);
    expect((error as Error).cause).toBe(boom);
    expect(server.requests).toHaveLength(0);
  });

  it("are unused with a custom transport", async () => {
    let called = false;
    const client = createClient({
      ...base,
      hooks: {
        onRequest: () => {
          called = true;
        },
      },
      transport: async () => ({
        status: 200,
        headers: new Headers(),
        body: JSON.stringify(textFile),
      }),
    });
    await client.read("/a");
    expect(called).toBe(false);
  });
});
