/**
 * Preview URLs (CONTRACT §10) end to end on bubblewrap sandboxes: a server inside answers through
 * both URL forms, with streamed bodies both ways, server-sent events as they are sent, WebSockets,
 * and without the caller's credentials; unknown, closed, expired and revoked tokens are 404s that
 * say nothing, and a port with nothing on it is a 502.
 */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClient, type LuminaClient, type PortInfo } from "../../src/index.ts";
import { rawCall } from "../support/http.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import {
  hostForm,
  hostFormUrl,
  openHostForm,
  randomPort,
  startApp,
  tokenOf,
} from "./preview-helpers.ts";
import { expectToolError } from "./sandbox-helpers.ts";

let clockOffset = 0;
// No disk images: previews need none, and a busy data disk must not refuse the sandboxes.
const server = useTestServer({ diskQuota: false, previewClock: () => Date.now() + clockOffset });

async function newClient(): Promise<LuminaClient> {
  const client = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: randomSandboxName("pv"),
  });
  await client.createSandbox();
  return client;
}

/** A sandbox with the test app on an exposed port. */
async function exposedApp(): Promise<{ client: LuminaClient; info: PortInfo; port: number }> {
  const client = await newClient();
  const port = randomPort();
  await startApp(client, port);
  return { client, info: await client.exposePort(port), port };
}

interface Echo {
  method: string;
  url: string;
  headers: Record<string, string>;
  length: number;
  sha256: string;
}

/** One message over a WebSocket at `url` (ws:// of a preview), echoed back. */
function echoOverWebSocket(url: string, host?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, host ? { headers: { host } } : {});
    socket.once("open", () => socket.send("hello through the preview"));
    socket.once("message", (data) => {
      resolve(String(data));
      socket.close();
    });
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) =>
      reject(new Error(`the upgrade was answered ${response.statusCode}`)),
    );
  });
}

const notFoundText = async (url: string) => {
  const answer = await rawCall(url, "");
  expect(answer.status).toBe(404);
  return answer.text;
};

describe("preview URLs reach the sandbox's server", () => {
  it("answers through the host-name form and the path form, every method and the path", async () => {
    const { info, port } = await exposedApp();
    expect(info.port).toBe(port);
    expect(info.url).toMatch(new RegExp(`^http://${port}-[0-9a-f]{40}\\.localhost:\\d+/$`));
    expect(info.pathUrl).toBe(`${server().url}/preview/${tokenOf(info.url)}/`);
    expect(Date.parse(info.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);

    const byHost = await hostForm(`${info.url}hello/there?x=1`, { method: "PATCH" });
    expect(byHost.status).toBe(200);
    const hostEcho = JSON.parse(byHost.text) as Echo;
    expect(hostEcho).toMatchObject({ method: "PATCH", url: "/hello/there?x=1" });
    // The app sees the preview's own host, as a browser would send it.
    expect(hostEcho.headers["host"]).toBe(new URL(info.url).host);

    for (const method of ["GET", "POST", "PUT", "DELETE", "OPTIONS"]) {
      const response = await fetch(`${info.pathUrl}a/b?y=2`, { method });
      expect(response.status).toBe(200);
      expect((await response.json()) as Echo).toMatchObject({ method, url: "/a/b?y=2" });
    }
    const root = await fetch(info.pathUrl);
    expect(((await root.json()) as Echo).url).toBe("/");
  });

  it("passes a 1 MiB upload intact, both ways", async () => {
    const { info } = await exposedApp();
    const body = randomBytes(1024 * 1024);
    const sha256 = createHash("sha256").update(body).digest("hex");
    const byPath = (await (await fetch(info.pathUrl, { method: "POST", body })).json()) as Echo;
    expect(byPath).toMatchObject({ length: body.length, sha256 });
    const byHost = JSON.parse((await hostForm(info.url, { method: "PUT", body })).text) as Echo;
    expect(byHost).toMatchObject({ length: body.length, sha256 });

    const download = await fetch(`${info.pathUrl}download?bytes=${8 * 1024 * 1024 + 7}`);
    expect((await download.arrayBuffer()).byteLength).toBe(8 * 1024 * 1024 + 7);
  });

  it("delivers server-sent events as they are sent, not when the response ends", async () => {
    const { info } = await exposedApp();
    const response = await openHostForm(`${info.url}sse?id=one`);
    expect(response.headers["content-type"]).toBe("text/event-stream");
    const chunks = response[Symbol.asyncIterator]();
    // The app sends the second event only once /release is called, which happens only after the
    // first event arrived here: a buffering proxy never delivers it.
    const first = await chunks.next();
    expect(String(first.value)).toBe("data: first\n\n");
    expect(await (await fetch(`${info.pathUrl}release?id=one`)).text()).toBe("released");
    let rest = "";
    for (let chunk = await chunks.next(); !chunk.done; chunk = await chunks.next()) {
      rest += String(chunk.value);
    }
    expect(rest).toBe("data: second\n\n");
  });

  it("carries a WebSocket echo through both forms", async () => {
    const { info } = await exposedApp();
    const host = new URL(info.url).host;
    const loopback = `ws://127.0.0.1:${new URL(info.url).port}/ws`;
    expect(await echoOverWebSocket(loopback, host)).toBe("hello through the preview");
    const byPath = `${info.pathUrl.replace(/^http/, "ws")}ws`;
    expect(await echoOverWebSocket(byPath)).toBe("hello through the preview");
  });

  it("never forwards the Authorization header or cookies", async () => {
    const { info } = await exposedApp();
    const headers = {
      authorization: `Bearer ${server().token}`,
      cookie: "session=server-origin",
      "x-app-header": "kept",
    };
    for (const answer of [
      JSON.parse((await hostForm(info.url, { headers })).text) as Echo,
      (await (await fetch(info.pathUrl, { headers })).json()) as Echo,
    ]) {
      expect(answer.headers["authorization"]).toBeUndefined();
      expect(answer.headers["cookie"]).toBeUndefined();
      expect(answer.headers["x-app-header"]).toBe("kept");
    }
  });

  it("answers 502 saying so when nothing listens on the port", async () => {
    const client = await newClient();
    const info = await client.exposePort(randomPort());
    for (const answer of [await hostForm(info.url), await rawCall(info.pathUrl, "")]) {
      expect(answer.status).toBe(502);
      expect(answer.text).toContain(`nothing listens on port ${info.port}`);
    }
  });
});

describe("preview tokens", () => {
  it("answer 404 without a token, with a wrong one, or with another port's", async () => {
    const { info, port, client } = await exposedApp();
    const wrong = randomBytes(20).toString("hex");
    const texts = [
      await notFoundText(`${server().url}/preview/${wrong}/`),
      (await hostForm(hostFormUrl(server().url, port, wrong))).text,
      (await hostForm(hostFormUrl(server().url, port + 1, tokenOf(info.url)))).text,
    ];
    expect((await rawCall(server().url, "/preview/")).status).toBe(404);
    expect(
      (await hostForm(`http://${port}-.localhost:${new URL(server().url).port}/`)).status,
    ).toBe(404);
    // One answer for every unknown token: it names no sandbox and no port.
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).not.toContain(client.sandbox);
    expect(texts[0]).not.toContain(String(port));
  });

  it("answer 404 once closed, expired, or after a restart or destroy of the sandbox", async () => {
    const closed = await exposedApp();
    await closed.client.closePort(closed.port);
    await notFoundText(closed.info.pathUrl);
    expect((await hostForm(closed.info.url)).status).toBe(404);
    expect(await closed.client.listPorts()).toEqual([]);
    await expectToolError(closed.client.closePort(closed.port), 404, "not_found");

    const expiring = await exposedApp();
    const short = await expiring.client.exposePort(expiring.port, { ttl: 60_000 });
    expect(short.url).toBe(expiring.info.url); // Exposed again: same token, new expiry.
    expect((await fetch(short.pathUrl)).status).toBe(200);
    clockOffset = 61_000;
    try {
      await notFoundText(short.pathUrl);
      expect(await expiring.client.listPorts()).toEqual([]);
    } finally {
      clockOffset = 0;
    }

    const restarted = await exposedApp();
    await restarted.client.restartSandbox();
    await startApp(restarted.client, restarted.port);
    await notFoundText(restarted.info.pathUrl);
    expect(await restarted.client.listPorts()).toEqual([]);

    const destroyed = await exposedApp();
    await destroyed.client.destroySandbox();
    await notFoundText(destroyed.info.pathUrl);
  });

  it("survive a restart of the server until they expire", async () => {
    const { client, info, port } = await exposedApp();
    const token = tokenOf(info.url);
    await server().restart();
    const again = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: client.sandbox,
    });
    expect((await again.listPorts()).map((entry) => tokenOf(entry.url))).toEqual([token]);
    // The sandbox stopped with the server: nothing listens until the app runs again.
    expect((await rawCall(`${server().url}/preview/${token}/`, "")).status).toBe(502);
    await startApp(again, port);
    expect((await hostForm(hostFormUrl(server().url, port, token))).status).toBe(200);
  });
});

describe("the port routes", () => {
  it("check their bodies and ports strictly", async () => {
    const client = await newClient();
    const path = `/v1/sandboxes/${client.sandbox}/ports`;
    const token = server().token;
    for (const body of [
      { port: 0 },
      { port: 65_536 },
      { port: 80, ttl_ms: 86_400_001 },
      { port: 1.5 },
      {},
    ]) {
      expect((await rawCall(server().url, path, { token, body })).status).toBe(400);
    }
    const unknown = await rawCall(server().url, path, { token, body: { port: 80, ttl: 5 } });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain("'ttl'");
    expect((await rawCall(server().url, `${path}/0`, { token, method: "DELETE" })).status).toBe(
      400,
    );
    expect((await rawCall(server().url, path, { body: { port: 80 } })).status).toBe(401);
    const created = await rawCall(server().url, path, { token, body: { port: 80, ttl_ms: 1000 } });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json as object).sort()).toEqual([
      "expires_at",
      "path_url",
      "port",
      "url",
    ]);
    const listed = await rawCall(server().url, path, { token });
    expect((listed.json as { ports: unknown[] }).ports).toEqual([created.json]);
    expect((await rawCall(server().url, `${path}/80`, { token, method: "DELETE" })).status).toBe(
      204,
    );
    await expect(client.exposePort(80, { ttlMs: 5 } as never)).rejects.toThrow(TypeError);
  });
});
