/**
 * SECURITY.md, resources: answers a client never reads must not pile up in the server's memory.
 * A user's unread answers keep their in-flight slots, are written with backpressure, and the
 * bytes they hold are capped per user (429 past it) while other users are still served.
 */
import { randomBytes } from "node:crypto";
import { writeFile as hostWrite } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";
import { useTestServer, useTestServers } from "../support/use-server.ts";
import { expectToolError, hostHomeOf } from "./sandbox-helpers.ts";

/** How many unread 20 MiB image answers the attacker asks for (LUMINA_UNREAD_READS overrides). */
const unreadCount = Number(process.env["LUMINA_UNREAD_READS"] ?? 32);
const imageBytes = 20 * 1024 * 1024 - 1024;

let attacker: LuminaClient;
let victim: LuminaClient;

/** Gives the server's `attacker` a 20 MiB png in its home and its `victim` a small text file. */
async function attack(started: TestServer) {
  const client = (token: string) =>
    createClient({ baseUrl: started.url, token, sandbox: randomSandboxName("u"), retry: false });
  const clients = { attacker: client(started.token), victim: client(started.addUser("victim")) };
  await clients.attacker.createSandbox({ eager: true });
  await clients.victim.createSandbox({ eager: true });
  // A png by its magic bytes, incompressible, just under the 20 MiB read limit.
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    randomBytes(imageBytes - 8),
  ]);
  await hostWrite(join(await hostHomeOf(started, clients.attacker), "big.png"), png);
  await clients.victim.write("/home/user/small.txt", "hello\n");
  return { server: started, ...clients };
}

const server = useTestServer(
  {},
  async (started) => {
    ({ attacker, victim } = await attack(started));
  },
  120_000,
);
const startServer = useTestServers();

/** Sends a read of the big image on a raw socket, keeps its status, then stops reading. */
function unreadRead(
  index: number,
  on = { server: server(), attacker },
): Promise<{ socket: Socket; status: number }> {
  const { server, attacker } = on;
  const body = JSON.stringify({ file_path: "/home/user/big.png" });
  const socket = connect(Number(new URL(server.url).port), "127.0.0.1");
  socket.on("error", () => {});
  socket.write(
    `POST /v1/sandboxes/${attacker.sandbox}/tools/read HTTP/1.1\r\nhost: 127.0.0.1\r\n` +
      `authorization: Bearer ${server.token}\r\nlumina-tool-session: unread-${index}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return new Promise((resolve, reject) => {
    socket.once("data", (chunk: Buffer) => {
      // The client never reads past its first chunk: the rest stays in the kernel and the server.
      socket.pause();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString("latin1"))?.[1]);
      resolve({ socket, status });
    });
    socket.once("close", () => reject(new Error(`read ${index}: the connection closed`)));
  });
}

const mib = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Resolves once RSS moves by less than 1 MiB over 100 ms (bounded: 100 samples, about 10 s). */
async function settledRss(): Promise<void> {
  let last = process.memoryUsage().rss;
  for (let sample = 0; sample < 100; sample++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = process.memoryUsage().rss;
    if (Math.abs(now - last) < 1024 * 1024) return;
    last = now;
  }
}

describe("unread answers", () => {
  it("stay bounded in memory, answer the same user 429 past the cap, and serve others", async () => {
    const before = process.memoryUsage();
    // One after another, as a client that fires reads and never looks at the answers.
    const held: { socket: Socket; status: number }[] = [];
    for (let i = 0; i < unreadCount; i++) held.push(await unreadRead(i));
    // Measure once the server has written what it will into the stalled sockets: RSS has settled.
    await settledRss();
    const after = process.memoryUsage();
    const growth = after.rss - before.rss;
    const statuses = held.map((read) => read.status);
    console.log(
      `${unreadCount} unread 20 MiB image reads: rss +${mib(growth)} MiB (rss ${mib(after.rss)} MiB, ` +
        `external ${mib(after.external)} MiB); statuses ${JSON.stringify(countOf(statuses))}`,
    );
    try {
      expect(statuses.every((status) => status === 200 || status === 429)).toBe(true);
      expect(statuses).toContain(429);
      // Each answer is about 27 MiB of JSON: all of them held would be far above this.
      expect(growth).toBeLessThan(Math.min(unreadCount * 27, 512) * 1024 * 1024);
      // The same user's next call waits for its unread answers; another user's does not.
      const message = await expectToolError(
        attacker.read("/home/user/big.png"),
        429,
        "rate_limited",
      );
      expect(message).toMatch(/unread|read them/);
      const small = await victim.read("/home/user/small.txt");
      expect(small.type === "text" && small.content).toContain("hello");
    } finally {
      for (const { socket } of held) socket.destroy();
    }
    // Hanging up gives the slots and the bytes back.
    await expect
      .poll(async () => (await attacker.read("/home/user/big.png").catch(() => undefined))?.type, {
        timeout: 20_000,
        interval: 200,
      })
      .toBe("image");
  }, 180_000);

  it("keep their in-flight slots until sent, even under a large byte budget", async () => {
    const limited = await attack(
      await startServer({ maxRequestsPerUser: 2, maxAnswerBytesPerUser: 1024 ** 3 }),
    );
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const read = await unreadRead(i, limited);
        held.push(read.socket);
        expect(read.status).toBe(200);
      }
      const message = await expectToolError(
        limited.attacker.read("/home/user/big.png"),
        429,
        "rate_limited",
      );
      expect(message).toMatch(/too many tool calls/);
      const small = await limited.victim.read("/home/user/small.txt");
      expect(small.type === "text" && small.content).toContain("hello");
    } finally {
      for (const socket of held) socket.destroy();
    }
  }, 180_000);
});

function countOf(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
