import { describe, expect, it } from "vitest";
import { createClient, launchSandbox } from "../../src/index.ts";
import { base, failure, fakeServer, json } from "./fake-server.ts";

const sandbox = { name: "my box", status: "running", created_at: "now" };

function sandboxServer(destroyStatus = 204) {
  return fakeServer((request) => {
    if (request.method === "POST") return json({ sandbox, lease: null }, 201);
    if (request.method === "DELETE") {
      return destroyStatus === 204
        ? new Response(null, { status: 204 })
        : failure(destroyStatus, "not_found", "no such sandbox");
    }
    return json({ sandbox });
  });
}

const calls = (server: ReturnType<typeof fakeServer>) =>
  server.requests.map((request) => `${request.method} ${request.path}`);

describe("launchSandbox", () => {
  it("creates the sandbox, and disposing the client destroys it once", async () => {
    const server = sandboxServer();
    {
      await using lumina = await launchSandbox({ ...base, eager: false, fetch: server.fetch });
      expect(server.requests[0]!.body).toEqual({ name: "my box", eager: false });
      await lumina.getSandbox();
    }
    expect(calls(server)).toEqual([
      "POST /v1/sandboxes",
      "GET /v1/sandboxes/my%20box",
      "DELETE /v1/sandboxes/my%20box",
    ]);
  });

  it("close() destroys too, only once, and tolerates a sandbox already gone", async () => {
    const server = sandboxServer(404);
    const lumina = await launchSandbox({ ...base, fetch: server.fetch });
    await lumina.close();
    await lumina[Symbol.asyncDispose]();
    expect(calls(server)).toEqual(["POST /v1/sandboxes", "DELETE /v1/sandboxes/my%20box"]);
  });

  it("keep: true leaves the sandbox in place", async () => {
    const server = sandboxServer();
    {
      await using _lumina = await launchSandbox({ ...base, keep: true, fetch: server.fetch });
    }
    expect(calls(server)).toEqual(["POST /v1/sandboxes"]);
  });

  it("rejects with the creation error", async () => {
    const server = fakeServer(() => failure(409, "sandbox_exists", "taken"));
    await expect(launchSandbox({ ...base, fetch: server.fetch })).rejects.toMatchObject({
      code: "sandbox_exists",
    });
  });

  it("disposing a createClient client never destroys anything", async () => {
    const server = sandboxServer();
    {
      await using lumina = createClient({ ...base, fetch: server.fetch });
      await lumina.getSandbox();
    }
    expect(calls(server)).toEqual(["GET /v1/sandboxes/my%20box"]);
  });
});
