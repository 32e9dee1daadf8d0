/**
 * SECURITY.md, faults: a write that runs out of room (the sandbox's file-size limit, a full /tmp)
 * fails with a clear error and leaves the original file intact, because writes go to a temporary
 * file that is renamed over the original only once complete. A full disk is a 507 `disk_full`
 * (CONTRACT §8); a file over the size limit is a 413 naming the limit.
 */
import { expect, it } from "vitest";
import { isToolError, type LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer(
  {
    limits: { maxFileSize: 1024 * 1024, tmpSize: 4 * 1024 * 1024 },
  },
  async () => {
    lumina = await newSandboxClient(server());
  },
);

async function expectFailedWriteKeepsOriginal(
  path: string,
  tooBig: string,
  expected: { statusCode: number; code: string; message: RegExp },
  fill?: () => Promise<unknown>,
): Promise<void> {
  await lumina.write(path, "the original content\n");
  await lumina.read(path);
  await fill?.();
  const error = await lumina.write(path, tooBig).catch((caught: unknown) => caught);
  expect(isToolError(error)).toBe(true);
  expect(error).toMatchObject({ statusCode: expected.statusCode, code: expected.code });
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toMatch(expected.message);
  const after = await lumina.read(path);
  expect(after.type === "text" && after.content).toBe("   1\tthe original content\n");
  // No temporary file is left behind next to it.
  const listing = await lumina.bash(`ls -A "$(dirname ${path})"`);
  expect(listing.output.trim().split("\n")).toEqual([path.split("/").at(-1)]);
}

it("a write over the sandbox's file-size limit fails and keeps the original", async () => {
  await expectFailedWriteKeepsOriginal("/home/user/big/notes.txt", "x".repeat(2 * 1024 * 1024), {
    statusCode: 413,
    code: "payload_too_large",
    message: /file size limit of 1048576 bytes/,
  });
});

it("a write to a full /tmp is a 507 disk_full and keeps the original", async () => {
  const expected = { statusCode: 507, code: "disk_full", message: /full/ };
  await expectFailedWriteKeepsOriginal("/tmp/full/notes.txt", "y".repeat(64 * 1024), expected, () =>
    // Fills the sandbox's /tmp to the last block, in files under the file-size limit.
    lumina.bash(
      "for i in $(seq 1 8); do head -c 1000000 /dev/zero > /tmp/filler$i || break; done 2>/dev/null",
    ),
  );
});
