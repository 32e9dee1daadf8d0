/**
 * The port handler of the agent: connects to a port from inside the sandbox and pipes it to the
 * server's tunnel socket (server/sandbox/port-tunnel.ts), one connection per preview request.
 */
import { connect, type NetConnectOpts, type Socket } from "node:net";
import { networkInterfaces } from "node:os";
import type { AgentHandlers } from "../../shared/agent-protocol.ts";
import { type PortMethods, portClosedCode } from "../../shared/port-protocol.ts";
import { AgentError } from "../failure.ts";

/** Loopback first (where dev servers listen), then every other address of the sandbox. */
function candidateAddresses(): string[] {
  const own = Object.values(networkInterfaces())
    .flat()
    .filter((entry) => entry && !entry.internal)
    .map((entry) => entry?.address as string);
  return ["127.0.0.1", "::1", ...own];
}

function open(options: NetConnectOpts): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(options);
    socket.once("connect", () => {
      socket.off("error", reject);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** The first address on which something accepts a connection to `port`. */
async function connectInside(port: number): Promise<{ socket: Socket; address: string }> {
  for (const address of candidateAddresses()) {
    try {
      // Small request writes go out at once: nothing waits on Nagle inside the sandbox either.
      return { socket: await open({ port, host: address, noDelay: true }), address };
    } catch {
      // Refused or unreachable here: try the next address.
    }
  }
  throw new AgentError(portClosedCode, `nothing listens on port ${port} inside the sandbox`);
}

/** The port handlers, by method name. */
export const portHandlers: AgentHandlers<keyof PortMethods> = {
  port_open: async ({ port, tunnel, key }, signal) => {
    const { socket: target, address } = await connectInside(port);
    // A reset while the tunnel is dialled must not be an uncaught error that ends the agent.
    const early = () => target.destroy();
    target.on("error", early);
    let back: Socket;
    try {
      signal.throwIfAborted();
      back = await open({ path: tunnel });
    } catch (error) {
      target.destroy();
      throw error;
    }
    target.off("error", early);
    back.write(`${key}\n`);
    // An end travels through `pipe` (buffered bytes still arrive); a failure cuts both at once.
    for (const [from, to] of [
      [target, back],
      [back, target],
    ] as const) {
      from.pipe(to);
      from.on("error", () => to.destroy());
    }
    return { address };
  },
};
