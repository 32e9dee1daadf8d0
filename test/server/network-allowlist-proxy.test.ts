/**
 * The allowlist proxy on its own (server/network/allowlist-proxy.ts): it connects only for an
 * allowed name, to an address it resolved itself outside the always-blocked ranges, and reads
 * the policy anew for every connection. Its resolver is the test's, so a name other than the
 * registry's never reaches DNS; traffic goes to loopback and to the npm registry only.
 */
import { execFileSync } from "node:child_process";
import { lookup } from "node:dns/promises";
import { connect as connectTcp, createServer, type Server } from "node:net";
import { connect as connectTls } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AllowlistProxy, startAllowlistProxy } from "../../server/network/allowlist-proxy.ts";
import type { NetworkPolicy } from "../../server/network/policy.ts";

const registryHost = new URL(execFileSync("npm", ["config", "get", "registry"]).toString().trim())
  .hostname;
// Any 127/8 address is the host's loopback: a listener here plays an internal service.
const internal = "127.213.7.9";
let registryAddress = "";
let policy: NetworkPolicy = { egress: "allowlist", allow: [registryHost] };
let proxy: AllowlistProxy;
const internalServers: Server[] = [];
let internalHits = 0;

beforeAll(async () => {
  registryAddress = (await lookup(registryHost, { family: 4 })).address;
  const names: Record<string, string> = {
    [registryHost]: registryAddress,
    "other.test": registryAddress,
    "a.sub.test": registryAddress,
    "sub.test": registryAddress,
    "rebound.sub.test": internal,
  };
  proxy = await startAllowlistProxy(
    () => policy,
    async (name) => (names[name] ? [names[name]] : []),
  );
  for (const port of [80, 443]) {
    const server = createServer((socket) => {
      internalHits += 1;
      socket.end("HTTP/1.1 200 internal\r\n\r\n");
    });
    await new Promise<void>((resolve) => server.listen(port, internal, resolve));
    internalServers.push(server);
  }
});
afterAll(async () => {
  await proxy?.close();
  for (const server of internalServers) server.close();
});

/** TLS through the proxy with that SNI (none for ""); resolves the first answer bytes, "" if cut. */
function tlsThrough(servername: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTls({
      host: "127.0.0.1",
      port: proxy.port,
      rejectUnauthorized: false,
      ...(servername ? { servername } : {}),
    });
    let text = "";
    socket.once("secureConnect", () =>
      socket.write(`HEAD / HTTP/1.1\r\nHost: ${registryHost}\r\nConnection: close\r\n\r\n`),
    );
    socket.on("data", (chunk) => (text += chunk));
    socket.on("close", () => resolve(text.slice(0, 12)));
    socket.on("error", () => {});
    socket.setTimeout(15_000, () => socket.destroy());
  });
}

/** Plain HTTP through the proxy with that Host header; resolves the answer's first bytes. */
function httpThrough(host: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connectTcp(proxy.port, "127.0.0.1");
    let text = "";
    socket.write(`HEAD / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    socket.on("data", (chunk) => (text += chunk));
    socket.on("close", () => resolve(text.slice(0, 12)));
    socket.on("error", () => {});
    socket.setTimeout(15_000, () => socket.destroy());
  });
}

describe("the allowlist proxy", () => {
  it("relays TLS whose server name is on the list, and refuses another name or none", async () => {
    policy = { egress: "allowlist", allow: [registryHost] };
    expect(await tlsThrough(registryHost)).toMatch(/^HTTP\/1\.1 \d/);
    expect(await tlsThrough("other.test")).toBe("");
    expect(await tlsThrough("")).toBe("");
  });

  it("matches a wildcard entry against subdomains only", async () => {
    policy = { egress: "allowlist", allow: ["*.sub.test"] };
    expect(await tlsThrough("a.sub.test")).toMatch(/^HTTP\/1\.1 \d/);
    expect(await tlsThrough("sub.test")).toBe("");
    expect(await tlsThrough(registryHost)).toBe("");
  });

  it("never connects to an allowed name that resolves into a blocked range", async () => {
    policy = { egress: "allowlist", allow: ["*.sub.test"] };
    expect(await tlsThrough("rebound.sub.test")).toBe("");
    expect(await httpThrough("rebound.sub.test")).toBe("");
    expect(internalHits).toBe(0);
  });

  it("relays plain HTTP by its Host header", async () => {
    policy = { egress: "allowlist", allow: [registryHost] };
    expect(await httpThrough(registryHost)).toMatch(/^HTTP\/1\.1 \d/);
    expect(await httpThrough("other.test")).toBe("");
  });

  it("reads the policy for every connection: once it is no longer an allowlist it relays nothing", async () => {
    policy = { egress: "internet" };
    expect(await tlsThrough(registryHost)).toBe("");
  });
});
