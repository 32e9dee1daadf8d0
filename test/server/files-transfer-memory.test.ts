/**
 * CONTRACT §11: sizes are bounded by the disk, not by memory. A 1 GiB upload and download
 * through the real server (in a process of its own) raise the resident memory of the server,
 * the sandbox's agent and the SDK (this process) by less than 64 MiB each. The bound is
 * generous (garbage the collector has not yet taken counts too); bench/file-transfer.ts reports
 * the real figures.
 */
import { expect, it } from "vitest";
import { measureTransfer } from "../support/transfer-memory.ts";
import { requireSandboxHost } from "../support/use-server.ts";

requireSandboxHost();

it("a 1 GiB upload and download keep every process's memory growth under 64 MiB", async () => {
  const run = await measureTransfer(1024 ** 3);
  const bound = 64 * 1024 * 1024;
  for (const phase of [run.upload, run.download]) {
    expect(phase.server).toBeLessThan(bound);
    expect(phase.agent).toBeLessThan(bound);
    expect(phase.sdk).toBeLessThan(bound);
  }
}, 600_000);
