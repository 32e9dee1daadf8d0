/**
 * CONTRACT §11: binary uploads and downloads through the SDK and the real server, byte for byte,
 * from every kind of input, with `Range` answers and the atomic replace.
 */
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient, sameSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;
// Few transfer slots per user, so a slot that a transfer never gives back shows.
const server = useTestServer({ maxRequestsPerUser: 8 }, async (started) => {
  lumina = await newSandboxClient(started);
});

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const everyByte = Uint8Array.from({ length: 256 }, (_, i) => i);

it("round-trips empty, one-byte and every-byte files, names with spaces and unicode", async () => {
  const cases: [string, Uint8Array][] = [
    ["/home/user/bin/empty", new Uint8Array()],
    ["/home/user/bin/one", Uint8Array.of(0)],
    ["/home/user/bin/every byte", everyByte],
    ["/home/user/bin/ünï cødé ☃.bin", randomBytes(70_000)],
  ];
  for (const [path, bytes] of cases) {
    expect(await lumina.upload(path, bytes)).toEqual({
      filePath: path,
      bytesWritten: bytes.length,
    });
    expect(await lumina.download(path)).toEqual(new Uint8Array(bytes));
  }
  // The shell sees the same bytes.
  const sum = await lumina.bash(`sha256sum "/home/user/bin/every byte" | cut -d' ' -f1`);
  expect(sum.output.trim()).toBe(sha256(everyByte));
});

it("uploads from a string, Uint8Array, ArrayBuffer, Blob and ReadableStream", async () => {
  const text = "héllo\n\u0000wörld";
  const utf8 = new TextEncoder().encode(text);
  const pieces = [utf8.slice(0, 3), utf8.slice(3)];
  const inputs = {
    string: text,
    uint8array: utf8,
    arraybuffer: utf8.slice().buffer,
    blob: new Blob(pieces),
    stream: new ReadableStream<Uint8Array>({
      start(controller) {
        for (const piece of pieces) controller.enqueue(piece);
        controller.close();
      },
    }),
  };
  for (const [kind, data] of Object.entries(inputs)) {
    const path = `/home/user/inputs/${kind}`;
    expect((await lumina.upload(path, data)).bytesWritten).toBe(utf8.length);
    expect(new TextDecoder().decode(await lumina.download(path))).toBe(text);
  }
});

it("round-trips 100 MiB of random bytes, streamed both ways", async () => {
  const size = 100 * 1024 * 1024;
  let sent = createHash("sha256");
  let left = size;
  const source = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left === 0) return controller.close();
      const piece = randomBytes(Math.min(left, 1024 * 1024));
      sent = sent.update(piece);
      left -= piece.length;
      controller.enqueue(piece);
    },
  });
  const path = "/home/user/big/random.bin";
  expect((await lumina.upload(path, source)).bytesWritten).toBe(size);
  const received = createHash("sha256");
  let count = 0;
  for await (const chunk of await lumina.downloadStream(path)) {
    received.update(chunk);
    count += chunk.length;
  }
  expect(count).toBe(size);
  expect(received.digest("hex")).toBe(sent.digest("hex"));
  await lumina.bash(`rm ${path}`);
}, 180_000);

it("answers Range requests with 206 and Content-Range, 416 outside the file", async () => {
  const path = "/home/user/range.bin";
  await lumina.upload(path, everyByte);
  const url = `${server().url}/v1/sandboxes/${lumina.sandbox}/files?path=${encodeURIComponent(path)}`;
  const get = (range?: string) =>
    fetch(url, {
      headers: { authorization: `Bearer ${server().token}`, ...(range ? { range } : {}) },
    });
  const whole = await get();
  expect([
    whole.status,
    whole.headers.get("content-length"),
    whole.headers.get("accept-ranges"),
  ]).toEqual([200, "256", "bytes"]);
  await whole.arrayBuffer();
  const answers: [string, string, number[]][] = [
    ["bytes=10-12", "bytes 10-12/256", [10, 11, 12]],
    ["bytes=254-", "bytes 254-255/256", [254, 255]],
    ["bytes=-3", "bytes 253-255/256", [253, 254, 255]],
    ["bytes=250-9999", "bytes 250-255/256", [250, 251, 252, 253, 254, 255]],
  ];
  for (const [range, contentRange, bytes] of answers) {
    const answer = await get(range);
    expect([answer.status, answer.headers.get("content-range")]).toEqual([206, contentRange]);
    expect([...new Uint8Array(await answer.arrayBuffer())]).toEqual(bytes);
  }
  const outside = await get("bytes=256-");
  expect([outside.status, outside.headers.get("content-range")]).toEqual([416, "bytes */256"]);
  expect((await outside.json()).error.code).toBe("range_not_satisfiable");
});

it("replaces a file atomically and makes other sessions' read records stale", async () => {
  const path = "/home/user/notes.txt";
  await lumina.write(path, "old\n");
  const other = sameSandboxClient(server(), lumina);
  await other.read(path);
  await lumina.upload(path, "new\n");
  expect(new TextDecoder().decode(await lumina.download(path))).toBe("new\n");
  await expectToolError(other.write(path, "theirs\n"), 409, "stale_read");
  // No temp file is left beside it.
  expect((await lumina.bash("ls -A /home/user | grep lumina-tmp || true")).output).toBe("");
});

it("refuses bad paths, missing files and directories with the file tools' errors", async () => {
  await expectToolError(lumina.download("relative.txt"), 400, "invalid_path");
  await expectToolError(lumina.download("/home/user/../etc/passwd"), 400, "invalid_path");
  await expectToolError(lumina.download("/home/user/missing"), 404, "not_found");
  await expectToolError(lumina.download("/home/user"), 400, "invalid_request");
  await expectToolError(lumina.upload("/home/user", "x"), 400, "invalid_request");
  await expectToolError(lumina.upload("/etc/passwd", "x"), 400, "invalid_request");
  await expect(lumina.download("/home/user/x", { format: "tar" } as never)).rejects.toThrow(
    /unknown option 'format'/,
  );
});

it("reads through a symlink only inside the sandbox's own view", async () => {
  await lumina.bash("ln -sf /proc/self/environ /home/user/env && ln -sf /etc/passwd /home/user/pw");
  const passwd = new TextDecoder().decode(await lumina.download("/home/user/pw"));
  // The sandbox's generated /etc/passwd, never the host's.
  expect(passwd).toMatch(/^user:x:1000:1000/m);
  expect(passwd).not.toBe(readFileSync("/etc/passwd", "utf8"));
  const environ = new TextDecoder().decode(await lumina.download("/home/user/env"));
  expect(environ).not.toMatch(/LUMINA_/);
});

it("gives a transfer slot back after each download of an empty file", async () => {
  await lumina.upload("/home/user/bin/empty-again", new Uint8Array());
  for (let round = 0; round < 12; round++)
    expect((await lumina.download("/home/user/bin/empty-again")).length).toBe(0);
  expect(await lumina.upload("/home/user/bin/after-empties", "still room")).toMatchObject({
    bytesWritten: 10,
  });
});
