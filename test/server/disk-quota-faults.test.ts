/**
 * SECURITY.md, resources: a transient failure fails one request and never downgrades isolation.
 * A failed mkfs (a descriptor shortage, say) during one sandbox's first start answers 503 for
 * that start; the next sandbox, and the retry, still get their quota. Only configuration turns
 * quotas off, and a host where they cannot work is found once, at start-up, and logged loudly.
 */
import { spawn } from "node:child_process";
import { randomInt } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, statfs } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../server/errors.ts";
import {
  createDiskImages,
  type DiskImages,
  type DiskToolRunner,
  diskImageOf,
  isMountPoint,
  runDiskTool,
} from "../../server/sandbox/disk.ts";
import { startTestServer } from "../support/server.ts";
import { requireSandboxHost } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

requireSandboxHost();

const MiB = 1024 ** 2;
const size = 64 * MiB;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A runner whose next `tool` call after `arm()` fails as if the server were out of descriptors. */
function faultPoint(tool: string): { run: DiskToolRunner; arm(): void } {
  let armed = false;
  return {
    run(name, args) {
      if (name === tool && armed) {
        armed = false;
        const error = Object.assign(new Error(`spawn ${name} EMFILE`), { code: "EMFILE" });
        return Promise.reject(error);
      }
      return runDiskTool(name, args);
    },
    arm() {
      armed = true;
    },
  };
}

async function disks(runTool: DiskToolRunner): Promise<{ images: DiskImages; root: string }> {
  const root = await mkdtemp(join(tmpdir(), "lumina-disk-fault-"));
  const logged: string[] = [];
  const images = createDiskImages({ runTool, log: (line) => logged.push(line) });
  cleanups.push(async () => {
    await images.unmountAll();
    await rm(root, { recursive: true, force: true });
  });
  await images.probe();
  expect(logged).toEqual([]);
  return { images, root };
}

/** The size of the filesystem mounted on `path`, in bytes. */
async function filesystemBytes(path: string): Promise<number> {
  const info = await statfs(path);
  return info.blocks * info.bsize;
}

describe("a failure while making one sandbox's disk image", () => {
  for (const tool of ["mkfs.ext4", "mount"]) {
    it(`(${tool}) fails that start with 503; the next sandbox and the retry get their quota`, async () => {
      const fault = faultPoint(tool);
      const { images, root } = await disks(fault.run);
      fault.arm();
      const uid = 2_000_000_000 + randomInt(100_000_000);
      const first = join(root, "a");
      const failure = await images.mountHome(first, join(first, "home"), size, uid).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ServerError);
      expect((failure as ServerError).code).toBe("unavailable");
      expect((failure as ServerError).message).toMatch(/EMFILE.*try again/);
      // Nothing half-made: a home left without its image would pass for a quota-less one.
      expect(existsSync(join(first, "home"))).toBe(false);
      expect(existsSync(diskImageOf(first))).toBe(false);

      const second = join(root, "b");
      await images.mountHome(second, join(second, "home"), size, uid + 1);
      expect(await isMountPoint(join(second, "home"))).toBe(true);
      expect(await filesystemBytes(join(second, "home"))).toBeGreaterThan(size / 2);

      await images.mountHome(first, join(first, "home"), size, uid);
      expect(await isMountPoint(join(first, "home"))).toBe(true);
      expect(await filesystemBytes(join(first, "home"))).toBeLessThanOrEqual(size);
    });
  }
});

describe("a server that died in the middle of a snapshot", () => {
  it("leaves the home's filesystem frozen; the next server's mount thaws it", async () => {
    const { images, root } = await disks(runDiskTool);
    const storage = join(root, "a");
    const home = join(storage, "home");
    await images.mountHome(storage, home, size, 2_000_000_000 + randomInt(100_000_000));
    await runDiskTool("fsfreeze", ["--freeze", home]);
    // The next server's manager: it finds the mount and reuses it.
    const { images: next } = await disks(runDiskTool);
    // Runs first (cleanups run last to first): a home left frozen would hang its unmount.
    cleanups.push(
      async () => void (await runDiskTool("fsfreeze", ["--unfreeze", home]).catch(() => {})),
    );
    await next.mountHome(storage, home, size, 0);
    // A write on a frozen filesystem blocks (uninterruptibly): bounded, and thawed by the test
    // itself on a regression, so it fails instead of hanging.
    const writer = spawn("/usr/bin/touch", [join(home, "after-restart")]);
    const exited = new Promise<number | null>((resolve) => writer.on("exit", resolve));
    const done = await Promise.race([
      exited.then(() => true),
      new Promise((resolve) => setTimeout(resolve, 5_000, false)),
    ]);
    if (!done) await runDiskTool("fsfreeze", ["--unfreeze", home]);
    expect(done, "a write on the reused home finishes").toBe(true);
    expect(await exited).toBe(0);
  });
});

describe("turning quotas off", () => {
  it("happens only by configuration: diskQuota false gives plain homes, with a log line", async () => {
    const logged: string[] = [];
    const server = await startTestServer({
      diskQuota: false,
      limits: { diskSize: size },
      log: (line) => logged.push(line),
    });
    cleanups.push(() => server.close());
    const client = await newSandboxClient(server);
    expect(await isMountPoint(await hostHomeOf(server, client))).toBe(false);
    expect(logged.join("\n")).toMatch(/disk quotas are off by configuration/);
  });

  it("is logged loudly at start-up when loop-mounted images cannot work on this host", async () => {
    const logged: string[] = [];
    const broken: DiskToolRunner = (name, args) =>
      name === "mount"
        ? Promise.reject(new Error("mount: no loop device"))
        : runDiskTool(name, args);
    const images = createDiskImages({ runTool: broken, log: (line) => logged.push(line) });
    await images.probe();
    await images.probe();
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/WARNING: per-sandbox disk quotas do not work on this host/);
  });
});
