/** Raw TCP connections to a test server (loopback only), for the connection-limit tests. */
import { connect, type Socket } from "node:net";

/** A set of open connections. */
export interface OpenConnections {
  sockets: Socket[];
  /** How many of them the server (or anyone) has closed so far. */
  closedCount(): number;
  close(): void;
}

/** One connection from `localAddress` (a loopback address) that has connected. */
export function openConnection(url: string, localAddress = "127.0.0.1"): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), localAddress });
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** `count` connections that connect and then send nothing. */
export async function openIdleConnections(
  url: string,
  count: number,
  localAddress = "127.0.0.1",
): Promise<OpenConnections> {
  const sockets: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const socket = await openConnection(url, localAddress);
    socket.on("error", () => {}); // A reset by the server is what some tests expect.
    socket.resume(); // Read (and drop) a 408 and the end, or the close is never seen.
    socket.once("close", () => {
      closed += 1;
    });
    sockets.push(socket);
  }
  return {
    sockets,
    closedCount: () => closed,
    close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Sends one keep-alive GET on `socket` and resolves with the status line's code. */
export function requestOn(socket: Socket, path: string, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer) => {
      head += chunk.toString("latin1");
      const match = /^HTTP\/1\.1 (\d{3})/.exec(head);
      if (!match || !head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      resolve(Number(match[1]));
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error("the server closed the connection")));
    const auth = token ? `authorization: Bearer ${token}\r\n` : "";
    socket.write(`GET ${path} HTTP/1.1\r\nhost: localhost\r\n${auth}\r\n`);
  });
}
