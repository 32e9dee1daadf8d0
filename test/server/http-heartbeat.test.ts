import { request } from "node:http";
import { describe, expect, it } from "vitest";
import { createClient } from "../../src/index.ts";
import { rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";

const server = useTestServer({ heartbeatMs: 100 });

interface Streamed {
  status: number;
  body: string;
}

/** Posts a foreground bash call and reads the streamed answer, with a 1 s idle socket timeout. */
function streamedBash(
  name: string,
  command: string,
  headersArrived: () => void,
): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(`/v1/sandboxes/${name}/tools/bash`, server().url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${server().token}`,
        "content-type": "application/json",
        "lumina-tool-session": `hb-${name}`,
      },
    });
    // A body idle for a second fails the call: only the heartbeats keep it alive.
    req.setTimeout(1000, () => req.destroy(new Error("the answer went idle for a second")));
    req.on("error", reject);
    req.on("response", (res) => {
      headersArrived();
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.end(JSON.stringify({ command }));
  });
}

describe("long foreground bash answers", () => {
  it("send headers at once and heartbeat spaces until the JSON answer", async () => {
    const name = randomSandboxName();
    await createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: name,
    }).createSandbox();
    // The socket's 1 s idle timeout covers the wait for headers too: a 3 s silence would fail it.
    const answer = await streamedBash(name, "sleep 3; echo done", () => {});
    expect(answer.status).toBe(200);
    expect(answer.body).toMatch(/^ +\{/);
    expect(JSON.parse(answer.body)).toEqual({
      output: "done\n",
      exit_code: 0,
      killed: false,
      truncated: false,
      shell_id: "",
    });
  });

  it("report a failure after the headers as an error body carrying its status", async () => {
    const name = randomSandboxName();
    await createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: name,
    }).createSandbox();
    let headersArrived!: () => void;
    const headers = new Promise<void>((resolve) => {
      headersArrived = resolve;
    });
    const pending = streamedBash(name, "sleep 30", headersArrived);
    await headers;
    // Destroying the sandbox under the running command fails it after the 200 went out.
    const deleted = await rawCall(server().url, `/v1/sandboxes/${name}`, {
      method: "DELETE",
      token: server().token,
    });
    expect(deleted.status).toBe(204);
    const answer = await pending;
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.body) as {
      error: { code: string; message: string; status: number };
    };
    expect(body.error).toEqual({
      code: expect.any(String),
      message: expect.any(String),
      status: expect.any(Number),
    });
    expect(body.error.status).toBeGreaterThanOrEqual(400);
    expect(answer.body).not.toMatch(/\n\s+at |\.ts:\d+/);
  });
});
