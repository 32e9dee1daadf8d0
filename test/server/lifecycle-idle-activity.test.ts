/**
 * Idle stop (CONTRACT §12) and requests that are not tool calls: a file upload still streaming,
 * a preview's server-sent event stream and a preview WebSocket are activity of their sandbox for
 * as long as they are open, however long that is; once they end, the sandbox stops when idle.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { openHostForm, randomPort } from "./preview-helpers.ts";

let clockMs = Date.now();
// No disk images: none is needed here, and a busy data disk must not refuse the sandboxes.
const server = useTestServer({ diskQuota: false, idleClock: () => clockMs });

async function newSandbox(): Promise<LuminaClient> {
  const client = createClient({
    baseUrl: server().url,
    token: server().token,
    sandbox: randomSandboxName("idleact"),
  });
  await client.createSandbox({ eager: true, idleTimeout: 1000 });
  return client;
}

/** The sandbox's status and last activity, without counting as activity (a list is not). */
async function listed(client: LuminaClient) {
  return (await client.listSandboxes()).find((info) => info.name === client.sandbox);
}

/** Passes `ms` of idle time and runs the sweep. */
async function idleFor(ms: number): Promise<void> {
  clockMs += ms;
  await server().sweepIdle();
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; tries < 600 && !(await check()); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  expect(await check()).toBe(true);
}

/** Idle time passes until the sandbox stops: its last request may still be closing server-side. */
async function expectStopsWhenIdle(client: LuminaClient): Promise<void> {
  await until(async () => {
    await idleFor(2000);
    return (await listed(client))?.status === "stopped";
  });
}

/** Starts the preview test app outside any background command (which alone keeps a sandbox up). */
async function startDetachedApp(client: LuminaClient, port: number): Promise<void> {
  const source = await readFile(new URL("./preview-app.mjs", import.meta.url), "utf8");
  await client.write("/home/user/preview-app.mjs", source);
  await client.bash(`(setsid node preview-app.mjs ${port} >/dev/null 2>&1 &)`);
  const ready = await client.bash(
    `for i in $(seq 200); do [ -f /tmp/ready-${port} ] && break; sleep 0.05; done; [ -f /tmp/ready-${port} ]`,
  );
  expect(ready.exitCode).toBe(0);
}

describe("idle stop counts open transfers and previews as activity", () => {
  it("does not stop a sandbox while an upload streams, and stops it once the upload ended", async () => {
    const client = await newSandbox();
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        feed = controller;
      },
    });
    clockMs += 10;
    const startedAt = new Date(clockMs).toISOString();
    const url = `${server().url}/v1/sandboxes/${client.sandbox}/files?path=/home/user/big.bin`;
    const upload = fetch(url, {
      method: "PUT",
      headers: {
        authorization: `Bearer ${server().token}`,
        "content-type": "application/octet-stream",
      },
      body,
      duplex: "half",
    } as RequestInit);
    feed.enqueue(new Uint8Array(64 * 1024));
    // The server found the sandbox (its last activity moved), and counted the upload in flight with it.
    await until(async () => (await listed(client))?.lastActivityAt === startedAt);
    await idleFor(60_000);
    expect((await listed(client))?.status).toBe("running");
    feed.enqueue(new Uint8Array(64 * 1024));
    feed.close();
    const answer = await upload;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ bytes_written: 128 * 1024 });
    await expectStopsWhenIdle(client);
  });

  it("stops a sandbox once an upload was aborted, or after the download of an empty file", async () => {
    const client = await newSandbox();
    const aborted = new AbortController();
    let feed!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        feed = controller;
      },
    });
    clockMs += 10;
    const startedAt = new Date(clockMs).toISOString();
    const url = `${server().url}/v1/sandboxes/${client.sandbox}/files?path=/home/user/cut.bin`;
    const upload = fetch(url, {
      method: "PUT",
      headers: { authorization: `Bearer ${server().token}` },
      body,
      duplex: "half",
      signal: aborted.signal,
    } as RequestInit);
    feed.enqueue(new Uint8Array(64 * 1024));
    await until(async () => (await listed(client))?.lastActivityAt === startedAt);
    aborted.abort();
    await expect(upload).rejects.toThrow();
    await expectStopsWhenIdle(client);
    // An empty answer has no body to read to its end: its hold must end all the same.
    await client.write("/home/user/empty.txt", "");
    const empty = await fetch(
      `${server().url}/v1/sandboxes/${client.sandbox}/files?path=/home/user/empty.txt`,
      {
        headers: { authorization: `Bearer ${server().token}` },
      },
    );
    expect(empty.status).toBe(200);
    expect((await empty.arrayBuffer()).byteLength).toBe(0);
    await expectStopsWhenIdle(client);
  });

  it("does not stop a sandbox while a preview's event stream is open, and stops it after", async () => {
    const client = await newSandbox();
    const port = randomPort();
    await startDetachedApp(client, port);
    const info = await client.exposePort(port);
    const response: IncomingMessage = await openHostForm(`${info.url}sse?id=idle`);
    const chunks = response[Symbol.asyncIterator]();
    expect(String((await chunks.next()).value)).toBe("data: first\n\n");
    await idleFor(60_000);
    expect((await listed(client))?.status).toBe("running");
    expect(await (await fetch(`${info.pathUrl}release?id=idle`)).text()).toBe("released");
    for (let chunk = await chunks.next(); !chunk.done; chunk = await chunks.next()) {}
    await expectStopsWhenIdle(client);
  });

  it("does not stop a sandbox while a preview WebSocket is open, and stops it after", async () => {
    const client = await newSandbox();
    const port = randomPort();
    await startDetachedApp(client, port);
    const info = await client.exposePort(port);
    const socket = new WebSocket(`${info.pathUrl.replace(/^http/, "ws")}ws`);
    const echoed = (message: string) =>
      new Promise<string>((resolve, reject) => {
        socket.once("message", (data) => resolve(String(data)));
        socket.once("error", reject);
        socket.send(message);
      });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    expect(await echoed("before")).toBe("before");
    await idleFor(60_000);
    expect((await listed(client))?.status).toBe("running");
    expect(await echoed("after a long idle time")).toBe("after a long idle time");
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.close();
    await closed;
    await expectStopsWhenIdle(client);
  });
});
