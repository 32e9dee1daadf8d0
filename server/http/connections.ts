/**
 * Bounds on the HTTP server's connections, so nobody (least of all an anonymous caller) can hold
 * the descriptors every tenant's sandboxes need: timeouts for idle and unfinished requests, a
 * total cap, and a per-address cap on connections that have not yet authenticated. A connection
 * stops counting against its address once one of its requests authenticates, so a user with many
 * long-polls is bounded by the per-user limits (429s), not cut here.
 */
import type { Server, ServerOptions } from "node:http";
import type { Socket } from "node:net";

/** The resolved connection limits (see `LuminaServerOptions` for each default). */
export interface ConnectionLimits {
  /** Time a connection has to send a request's headers, in ms. */
  headersTimeoutMs: number;
  /** Time a connection has to send a whole request (headers and body), in ms. */
  requestTimeoutMs: number;
  /** Time an idle keep-alive connection stays open between requests, in ms. */
  keepAliveTimeoutMs: number;
  /** Open connections in all; beyond it new ones are closed at once. */
  maxConnections: number;
  /** Connections one address may hold open before any of them authenticates. */
  maxUnauthenticatedPerAddress: number;
}

/** What the app tells the guard. */
export interface ConnectionGuard {
  /** Marks the connection of an authenticated request: it no longer counts against its address. */
  authenticated(socket: Socket): void;
}

/** The guard of one server: the app reports to it, the server is attached once listening. */
export interface ServerConnectionGuard extends ConnectionGuard {
  /** Applies the caps to the server. */
  attach(server: Server): void;
}

/** The `http.createServer` options that carry the timeouts (the check interval is fixed there). */
export function serverOptionsOf(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // How often expired requests are looked for: a fraction of the shortest timeout.
    connectionsCheckingInterval: Math.max(250, Math.min(5_000, limits.headersTimeoutMs / 4)),
  };
}

/** Creates the guard of one server. */
export function createConnectionGuard(
  limits: ConnectionLimits,
  log: (line: string) => void,
): ServerConnectionGuard {
  const unauthenticated = new Map<Socket, string>();
  const countByAddress = new Map<string, number>();
  let lastDropLog = 0;
  const logThrottled = (line: string) => {
    // One line a minute at most: a flood of refusals must not become a flood of log lines.
    if (Date.now() - lastDropLog < 60_000) return;
    lastDropLog = Date.now();
    log(line);
  };

  const release = (socket: Socket) => {
    const address = unauthenticated.get(socket);
    if (address === undefined) return;
    unauthenticated.delete(socket);
    const left = (countByAddress.get(address) ?? 1) - 1;
    if (left > 0) countByAddress.set(address, left);
    else countByAddress.delete(address);
  };

  const onConnection = (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const count = countByAddress.get(address) ?? 0;
    if (count >= limits.maxUnauthenticatedPerAddress) {
      logThrottled(
        `lumina: closed connections from ${address}: ${count} open without authenticating (the limit)`,
      );
      socket.destroy();
      return;
    }
    countByAddress.set(address, count + 1);
    unauthenticated.set(socket, address);
    socket.once("close", () => release(socket));
  };

  return {
    authenticated: release,
    attach(server) {
      server.maxConnections = limits.maxConnections;
      server.on("connection", onConnection);
      server.on("drop", () =>
        logThrottled(`lumina: closed new connections: ${limits.maxConnections} open (the limit)`),
      );
    },
  };
}
