/**
 * The host side of `allowlist` egress: the sandbox's rules send its TCP 80 and 443 here (one
 * listener per running sandbox, on the host's loopback, reachable only from that sandbox). It
 * reads the name the connection asks for (TLS SNI, HTTP Host), checks it against the sandbox's
 * current allowlist, resolves it itself, refuses any address in the always-blocked ranges, and
 * only then connects and relays the bytes untouched. Anything it cannot parse is refused.
 */
import { lookup } from "node:dns/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { readTarget } from "./first-bytes.ts";
import { hostIpv4Addresses } from "./host-addresses.ts";
import { hostNameAllowed, isBlockedAddress, type NetworkPolicy } from "./policy.ts";

/** A running proxy. */
export interface AllowlistProxy {
  /** Its port on 127.0.0.1. */
  readonly port: number;
  close(): Promise<void>;
}

/** The time a connection has to say which name it wants, and then to reach it, in ms. */
const stepTimeoutMs = 10_000;

/** How the proxy resolves a name to IPv4 addresses (a test passes its own). */
export type ResolveName = (name: string) => Promise<string[]>;

const resolveOnHost: ResolveName = async (name) =>
  (await lookup(name, { family: 4, all: true })).map((entry) => entry.address);

/** Starts the proxy of one sandbox; `policy` is read anew for every connection. */
export function startAllowlistProxy(
  policy: () => NetworkPolicy,
  resolveName: ResolveName = resolveOnHost,
): Promise<AllowlistProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.once("close", () => sockets.delete(client));
    void relay(client, policy, resolveName, sockets);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

async function relay(
  client: Socket,
  policy: () => NetworkPolicy,
  resolveName: ResolveName,
  sockets: Set<Socket>,
): Promise<void> {
  client.on("error", () => {});
  client.setTimeout(stepTimeoutMs, () => client.destroy());
  let bytes = Buffer.alloc(0);
  let target = readTarget(bytes);
  while ("need" in target) {
    const chunk = await nextChunk(client);
    if (!chunk) return void client.destroy();
    bytes = Buffer.concat([bytes, chunk]);
    target = readTarget(bytes);
  }
  const current = policy();
  if (
    "refused" in target ||
    current.egress !== "allowlist" ||
    !hostNameAllowed(target.name, current.allow ?? [])
  ) {
    return void client.destroy();
  }
  // Resolved here, at connect time: an address in a blocked range (DNS rebinding) is never used.
  const address = await resolveName(target.name).then(
    (found) => found.find((each) => !isBlockedAddress(each, hostIpv4Addresses())),
    () => undefined,
  );
  if (!address || client.destroyed) return void client.destroy();
  const upstream = connect({ host: address, port: target.port });
  sockets.add(upstream);
  upstream.once("close", () => {
    sockets.delete(upstream);
    client.destroy();
  });
  client.once("close", () => upstream.destroy());
  upstream.on("error", () => client.destroy());
  upstream.setTimeout(stepTimeoutMs, () => upstream.destroy());
  upstream.once("connect", () => {
    upstream.setTimeout(0);
    client.setTimeout(0);
    upstream.write(bytes);
    client.pipe(upstream);
    upstream.pipe(client);
  });
}

/** The next chunk the socket sends, or undefined once it ends or fails. */
function nextChunk(socket: Socket): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const done = (chunk?: unknown) => {
      socket.off("data", done).off("end", done).off("close", done);
      socket.pause();
      resolve(Buffer.isBuffer(chunk) ? chunk : undefined);
    };
    socket.on("data", done).once("end", done).once("close", done);
    socket.resume();
  });
}
