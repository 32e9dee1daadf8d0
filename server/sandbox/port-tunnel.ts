/**
 * The host end of the way into a sandbox's ports. The server listens on one unix socket per
 * sandbox, in a directory of its own that the sandbox sees (bound read-only for bubblewrap);
 * for each preview connection it asks the agent (`port_open`) to connect to the port from inside
 * the sandbox's network namespace and dial back here with a random key. The server never
 * connects to a path the sandbox could have placed (a symlink to a host socket): the sandbox
 * dials in, and only a connection bearing a key the server is waiting for is taken.
 */
import { randomBytes } from "node:crypto";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServerError } from "../errors.ts";
import { portClosedCode } from "../shared/port-protocol.ts";
import type { SandboxRuntime } from "./backend.ts";

/** How long the agent may take to dial back once asked, and to send its key. */
const defaultDialBackMs = 10_000;
const keyBytes = 16;
/** Connections without a key yet beyond those awaited: a sandbox cannot pile up the server's descriptors. */
const spareUnclaimed = 4;

/** The tunnel of one running sandbox. */
export interface PortTunnel {
  /** The directory holding the tunnel socket, on the host. */
  readonly hostDir: string;
  /** A connection to `port` inside the sandbox, made through `call` (the agent). */
  connect(call: SandboxRuntime["call"], port: number, signal?: AbortSignal): Promise<Socket>;
  /** Stops listening and removes the directory. */
  close(): Promise<void>;
}

/** Options of `openPortTunnel`. */
export interface PortTunnelOptions {
  /** The directory's path as the agent sees it. @default the host path (no bind) */
  insideDir?: string;
  /** The host uid that may connect (the sandbox's); the server's own user when absent. */
  ownerUid?: number;
  /** How long the agent may take to dial back, and a connection to send its key. @default 10000 */
  dialBackMs?: number;
}

/** Why a port could not be reached: nothing listens, or the sandbox did not answer in time. */
export class PortUnreachableError extends ServerError {
  constructor(message: string) {
    super("bad_gateway", message);
  }
}

/** Reads the key line a dialled-back connection starts with (at most one key long). */
function readKey(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const onReadable = () => {
      for (let chunk: Buffer | null = socket.read(); chunk; chunk = socket.read()) {
        const end = chunk.indexOf(10);
        if (end === -1) {
          text += chunk.toString("latin1");
          if (text.length > keyBytes * 2) return fail();
          continue;
        }
        socket.off("readable", onReadable);
        socket.off("end", fail);
        socket.off("close", fail);
        // What follows the key is already the port's first bytes: put them back.
        if (end + 1 < chunk.length) socket.unshift(chunk.subarray(end + 1));
        return resolve(text + chunk.subarray(0, end).toString("latin1"));
      }
    };
    const fail = () => {
      socket.off("readable", onReadable);
      socket.off("end", fail);
      socket.off("close", fail);
      reject(new Error("not a tunnel connection"));
    };
    socket.on("readable", onReadable);
    // Ended, or cut by the server's timer: either way no key will come.
    socket.once("end", fail);
    socket.once("close", fail);
  });
}

/** Listens on a fresh tunnel socket for one sandbox. */
export async function openPortTunnel(options: PortTunnelOptions = {}): Promise<PortTunnel> {
  // A fresh directory with an unpredictable name (never one another local user could pre-create).
  const hostDir = await mkdtemp(join(tmpdir(), "lumina-ports-"));
  const socketPath = join(hostDir, "tunnel.sock");
  const insidePath = join(options.insideDir ?? hostDir, "tunnel.sock");
  const dialBackMs = options.dialBackMs ?? defaultDialBackMs;
  const waiting = new Map<string, (socket: Socket) => void>();
  let unclaimed = 0;
  const server: Server = createServer((socket) => {
    socket.on("error", () => {});
    if (unclaimed >= waiting.size + spareUnclaimed) return void socket.destroy();
    unclaimed += 1;
    const timer = setTimeout(() => socket.destroy(), dialBackMs);
    readKey(socket)
      .finally(() => {
        unclaimed -= 1;
      })
      .then(
        (key) => {
          clearTimeout(timer);
          const take = waiting.get(key);
          if (!take) return void socket.destroy();
          waiting.delete(key);
          take(socket);
        },
        () => {
          clearTimeout(timer);
          socket.destroy();
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => resolve());
  });
  if (options.ownerUid !== undefined) {
    await chown(socketPath, options.ownerUid, options.ownerUid);
    await chmod(socketPath, 0o600);
    await chmod(hostDir, 0o711);
  }

  return {
    hostDir,
    async connect(call, port, signal) {
      const key = randomBytes(keyBytes).toString("hex");
      let timer: NodeJS.Timeout | undefined;
      const dialled = new Promise<Socket>((resolve, reject) => {
        waiting.set(key, resolve);
        timer = setTimeout(
          () =>
            reject(new PortUnreachableError(`the sandbox did not connect to port ${port} in time`)),
          dialBackMs,
        );
      });
      dialled.catch(() => {}); // Awaited below unless the call fails first.
      try {
        await call("port_open", { port, tunnel: insidePath, key }, signal);
        return await dialled;
      } catch (error) {
        // The agent may have dialled back before the call failed: nobody takes that socket now.
        dialled.then(
          (socket) => socket.destroy(),
          () => {},
        );
        if ((error as { code?: unknown }).code === portClosedCode) {
          throw new PortUnreachableError((error as Error).message);
        }
        throw error;
      } finally {
        clearTimeout(timer);
        waiting.delete(key);
      }
    },
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(hostDir, { recursive: true, force: true });
    },
  };
}
