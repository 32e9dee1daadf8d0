/**
 * The host end of the port tunnel (server/sandbox/port-tunnel.ts) on its own: a connection is used
 * only with the key the server awaits, bytes after the key are kept, and a sandbox cannot pile up
 * keyless connections on the server's descriptors. `call` plays the agent's part of `port_open`
 * (connect to the tunnel socket, write the key), as server/agent/ports/handlers.ts does.
 */
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { openPortTunnel, type PortTunnel } from "../../server/sandbox/port-tunnel.ts";

let tunnel: PortTunnel | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await tunnel?.close();
});

/** A client connection to the tunnel socket, once connected. */
async function dial(first?: string): Promise<Socket> {
  const socket = connect(join((tunnel as PortTunnel).hostDir, "tunnel.sock"));
  sockets.push(socket);
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  if (first !== undefined) socket.write(first);
  return socket;
}

const closed = (socket: Socket) => new Promise((resolve) => socket.once("close", resolve));
// Far past each test's own timeout: a connection closed in a test was closed for its content.
const patient = { dialBackMs: 600_000 };
const quick = 15_000;

/** An agent stand-in: dials back with `keyOf(key)` and the given first bytes of the port. */
function agent(keyOf: (key: string) => string, bytes = "") {
  return (async (_method: string, params: { key: string }) => {
    await dial(`${keyOf(params.key)}\n${bytes}`);
    return { address: "127.0.0.1" };
  }) as never;
}

it("hands over the connection with the awaited key, with the bytes after the key", async () => {
  tunnel = await openPortTunnel();
  const socket = await tunnel.connect(
    agent((key) => key, "HTTP/1.1 200 OK\r\n"),
    8080,
  );
  const data = await new Promise<string>((resolve) =>
    socket.once("data", (d) => resolve(String(d))),
  );
  expect(data).toBe("HTTP/1.1 200 OK\r\n");
  socket.destroy();
});

it("closes a connection with a key nobody awaits, or a line longer than a key", {
  timeout: quick,
}, async () => {
  tunnel = await openPortTunnel(patient);
  await closed(await dial("0123456789abcdef0123456789abcdef\n"));
  await closed(await dial("x".repeat(100)));
});

it("closes keyless connections past a few spare at once, and still takes the awaited one", {
  timeout: quick,
}, async () => {
  tunnel = await openPortTunnel(patient);
  const idle = await Promise.all([1, 2, 3, 4].map(() => dial()));
  const extra = await dial();
  await closed(extra);
  expect(idle.every((socket) => !socket.destroyed)).toBe(true);
  const socket = await tunnel.connect(
    agent((key) => key),
    8080,
  );
  expect(socket.destroyed).toBe(false);
  socket.destroy();
});
