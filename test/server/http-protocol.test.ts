import { request } from "node:http";
import { beforeAll, describe, expect, it } from "vitest";
import { errorCode, looksLikeStack, type RawAnswer, rawCall } from "../support/http.ts";
import { randomSandboxName, sandboxHostMissing } from "../support/server.ts";
import { useTestServer, useTestServers } from "../support/use-server.ts";

const bodyLimit = 4 * 1024 * 1024;

const server = useTestServer({ bodyLimit });
const startServer = useTestServers();

function expectError(answer: RawAnswer, status: number, code: string): void {
  expect({ status: answer.status, code: errorCode(answer) }).toEqual({ status, code });
  expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  expect(typeof (answer.json as { error: { message: unknown } }).error.message).toBe("string");
  expect(looksLikeStack(answer.text)).toBe(false);
}

/** Sends a chunked body (no Content-Length) and returns the status the server answered. */
function postChunked(
  path: string,
  token: string,
  size: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server().url);
    const req = request(url, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    // The server may answer 413 and stop reading before we finish; that is the point.
    req.on("error", (error) => reject(error));
    const chunk = Buffer.alloc(64 * 1024, "a");
    req.write('{"name":"');
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end('"}');
    };
    pump();
    expect(req.getHeader("content-length")).toBeUndefined();
  });
}

describe("health and routing", () => {
  it("answers health without a token", async () => {
    const answer = await rawCall(server().url, "/v1/health");
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ status: "ok", version: expect.any(String) });
  });

  it("answers an unknown route with a JSON 404", async () => {
    expectError(await rawCall(server().url, "/v1/nothing-here"), 404, "not_found");
    expectError(await rawCall(server().url, "/", { token: server().token }), 404, "not_found");
  });

  it("answers a wrong method with a JSON 405 and an Allow header", async () => {
    const answer = await rawCall(server().url, "/v1/sandboxes", {
      method: "PUT",
      token: server().token,
    });
    expectError(answer, 405, "method_not_allowed");
    expect(answer.headers.get("allow")).toContain("POST");
    expectError(
      await rawCall(server().url, "/v1/health", { method: "DELETE" }),
      405,
      "method_not_allowed",
    );
  });
});

describe("request bodies", () => {
  const post = (body: string | unknown, headers?: Record<string, string>) =>
    rawCall(server().url, "/v1/sandboxes", {
      token: server().token,
      body,
      ...(headers ? { headers } : {}),
    });

  it("refuses malformed JSON, non-objects and empty bodies with 400", async () => {
    for (const body of ['{"name": ', "[1,2]", '"text"', "null", " "]) {
      expectError(await post(body), 400, "invalid_request");
    }
  });

  it("refuses duplicate keys, also when spelled with escapes", async () => {
    const plain = await post('{"name":"a","name":"b"}');
    expectError(plain, 400, "invalid_request");
    expect(plain.text).toContain("name");
    expectError(await post('{"name":"a","n\\u0061me":"b"}'), 400, "invalid_request");
    expectError(await post('{"name":"a","x":{"k":1,"k":2}}'), 400, "invalid_request");
  });

  it("accepts the same key in sibling objects", async () => {
    const name = randomSandboxName();
    const answer = await post(`{"name":"${name}","eager":false,"a":{"k":1},"b":{"k":"\\"}"}}`);
    // Parsed without a duplicate-key complaint: the strict body check is what refuses it.
    expectError(answer, 400, "invalid_request");
    expect(answer.text).toContain("the field 'a' is not defined");
  });

  it("refuses deep nesting with 400", async () => {
    const deep = `{"name":"x","a":${"[".repeat(200)}${"]".repeat(200)}}`;
    const answer = await post(deep);
    expectError(answer, 400, "invalid_request");
    expect(answer.text).toContain("nested");
  });

  it("refuses a body that is not declared JSON with 415", async () => {
    expectError(
      await post('{"name":"x"}', { "content-type": "text/plain" }),
      415,
      "unsupported_media_type",
    );
    const noType = await rawCall(server().url, "/v1/sandboxes", {
      token: server().token,
      method: "POST",
      body: new TextEncoder().encode('{"name":"x"}'),
      headers: { "content-type": "" },
    });
    expectError(noType, 415, "unsupported_media_type");
  });

  it("refuses an oversized body with Content-Length with 413", async () => {
    const big = JSON.stringify({ name: "x", pad: "a".repeat(bodyLimit) });
    expectError(await post(big), 413, "payload_too_large");
  });

  it("refuses an oversized chunked body without Content-Length with 413", async () => {
    const answer = await postChunked("/v1/sandboxes", server().token, bodyLimit + 1024 * 1024);
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe("payload_too_large");
  });

  it("accepts a body of a few MB under the limit", async () => {
    const name = randomSandboxName();
    const answer = await post({ name, eager: false, pad: "é".repeat(1_500_000) });
    // Read and parsed whole (no 413): the strict body check is what refuses it.
    expectError(answer, 400, "invalid_request");
    expect(answer.text).toContain("the field 'pad' is not defined");
  });

  it("names the offending field of a wrong type", async () => {
    const wrong = await post({ name: 5 });
    expectError(wrong, 400, "invalid_request");
    expect(wrong.text).toContain("'name'");
    const missing = await post({ eager: true });
    expect(missing.text).toContain("'name' is required");
    const eager = await post({ name: randomSandboxName(), eager: "yes" });
    expect(eager.text).toContain("'eager'");
  });

  it("refuses sandbox names outside the allow-list", async () => {
    for (const name of ["Upper", "--bind", "a_b", "-a", "a-", "", "a".repeat(64), "../x", "a b"]) {
      const answer = await post({ name });
      expectError(answer, 400, "invalid_request");
      expect(answer.text).toContain("'name'");
    }
  });

  it("refuses an unknown field with a 400 naming it, and creates nothing", async () => {
    const name = randomSandboxName();
    const answer = await post({ name, eager: false, host_uid: 0 });
    expectError(answer, 400, "invalid_request");
    expect(answer.text).toContain("'host_uid'");
    expect(answer.text).toContain("name, eager");
    const got = await rawCall(server().url, `/v1/sandboxes/${name}`, { token: server().token });
    expect(got.status).toBe(404);
  });
});

describe("tool body validation", () => {
  let name: string;
  beforeAll(async () => {
    if (sandboxHostMissing) return; // the file's tests skip, saying why
    name = randomSandboxName();
    const created = await rawCall(server().url, "/v1/sandboxes", {
      token: server().token,
      body: { name, eager: false },
    });
    expect(created.status).toBe(201);
  });
  const tool = (toolName: string, body: unknown) =>
    rawCall(server().url, `/v1/sandboxes/${name}/tools/${toolName}`, {
      token: server().token,
      session: "validation-session",
      body,
    });

  it.each([
    ["bash", { command: "true", timeout: 0 }, "timeout"],
    ["bash", { command: "true", timeout: 600_001 }, "timeout"],
    ["bash", { command: "true", timeout: 1.5 }, "timeout"],
    ["bash", { command: 42 }, "command"],
    ["bash", { command: "true", run_in_background: "yes" }, "run_in_background"],
    ["bash_output", { bash_id: "bash_1", wait_ms: 30_001 }, "wait_ms"],
    ["bash_output", { bash_id: "bash_1", wait_ms: -1 }, "wait_ms"],
    ["bash_output", { bash_id: "bash_1", cursor: -5 }, "cursor"],
    ["kill_bash", { shell_id: 7 }, "shell_id"],
    ["read", { file_path: "/home/user/a", offset: 0 }, "offset"],
    ["read", { file_path: "/home/user/a", limit: -1 }, "limit"],
    ["read", {}, "file_path"],
    ["write", { file_path: "/home/user/a" }, "content"],
    ["edit", { file_path: "/home/user/a", old_string: "a", new_string: 1 }, "new_string"],
    ["grep", { pattern: "x", output_mode: "lines" }, "output_mode"],
    ["grep", { pattern: "x", context: -1 }, "context"],
    ["grep", { pattern: "x", after: "2" }, "after"],
    ["glob", { pattern: ["*"] }, "pattern"],
  ])("refuses %s with %j naming %s", async (toolName, body, field) => {
    const answer = await tool(toolName, body);
    expectError(answer, 400, "invalid_request");
    expect(answer.text).toContain(`'${field}'`);
  });

  it.each([
    ["read", { file_path: "/home/user/a", signal: {} }, "signal"],
    ["write", { file_path: "/home/user/a", content: "x", mode: 0o777 }, "mode"],
    ["edit", { file_path: "/a", old_string: "a", new_string: "b", replaceAll: true }, "replaceAll"],
    ["glob", { pattern: "*", cwd: "/" }, "cwd"],
    ["grep", { pattern: "x", ignoreCase: true }, "ignoreCase"],
    ["bash", { command: "true", signal: {} }, "signal"],
    ["bash_output", { bash_id: "bash_1", waitMs: 10 }, "waitMs"],
    ["kill_bash", { shell_id: "bash_1", force: true }, "force"],
  ])("refuses %s with the unknown field of %j, naming %s", async (toolName, body, field) => {
    const answer = await tool(toolName, body);
    expectError(answer, 400, "invalid_request");
    expect(answer.text).toContain(`the field '${field}' is not defined`);
  });

  it("validates before starting the sandbox", async () => {
    await tool("bash", { command: "true", timeout: 0 });
    const got = await rawCall(server().url, `/v1/sandboxes/${name}`, { token: server().token });
    expect((got.json as { sandbox: { status: string } }).sandbox.status).toBe("stopped");
  });

  it("answers an unknown tool with 404", async () => {
    expectError(await tool("rm_rf", { path: "/" }), 404, "not_found");
  });
});

describe("CORS", () => {
  it("answers a preflight allowing the contract's headers", async () => {
    const answer = await rawCall(server().url, "/v1/sandboxes/x/tools/read", {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers":
          "authorization, content-type, lumina-tool-session, idempotency-key",
      },
    });
    expect(answer.status).toBeLessThan(300);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = (answer.headers.get("access-control-allow-headers") ?? "").toLowerCase();
    for (const header of [
      "authorization",
      "content-type",
      "lumina-tool-session",
      "idempotency-key",
    ]) {
      expect(allowed).toContain(header);
    }
    expect(answer.headers.get("access-control-allow-methods")).toContain("POST");
  });

  it("exposes Retry-After on answers, errors included", async () => {
    const answer = await rawCall(server().url, "/v1/sandboxes", {
      headers: { origin: "https://a.example" },
    });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("access-control-allow-origin")).toBe("*");
    expect(answer.headers.get("access-control-expose-headers")).toContain("Retry-After");
    expect(answer.headers.get("access-control-expose-headers")).toContain("Idempotent-Replayed");
  });

  it("allows only the configured origins when given", async () => {
    const strict = await startServer({ corsOrigins: ["https://app.example"] });
    const preflight = (origin: string) =>
      rawCall(strict.url, "/v1/sandboxes", {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "GET" },
      });
    expect(
      (await preflight("https://app.example")).headers.get("access-control-allow-origin"),
    ).toBe("https://app.example");
    expect(
      (await preflight("https://evil.example")).headers.get("access-control-allow-origin"),
    ).toBeNull();
  });
});

describe("Lumina-Request-Id", () => {
  it("is on every answer, fresh each time: health, errors, preflights and tool calls", async () => {
    const name = randomSandboxName();
    const answers = [
      await rawCall(server().url, "/v1/health"),
      await rawCall(server().url, "/v1/sandboxes"),
      await rawCall(server().url, "/v1/nowhere", { token: server().token }),
      await rawCall(server().url, "/v1/sandboxes", { token: server().token, body: { name: 5 } }),
      await rawCall(server().url, "/v1/sandboxes", {
        method: "OPTIONS",
        headers: { origin: "https://a.example", "access-control-request-method": "POST" },
      }),
      await rawCall(server().url, "/v1/sandboxes", { token: server().token, body: { name } }),
      await rawCall(server().url, `/v1/sandboxes/${name}/tools/bash`, {
        token: server().token,
        session: "request-id",
        body: { command: "echo hi" },
      }),
    ];
    const ids = answers.map((answer) => answer.headers.get("lumina-request-id"));
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(answers.at(-1)?.json).toMatchObject({ output: "hi\n" });
  });

  it("names the request in the log lines written while handling it", async () => {
    const lines: string[] = [];
    const logged = await startServer({ log: (line) => lines.push(line) });
    const name = randomSandboxName();
    await rawCall(logged.url, "/v1/sandboxes", { token: logged.token, body: { name } });
    const answer = await rawCall(logged.url, `/v1/sandboxes/${name}/tools/bash`, {
      token: logged.token,
      session: "request-id-log",
      body: { command: "true", description: "a described command" },
    });
    const id = answer.headers.get("lumina-request-id");
    expect(lines.filter((line) => line.includes("a described command"))).toEqual([
      expect.stringContaining(`[request ${id}] `),
    ]);
  });
});
