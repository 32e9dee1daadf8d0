/**
 * Per-sandbox resources (CONTRACT §12): a sandbox's `cpus`, `memoryMb` and `diskMb` bind inside it
 * through the cgroups and the disk image, show in `SandboxInfo.resources`, and a create past the
 * server's maxima is a 400 naming the field.
 */
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError } from "./sandbox-helpers.ts";

let small: LuminaClient;
const server = useTestServer(
  { maxResources: { cpus: 1, memoryMb: 1024, diskMb: 512 } },
  async (started) => {
    small = clientOf(started.url, started.token);
    await small.createSandbox({ resources: { cpus: 1, memoryMb: 128, diskMb: 64 } });
  },
);

function clientOf(url: string, token: string): LuminaClient {
  return createClient({ baseUrl: url, token, sandbox: randomSandboxName("res") });
}

describe("per-sandbox resources", () => {
  it("shows what the sandbox asked for in SandboxInfo", async () => {
    expect((await small.getSandbox()).resources).toEqual({ cpus: 1, memoryMb: 128, diskMb: 64 });
  });

  it("nproc inside shows the sandbox's cpus", async () => {
    // ceil(cpus) CPUs of the host's, through the processes' affinity (the quota is what binds).
    expect((await small.bash("nproc")).output).toBe("1\n");
    expect(availableParallelism()).toBeGreaterThanOrEqual(1);
  });

  it("a memory hog past memoryMb is killed, and the server and the sandbox go on", async () => {
    const hog = await small.bash(
      "python3 -c 'b = bytearray(256 * 1024 ** 2); print(\"allocated\", len(b))'",
      { timeout: 60_000 },
    );
    expect(hog.exitCode).not.toBe(0);
    expect(hog.output).not.toMatch(/^allocated/m);
    expect((await fetch(`${server().url}/v1/health`)).status).toBe(200);
    expect((await small.bash("echo alive")).output).toBe("alive\n");
  });

  it("diskMb bounds /home/user", async () => {
    const fill = await small.bash("head -c 100M /dev/zero > big; echo exit=$?; rm -f big");
    expect(fill.output).toMatch(/No space left on device/);
    expect(fill.output).toMatch(/exit=1/);
    const size = await small.bash("df --output=size -m /home/user | tail -1");
    expect(Number(size.output.trim())).toBeLessThanOrEqual(64);
  });

  it("refuses a create past the server's maxima, naming the field", async () => {
    const { url, token } = server();
    for (const [resources, field] of [
      [{ cpus: 2 }, "resources.cpus"],
      [{ memoryMb: 2048 }, "resources.memory_mb"],
      [{ diskMb: 513 }, "resources.disk_mb"],
    ] as const) {
      const client = clientOf(url, token);
      const message = await expectToolError(
        client.createSandbox({ resources }),
        400,
        "invalid_request",
      );
      expect(message).toContain(`'${field}'`);
      await expectToolError(client.getSandbox(), 404, "not_found");
    }
  });
});
