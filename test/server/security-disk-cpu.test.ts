/**
 * SECURITY.md, resources: a disk filler runs out of its sandbox's quota (a loop-mounted ext4
 * image), not the host's disk; a busy loop gets at most `maxCpus` cores of CPU time (a cpu
 * cgroup with a CFS quota). The quota survives sandbox and server restarts and goes at destroy.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLuminaServer } from "../../server/index.ts";
import { isMountPoint } from "../../server/sandbox/disk.ts";
import { createClient, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName } from "../support/server.ts";
import { useTestServer, useTestServers } from "../support/use-server.ts";
import { hostHomeOf, newSandboxClient } from "./sandbox-helpers.ts";

const MiB = 1024 ** 2;
const diskSize = 64 * MiB;
let noisy: LuminaClient;
let quiet: LuminaClient;

const server = useTestServer({ limits: { diskSize, maxCpus: 1 } }, async () => {
  noisy = await newSandboxClient(server());
  quiet = await newSandboxClient(server());
});
const startServer = useTestServers();

/** Free bytes of the host filesystem that holds `path`. */
function hostFreeBytes(path: string): number {
  const out = execFileSync("df", ["-B1", "--output=avail", path], { encoding: "utf8" });
  return Number(out.trim().split("\n").at(-1));
}

/** The sandbox's storage dir on the host (its id names its cgroups). */
async function storageDirOf(client: LuminaClient): Promise<string> {
  return dirname(await hostHomeOf(server(), client));
}

describe("a disk filler stays within its sandbox's quota", () => {
  it("gets No space left on device at about the quota; the host's free space is untouched", async () => {
    const freeBefore = hostFreeBytes(server().dataDir);
    // 2 GiB would be written to the host's disk without a quota.
    const fill = await noisy.bash(
      "head -c 2G /dev/zero > /home/user/fill; echo exit=$?; du -B1 /home/user/fill",
      { timeout: 120_000 },
    );
    expect(fill.output).toMatch(/No space left on device/);
    expect(fill.output).toMatch(/exit=1/);
    const written = Number(fill.output.trim().split("\n").at(-1)?.split("\t")[0]);
    expect(written).toBeGreaterThan(32 * MiB);
    expect(written).toBeLessThanOrEqual(diskSize);
    const prealloc = await noisy.bash("fallocate -l 1G /home/user/big; echo exit=$?");
    expect(prealloc.output).toMatch(/No space left on device[\s\S]*exit=1/);
    // Generous: other tests write to this disk too, but nowhere near 1 GiB.
    expect(freeBefore - hostFreeBytes(server().dataDir)).toBeLessThan(1024 * MiB);
    // The neighbour has its own quota and still writes.
    await quiet.write("/home/user/ok.txt", "fine");
    expect((await quiet.bash("cat /home/user/ok.txt")).output).toBe("fine");
  });

  it("frees the space again when the file is deleted, in the sandbox and on the host", async () => {
    await noisy.bash("rm -f /home/user/fill /home/user/big");
    const image = join(await storageDirOf(noisy), "disk.img");
    // Mounted with discard: the deleted blocks become holes in the image (at the next commit).
    await expect
      .poll(async () => (await stat(image)).blocks * 512, { timeout: 30_000, interval: 200 })
      .toBeLessThan(24 * MiB);
    const again = await noisy.bash(
      "head -c 32M /dev/zero > /home/user/again; echo exit=$?; stat -c %s /home/user/again",
    );
    expect(again.output).toBe("exit=0\n33554432\n");
    await noisy.bash("rm /home/user/again");
  });

  it("hides lost+found and gives the home to the sandbox's uid", async () => {
    const home = await hostHomeOf(server(), noisy);
    expect(await isMountPoint(home)).toBe(true);
    expect(existsSync(join(home, "lost+found"))).toBe(false);
    expect((await noisy.bash("ls -A /home/user | grep -c lost || true")).output).toBe("0\n");
    const image = await stat(join(dirname(home), "disk.img"));
    expect({ uid: image.uid, mode: image.mode & 0o777 }).toEqual({ uid: 0, mode: 0o600 });
    expect((await stat(home)).uid).toBe((await stat(dirname(home))).uid);
  });

  it("keeps the data and the quota across sandbox and server restarts", async () => {
    await noisy.write("/home/user/keep.txt", "kept");
    await noisy.restartSandbox();
    expect((await noisy.bash("cat /home/user/keep.txt")).output).toBe("kept");
    await server().restart();
    const after = createClient({
      baseUrl: server().url,
      token: server().token,
      sandbox: noisy.sandbox,
    });
    expect((await after.bash("cat /home/user/keep.txt")).output).toBe("kept");
    const fill = await after.bash("head -c 2G /dev/zero > /home/user/fill; echo exit=$?", {
      timeout: 120_000,
    });
    expect(fill.output).toMatch(/No space left on device[\s\S]*exit=1/);
    await after.bash("rm -f /home/user/fill");
    noisy = after;
    quiet = createClient({ baseUrl: server().url, token: server().token, sandbox: quiet.sandbox });
  });

  it("destroy unmounts and deletes the image", async () => {
    const doomed = await newSandboxClient(server());
    const storage = await storageDirOf(doomed);
    expect(existsSync(join(storage, "disk.img"))).toBe(true);
    await doomed.destroySandbox();
    expect(existsSync(storage)).toBe(false);
    expect(await readFile("/proc/self/mountinfo", "utf8")).not.toContain(storage);
  });
});

describe("a busy loop gets at most maxCpus cores", () => {
  it("runs every process of the sandbox in a cpu group with a one-core quota", async () => {
    const id = basename(await storageDirOf(quiet));
    const group = `/sys/fs/cgroup/cpu/lumina/${id}`;
    expect((await readFile(join(group, "cpu.cfs_period_us"), "utf8")).trim()).toBe("100000");
    expect((await readFile(join(group, "cpu.cfs_quota_us"), "utf8")).trim()).toBe("100000");
    await quiet.bash("timeout 60 sh -c 'while :; do :; done' >/dev/null 2>&1 & echo started");
    // The memory group holds every process of the sandbox; the cpu group must hold the same.
    const pidsOf = async (file: string) =>
      new Set((await readFile(file, "utf8")).split("\n").filter(Boolean));
    const everyProcess = await pidsOf(`/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`);
    const loops = execFileSync("pgrep", ["-f", "while :; do :; done"], { encoding: "utf8" })
      .split("\n")
      .filter((pid) => everyProcess.has(pid));
    expect(loops.length).toBeGreaterThan(0);
    const inCpuGroup = await pidsOf(join(group, "cgroup.procs"));
    // A short-lived process (the agent's own) may end between the reads: check those still there.
    const stillThere = await pidsOf(`/sys/fs/cgroup/memory/lumina/${id}/cgroup.procs`);
    for (const pid of everyProcess) if (stillThere.has(pid)) expect(inCpuGroup.has(pid)).toBe(true);
    await quiet.restartSandbox();
  });
});

describe("sandboxes without a quota", () => {
  it("keeps a home made before quotas a plain directory, with its data", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "lumina-test-"));
    const open = (size: number) =>
      // No warm pool: the one storage directory is the sandbox's own.
      createLuminaServer({
        dataDir,
        port: 0,
        log: () => {},
        limits: { diskSize: size },
        warmPool: 0,
      });
    try {
      let legacy = await open(0);
      const sandbox = randomSandboxName("legacy");
      const token = legacy.adminKey ?? legacy.addUserKey("admin");
      const client = () => createClient({ baseUrl: legacy.url, token, sandbox });
      await client().createSandbox({ eager: true });
      await client().write("/home/user/old.txt", "old");
      await legacy.close();
      legacy = await open(diskSize);
      try {
        expect((await client().bash("cat /home/user/old.txt")).output).toBe("old");
        const [storage] = execFileSync("ls", [join(dataDir, "sandboxes")], { encoding: "utf8" })
          .trim()
          .split("\n");
        const storageDir = join(dataDir, "sandboxes", storage ?? "");
        expect(existsSync(join(storageDir, "disk.img"))).toBe(false);
        expect(await isMountPoint(join(storageDir, "home"))).toBe(false);
      } finally {
        await legacy.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("gives an unisolated (development) sandbox no image", async () => {
    const plain = await startServer({ isolation: "none", limits: { diskSize } });
    const client = await newSandboxClient(plain);
    const home = await hostHomeOf(plain, client);
    expect(existsSync(join(dirname(home), "disk.img"))).toBe(false);
    expect(await isMountPoint(home)).toBe(false);
  });
});
