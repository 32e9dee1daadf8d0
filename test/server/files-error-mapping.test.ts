/**
 * File-system failures that are the caller's to fix answer a clear 4xx, never a 500: a kernel
 * file that refuses plain reads (`/proc/self/mem`) and an edit whose result would be over
 * edit's size limit.
 */
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError, newSandboxClient } from "./sandbox-helpers.ts";

let lumina: LuminaClient;

const server = useTestServer({}, async () => {
  lumina = await newSandboxClient(server());
});

it("reading /proc/self/mem (EIO on read) is a 400 naming the path and what to do", async () => {
  const message = await expectToolError(lumina.read("/proc/self/mem"), 400, "invalid_request");
  expect(message).toContain("/proc/self/mem");
  expect(message).toContain("EIO");
  expect(message).toMatch(/use bash/);
});

it("an edit whose result would pass edit's size limit is a 413 naming the limit", async () => {
  // 6 MiB that replace_all would turn into 600 MiB: past V8's longest string, so it was a 500.
  const path = "/home/user/grow.txt";
  await lumina.bash(`head -c ${6 * 1024 * 1024} /dev/zero | tr '\\0' a > ${path}`);
  await lumina.read(path, { limit: 1 });
  const message = await expectToolError(
    lumina.edit(path, "a", "b".repeat(100), { replaceAll: true }),
    413,
    "payload_too_large",
  );
  expect(message).toContain(path);
  expect(message).toContain(String(64 * 1024 * 1024));
  // The file is unchanged and the session can go on editing it within the limit.
  expect((await lumina.bash(`wc -c < ${path}`)).output).toBe(`${6 * 1024 * 1024}\n`);
  const edited = await lumina.edit(path, "a", "b", { replaceAll: true });
  expect(edited.replacements).toBe(6 * 1024 * 1024);
});
