/**
 * SECURITY.md, resources: connections are bounded so idle or half-sent requests cannot hold the
 * server's descriptors: a headers timeout, a total cap, and a per-address cap on connections
 * that have not authenticated, which a signed-in user's many connections do not hit.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.ts";
import { openConnection, openIdleConnections, requestOn } from "./connection-helpers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const started = await startTestServer({ isolation: "none", ...options });
  cleanups.push(() => started.close());
  return started;
}

describe("connection limits", () => {
  it("closes a connection that sends no headers once headersTimeoutMs has passed", async () => {
    const { url } = await server({ headersTimeoutMs: 1_000 });
    const idle = await openIdleConnections(url, 1, "127.0.0.4");
    cleanups.push(() => idle.close());
    // Node's own default would keep it 60-90 s.
    await expect.poll(() => idle.closedCount(), { timeout: 20_000, interval: 100 }).toBe(1);
  });

  it("closes unauthenticated connections beyond the per-address cap, at once", async () => {
    const { url, token } = await server({
      maxUnauthenticatedConnectionsPerAddress: 8,
      headersTimeoutMs: 60_000,
    });
    const idle = await openIdleConnections(url, 8, "127.0.0.2");
    cleanups.push(() => idle.close());
    const extra = await openIdleConnections(url, 1, "127.0.0.2");
    cleanups.push(() => extra.close());
    await expect.poll(() => extra.closedCount(), { timeout: 20_000, interval: 50 }).toBe(1);
    expect(idle.closedCount()).toBe(0);
    // Another address is not affected.
    const other = await openConnection(url, "127.0.0.3");
    cleanups.push(() => void other.destroy());
    expect(await requestOn(other, "/v1/sandboxes", token)).toBe(200);
  });

  it("does not count connections that authenticated: a user may hold many", async () => {
    const { url, token } = await server({
      maxUnauthenticatedConnectionsPerAddress: 4,
      keepAliveTimeoutMs: 60_000,
    });
    const held = [];
    for (let i = 0; i < 12; i++) {
      const socket = await openConnection(url, "127.0.0.5");
      cleanups.push(() => void socket.destroy());
      // Rejects if the server closed the connection at accept.
      expect(await requestOn(socket, "/v1/sandboxes", token)).toBe(200);
      held.push(socket);
    }
    expect(held.every((socket) => !socket.destroyed)).toBe(true);
    // A failed authentication does not free the slot: these still count.
    const anonymous = [];
    for (let i = 0; i < 4; i++) {
      const socket = await openConnection(url, "127.0.0.5");
      cleanups.push(() => void socket.destroy());
      expect(await requestOn(socket, "/v1/sandboxes", "wrong-key")).toBe(401);
      anonymous.push(socket);
    }
    const refused = await openIdleConnections(url, 1, "127.0.0.5");
    cleanups.push(() => refused.close());
    await expect.poll(() => refused.closedCount(), { timeout: 20_000, interval: 50 }).toBe(1);
  });

  it("closes new connections beyond maxConnections and serves again once some close", async () => {
    const { url, token } = await server({ maxConnections: 6 });
    const idle = await openIdleConnections(url, 6, "127.0.0.6");
    cleanups.push(() => idle.close());
    const extra = await openIdleConnections(url, 1, "127.0.0.7");
    cleanups.push(() => extra.close());
    await expect.poll(() => extra.closedCount(), { timeout: 20_000, interval: 50 }).toBe(1);
    idle.close();
    await expect
      .poll(
        async () => {
          const socket = await openConnection(url, "127.0.0.7");
          cleanups.push(() => void socket.destroy());
          return requestOn(socket, "/v1/sandboxes", token).catch(() => 0);
        },
        { timeout: 20_000, interval: 100 },
      )
      .toBe(200);
  });
});
