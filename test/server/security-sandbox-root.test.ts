/**
 * SECURITY.md, resources: bwrap's own root and `/dev` are tmpfs without a size, so anything a
 * sandbox wrote there pinned host memory that no process held. They are read-only now; the only
 * in-memory places a sandbox can write, `/tmp` and `/dev/shm`, are sized.
 */
import { expect, it } from "vitest";
import type { LuminaClient } from "../../src/index.ts";
import { useTestServer } from "../support/use-server.ts";
import { newSandboxClient } from "./sandbox-helpers.ts";

const MiB = 1024 ** 2;
const tmpSize = 8 * MiB;
let lumina: LuminaClient;

const server = useTestServer({ limits: { tmpSize, diskSize: 0 } }, async () => {
  lumina = await newSandboxClient(server());
});

// Each place gets 32 MiB, four times the bound, in files under the file-size limit.
const fill = (dir: string) =>
  `mkdir -p ${dir} 2>/dev/null; for i in 1 2 3 4; do head -c 8M /dev/zero > ${dir}/fill-$i || break; done; ` +
  `echo "bytes=$(cat ${dir}/fill-* 2>/dev/null | wc -c)"`;

it.each(["/", "/var", "/opt", "/run", "/dev"])(
  "writing past the bound in %s fails with a read-only file system",
  async (dir) => {
    const result = await lumina.bash(fill(dir));
    expect(result.output).toMatch(/Read-only file system/);
    expect(result.output).toMatch(/bytes=0\n$/);
  },
);

it.each(["/dev/shm", "/tmp"])("%s is a tmpfs that holds at most its size", async (dir) => {
  const result = await lumina.bash(`${fill(dir)}; rm -f ${dir}/fill-*`);
  expect(result.output).toMatch(/No space left on device/);
  const written = Number(/bytes=(\d+)/.exec(result.output)?.[1]);
  expect(written).toBeGreaterThan(0);
  expect(written).toBeLessThanOrEqual(tmpSize);
});

it("the sandbox and the server stay healthy after the fills", async () => {
  await lumina.write("/home/user/after.txt", "still here");
  expect(
    (await lumina.bash("cat /home/user/after.txt; echo; echo ok > /tmp/x && cat /tmp/x")).output,
  ).toBe("still here\nok\n");
  const health = await fetch(`${server().url}/v1/health`);
  expect(health.status).toBe(200);
});
