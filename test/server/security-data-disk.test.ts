/**
 * SECURITY.md, resources: sparse disk images promise more than the data filesystem may hold.
 * A new image is refused with 507 `disk_full` once the open promises pass the free space times
 * the overcommit ratio, and when the data filesystem does fill up (overcommitted on purpose
 * here) the registry lives on its reserve: other users' calls never answer 500.
 *
 * The data directory is a 64 MiB tmpfs this test mounts (and unmounts) under a temp dir.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkRoomForImage, freeBytes } from "../../server/sandbox/disk-room.ts";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { sandboxHostMissing } from "../support/server.ts";
import { useTestServer } from "../support/use-server.ts";
import { expectToolError } from "./sandbox-helpers.ts";

const MiB = 1024 ** 2;
const diskSize = 80 * MiB;
// A fresh name: mkdir (not recursive) below refuses one that someone else made first.
const mountPoint = join(tmpdir(), `lumina-small-disk-${randomBytes(8).toString("hex")}`);
let mounted = false;
let bobKey: string;
let filler: LuminaClient;
let bob: LuminaClient;

const clientOf = (token: string, sandbox: string) =>
  createClient({ baseUrl: server().url, token, sandbox, retry: { limit: 0 } });

// Registered before the server's hooks: mounted before it starts, unmounted after it closes.
beforeAll(async () => {
  if (sandboxHostMissing) return; // the tests skip, saying why
  await mkdir(mountPoint, { mode: 0o700 });
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64m,mode=0755", "tmpfs", mountPoint]);
  mounted = true;
});
afterAll(async () => {
  if (mounted) execFileSync("umount", [mountPoint]);
  await rm(mountPoint, { recursive: true, force: true });
});
const server = useTestServer(
  {
    dataDirIn: mountPoint,
    // Three times the free space: one sandbox's 80 MiB disk alone can fill the 64 MiB filesystem.
    diskOvercommit: 3,
    registryReserve: 4 * MiB,
    limits: { diskSize, maxFileSize: 256 * MiB },
  },
  async (started) => {
    bobKey = started.addUser("bob");
    filler = clientOf(started.token, "filler");
    bob = clientOf(bobKey, "bob");
    await filler.createSandbox({ eager: true });
    await bob.createSandbox({ eager: true });
  },
);

describe("admission of new sandbox disks", () => {
  it("refuses a disk past the promise with 507 disk_full saying what to do", async () => {
    // Open promises: 2 × 80 MiB less what the images hold; 3 × ~58 MiB free leaves no room for a third.
    const third = clientOf(bobKey, "third");
    const message = await expectToolError(third.createSandbox({ eager: true }), 507, "disk_full");
    expect(message).toMatch(/destroy sandboxes you no longer need/);
    // The refused sandbox is not left behind.
    expect((await bob.listSandboxes()).map((s) => s.name)).toEqual(["bob"]);
  });

  it("with the default ratio of 1, promises never pass the free space", async () => {
    const dir = join(mountPoint, "ratio-one");
    await mkdir(join(dir, "s1"), { recursive: true });
    const free = await freeBytes(dir);
    await checkRoomForImage(dir, free, 1);
    await expect(checkRoomForImage(dir, free + MiB, 1)).rejects.toMatchObject({
      code: "disk_full",
    });
  });
});

describe("a data filesystem filled by one sandbox", () => {
  beforeAll(async () => {
    if (sandboxHostMissing) return; // the tests skip, saying why
    // 100 MiB into an 80 MiB disk on a 64 MiB filesystem: the host side runs out first.
    await filler.bash("head -c 100M /dev/zero > /home/user/fill; sync", { timeout: 120_000 });
    expect(await freeBytes(mountPoint)).toBeLessThan(MiB);
  }, 180_000);

  /** A call that may fail only with a 507 `disk_full`, never a 500. */
  const okOrDiskFull = async (call: Promise<unknown>) => {
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (error !== undefined) expect(error).toMatchObject({ statusCode: 507, code: "disk_full" });
  };

  it("the filler's own writes answer 507 disk_full, not a misleading 400 or a 500", async () => {
    const message = await expectToolError(
      filler.write("/home/user/more.txt", "more"),
      507,
      "disk_full",
    );
    expect(message).toMatch(/server's data disk is full/);
  });

  it("another user's calls keep working, and none answers 500", async () => {
    expect((await bob.bash("echo alive")).output).toBe("alive\n");
    await okOrDiskFull(bob.write("/home/user/a.txt", "x".repeat(200_000)));
    await okOrDiskFull(bob.read("/home/user/a.txt"));
    expect((await bob.listSandboxes()).map((s) => s.name)).toEqual(["bob"]);
  });

  it("the registry keeps recording sessions, sandboxes and keys on its reserve", async () => {
    // Each fresh client is a new tool session row; each lazy sandbox a new sandbox row.
    for (let i = 0; i < 30; i++) {
      expect((await clientOf(bobKey, "bob").bash(`echo ${i}`)).output).toBe(`${i}\n`);
      await clientOf(bobKey, `lazy-${i % 10}`)
        .createSandbox({ eager: false })
        .catch((error: unknown) => expect(error).toMatchObject({ code: "sandbox_exists" }));
    }
    expect(server().addUser("carol")).toMatch(/./);
    // A sandbox that needs a new disk is refused before any disk is made.
    await expectToolError(
      clientOf(bobKey, "eager").createSandbox({ eager: true }),
      507,
      "disk_full",
    );
  });
});
