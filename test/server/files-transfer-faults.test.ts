/**
 * CONTRACT §11 faults: an upload that runs out of room is a 507 `disk_full` (over the file-size
 * limit a 413), and one aborted half-way leaves the old file; either way no temp file stays and
 * the sandbox and server keep working. An aborted download stops with the signal's reason.
 */
import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;
useTestServer(
  { limits: { maxFileSize: 64 * 1024 * 1024, tmpSize: 8 * 1024 * 1024 } },
  async (started) => {
    lumina = await newSandboxClient(started);
  },
);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Polls `ls -A dir` until `done` holds of it (bounded), for what the server does out of sight. */
async function waitForListing(dir: string, done: (names: string[]) => boolean): Promise<string[]> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const names = (await lumina.bash(`ls -A ${dir}`)).output.split("\n").filter(Boolean);
    if (done(names)) return names;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${dir} never reached the state waited for`);
}

it("a full disk is a 507 disk_full that keeps the old file and leaves no temp file", async () => {
  await lumina.upload("/tmp/full/data.bin", "the original\n");
  const message = await expectToolError(
    lumina.upload("/tmp/full/data.bin", randomBytes(16 * 1024 * 1024)),
    507,
    "disk_full",
  );
  expect(message).toMatch(/disk .*is full/);
  expect(text(await lumina.download("/tmp/full/data.bin"))).toBe("the original\n");
  expect(await waitForListing("/tmp/full", () => true)).toEqual(["data.bin"]);
});

it("an archive that does not fit is a 507 disk_full and leaves nothing behind", async () => {
  const tar = await new Response(
    new Blob([
      // One 12 MiB member in ustar form: a header, the bytes, the two end blocks.
      ustarHeader("big.bin", 12 * 1024 * 1024),
      new Uint8Array(12 * 1024 * 1024),
      new Uint8Array(1024),
    ]),
  ).arrayBuffer();
  await expectToolError(lumina.uploadArchive("/tmp/unpacked", tar), 507, "disk_full");
  expect((await lumina.bash("test -e /tmp/unpacked && echo there; true")).output).toBe("");
});

it("an upload aborted half-way rejects with the reason and leaves the old file", async () => {
  const path = "/home/user/aborted/data.bin";
  await lumina.upload(path, "the original\n");
  const controller = new AbortController();
  const reason = new Error("the test stops the upload");
  // Sends 4 MiB, then nothing more until the abort.
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(stream) {
      if (sent >= 4 * 1024 * 1024) await new Promise(() => {});
      sent += 256 * 1024;
      stream.enqueue(randomBytes(256 * 1024));
    },
  });
  const upload = lumina.upload(path, body, { signal: controller.signal });
  upload.catch(() => {});
  // The agent's temp file beside the target shows that bytes are arriving.
  await waitForListing("/home/user/aborted", (names) =>
    names.some((name) => name.endsWith(".lumina-tmp")),
  );
  controller.abort(reason);
  await expect(upload).rejects.toBe(reason);
  // The agent drops its temp file once the cancel reaches it.
  await waitForListing("/home/user/aborted", (names) => names.length === 1);
  expect(text(await lumina.download(path))).toBe("the original\n");
  expect((await lumina.bash("echo still here")).output).toBe("still here\n");
  expect((await lumina.upload(path, "next\n")).bytesWritten).toBe(5);
});

it("a download aborted half-way fails its stream with the reason; the next one works", async () => {
  const path = "/home/user/aborted/large.bin";
  await lumina.bash(`head -c 50000000 /dev/urandom > ${path}`);
  const controller = new AbortController();
  const reason = new Error("the test stops the download");
  const reader = (await lumina.downloadStream(path, { signal: controller.signal })).getReader();
  expect((await reader.read()).value?.length).toBeGreaterThan(0);
  controller.abort(reason);
  await expect(
    (async () => {
      for (;;) if ((await reader.read()).done) return;
    })(),
  ).rejects.toBe(reason);
  expect((await lumina.download(path)).length).toBe(50_000_000);
});

/** A ustar header for a regular file (the checksum computed as tar does). */
function ustarHeader(name: string, size: number): Uint8Array<ArrayBuffer> {
  const header = new Uint8Array(512);
  const put = (at: number, value: string) => header.set(new TextEncoder().encode(value), at);
  put(0, name);
  put(100, "0000644\0");
  put(108, "0001750\0");
  put(116, "0001750\0");
  put(124, `${size.toString(8).padStart(11, "0")}\0`);
  put(136, "00000000000\0");
  put(148, "        ");
  put(156, "0");
  put(257, "ustar\0");
  put(263, "00");
  const sum = header.reduce((total, byte) => total + byte, 0);
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}
