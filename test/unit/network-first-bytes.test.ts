/** The target name of a connection from its first bytes (server/network/first-bytes.ts). */
import { createServer } from "node:net";
import { connect } from "node:tls";
import { describe, expect, it } from "vitest";
import {
  maxFirstBytes,
  readHostHeader,
  readServerName,
  readTarget,
} from "../../server/network/first-bytes.ts";

/** The ClientHello node's TLS sends for `servername` (none when undefined), caught on loopback. */
async function clientHello(servername?: string): Promise<Buffer> {
  let hello = Buffer.alloc(0);
  const server = createServer((socket) => {
    socket.on("data", (chunk: Buffer) => {
      hello = Buffer.concat([hello, chunk]);
      if (hello.length >= 5 && hello.length >= 5 + hello.readUInt16BE(3)) socket.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ...(servername ? { servername } : {}) });
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
  server.close();
  return hello;
}

describe("reading the target of a connection", () => {
  it("finds the SNI of a real ClientHello, once all of it has arrived", async () => {
    const hello = await clientHello("a.example.com");
    expect(readTarget(hello)).toEqual({ name: "a.example.com", port: 443 });
    expect(readTarget(hello.subarray(0, 3))).toEqual({ need: "more" });
    expect(readTarget(hello.subarray(0, hello.length - 1))).toEqual({ need: "more" });
  });

  it("refuses TLS without a server name, and a damaged ClientHello", async () => {
    expect(readServerName(await clientHello())).toMatchObject({
      refused: expect.stringContaining("without a server name"),
    });
    const damaged = Buffer.from(await clientHello("a.example.com"));
    damaged[5] = 2; // not a ClientHello
    expect(readServerName(damaged)).toMatchObject({ refused: expect.any(String) });
    const truncated = Buffer.from([0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3]);
    expect(readServerName(truncated)).toMatchObject({ refused: expect.any(String) });
  });

  it("finds the Host of an HTTP request, always on port 80", () => {
    const request = (host: string) =>
      Buffer.from(`GET / HTTP/1.1\r\nUser-Agent: x\r\nHOST: ${host}\r\n\r\n`);
    expect(readTarget(request("example.com"))).toEqual({ name: "example.com", port: 80 });
    expect(readTarget(request("example.com:8080"))).toEqual({ name: "example.com", port: 80 });
    expect(readHostHeader(Buffer.from("GET / HTTP/1.1\r\nHost: a.com"))).toEqual({ need: "more" });
    expect(readHostHeader(Buffer.from("GET / HTTP/1.1\r\n\r\n"))).toMatchObject({
      refused: expect.any(String),
    });
    expect(readHostHeader(request("a.com@b.com"))).toMatchObject({ refused: expect.any(String) });
  });

  it("gives up on a connection that names nothing within the first 16 KiB", () => {
    expect(readTarget(Buffer.alloc(maxFirstBytes, "a"))).toMatchObject({
      refused: expect.any(String),
    });
    expect(readTarget(Buffer.alloc(0))).toEqual({ need: "more" });
  });
});
