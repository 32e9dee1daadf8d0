/**
 * SECURITY.md, the host side: the registry and its side files are the server's alone, the agent
 * bundle and the generated /etc live in directories only the server can write (never a
 * predictable /tmp name another user could pre-create), host uids stay inside the data dir's
 * block, and a backend prepares a sandbox's storage once per start.
 */
import { createHash, randomInt } from "node:crypto";
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { SandboxSpec } from "../../server/sandbox/backend.ts";
import type { DiskImages } from "../../server/sandbox/disk.ts";
import { storageSteps } from "../../server/sandbox/storage.ts";
import { openRegistry } from "../../server/store/database.ts";
import { createHostUidTable } from "../../server/store/host-uids.ts";
import { createSandboxStore } from "../../server/store/sandboxes.ts";
import { randomSandboxName } from "../support/server.ts";
import { requireSandboxHost, useTestServers } from "../support/use-server.ts";
import { fixedHostUid, newSandboxClient } from "./sandbox-helpers.ts";

requireSandboxHost();
const startServer = useTestServers();

const scratch: string[] = [];
afterAll(async () => {
  for (const path of scratch) await rm(path, { recursive: true, force: true });
});

/** A fresh instance of a module, as a newly started server process would load it. */
async function freshImport<T>(path: string): Promise<T> {
  vi.resetModules();
  return (await import(path)) as T;
}

type BundleModule = typeof import("../../server/sandbox/agent-bundle.ts");
type EtcModule = typeof import("../../server/sandbox/etc.ts");

describe("the data directory", () => {
  it("after some activity, no file in it is readable or writable by group or others", async () => {
    const server = await startServer();
    const lumina = await newSandboxClient(server);
    await lumina.write("/home/user/a.txt", "a");
    await lumina.bash("echo b > /home/user/b.txt");
    const names = await readdir(server.dataDir);
    expect(names).toEqual(expect.arrayContaining(["lumina.db", "lumina.db-wal", "sandboxes"]));
    for (const name of names) {
      const info = await stat(join(server.dataDir, name));
      // Directories may keep the search bit (bwrap, as the sandbox uid, traverses them).
      expect({ name, mode: info.mode & 0o066 }).toEqual({ name, mode: 0 });
      if (info.isFile()) expect({ name, mode: info.mode & 0o777 }).toEqual({ name, mode: 0o600 });
    }
  });
});

describe("the agent bundle and the generated /etc", () => {
  it("live in fresh server-owned directories no one else can write", async () => {
    const bundle = await (
      await freshImport<BundleModule>("../../server/sandbox/agent-bundle.ts")
    ).agentBundlePath();
    const etc = (await freshImport<EtcModule>("../../server/sandbox/etc.ts")).generatedEtcDir();
    for (const path of [dirname(bundle), bundle, etc, join(etc, "passwd")]) {
      const info = await lstat(path);
      expect({ path, uid: info.uid }).toEqual({ path, uid: process.getuid!() });
      expect({ path, mode: info.mode & 0o777 }).toEqual({
        path,
        mode: info.isDirectory() ? 0o755 : 0o644,
      });
    }
    // A second server process gets directories of its own, not one found under a known name.
    const again = await (
      await freshImport<BundleModule>("../../server/sandbox/agent-bundle.ts")
    ).agentBundlePath();
    const etcAgain = (
      await freshImport<EtcModule>("../../server/sandbox/etc.ts")
    ).generatedEtcDir();
    expect(dirname(again)).not.toBe(dirname(bundle));
    expect(etcAgain).not.toBe(etc);
    expect(await readFile(again)).toEqual(await readFile(bundle));
  });

  it("a directory another user pre-created under the content-derived name is never used", async () => {
    const first = await (
      await freshImport<BundleModule>("../../server/sandbox/agent-bundle.ts")
    ).agentBundlePath();
    const hash = createHash("sha256")
      .update(await readFile(first))
      .digest("hex")
      .slice(0, 16);
    const planted = join(tmpdir(), `lumina-agent-${hash}`);
    scratch.push(planted);
    await mkdir(planted, { recursive: true });
    await writeFile(join(planted, "agent.mjs"), "process.exit(42); // planted\n");
    const attacker = 1_999_000_000 + randomInt(1_000_000);
    await chown(planted, attacker, attacker);
    await chown(join(planted, "agent.mjs"), attacker, attacker);
    const next = await (
      await freshImport<BundleModule>("../../server/sandbox/agent-bundle.ts")
    ).agentBundlePath();
    expect(dirname(next)).not.toBe(planted);
    expect((await lstat(dirname(next))).uid).toBe(process.getuid!());
    expect(await readFile(next, "utf8")).not.toContain("planted");
  });

  it("a bundle a /tmp cleaner removed is built afresh", async () => {
    const bundles = await freshImport<BundleModule>("../../server/sandbox/agent-bundle.ts");
    const first = await bundles.agentBundlePath();
    await rm(dirname(first), { recursive: true });
    const second = await bundles.agentBundlePath();
    expect(second).not.toBe(first);
    expect((await stat(second)).size).toBeGreaterThan(1000);
  });
});

describe("host uid blocks", () => {
  it("the uid table refuses (unavailable) to hand out a uid past its block", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-uids-"));
    scratch.push(dir);
    const db = openRegistry(dir);
    try {
      const uids = createHostUidTable(db, 1_000_000, 2);
      expect(uids.claim("a")).toBe(1_000_000);
      expect(uids.claim("b")).toBe(1_000_001);
      // A claim is idempotent: a sandbox keeps the uid it holds.
      expect(uids.claim("a")).toBe(1_000_000);
      expect(() => uids.claim("c")).toThrow(
        expect.objectContaining({ code: "unavailable", message: expect.stringContaining("uid") }),
      );
      expect(uids.uidOf("c")).toBeUndefined();
      // A pinned fresh block (the operator's way out) hands out uids again.
      expect(createHostUidTable(db, 2_000_000, 2).claim("c")).toBe(2_000_000);
    } finally {
      db.close();
    }
  });

  it("the uid table hands a released uid out again, lowest first, never a held one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-uids-"));
    scratch.push(dir);
    const db = openRegistry(dir);
    try {
      const uids = createHostUidTable(db, 1_000_000, 4);
      expect(["a", "b", "c", "d"].map((id) => uids.claim(id))).toEqual([
        1_000_000, 1_000_001, 1_000_002, 1_000_003,
      ]);
      // Held until its backend's destroy finished: it may still own files and processes.
      expect(() => uids.claim("e")).toThrow(expect.objectContaining({ code: "unavailable" }));
      uids.release("c");
      uids.release("a");
      expect(uids.claim("e")).toBe(1_000_000);
      expect(uids.claim("f")).toBe(1_000_002);
    } finally {
      db.close();
    }
  });

  it("a local backend frees a sandbox's uid only once its destroy finished", async () => {
    const root = await mkdtemp(join(tmpdir(), "lumina-uids-"));
    scratch.push(root);
    const db = openRegistry(root);
    try {
      const uids = createHostUidTable(db, 1_000_000, 1);
      let unmountFails = true;
      // Only the unmount of a storage step can fail on demand here (root removes anything).
      const disks = {
        mountHome: async () => {},
        unmount: async () => {
          if (unmountFails) throw new Error("the image is busy");
        },
        unmountAll: async () => {},
      } as unknown as DiskImages;
      const placement = { sandboxesDir: join(root, "sandboxes"), hostUids: uids };
      const steps = storageSteps(placement, false, disks);
      const limits = { maxProcesses: 8, maxFileSize: 1024, maxMemory: 1024 ** 3, tmpSize: 1024 };
      const spec: SandboxSpec = { id: "s1", name: "a", user: "u", limits };
      steps.create(spec);
      expect(uids.uidOf("s1")).toBe(1_000_000);
      await expect(steps.destroy(spec)).rejects.toThrow("busy");
      expect(() => uids.claim("s2")).toThrow(expect.objectContaining({ code: "unavailable" }));
      unmountFails = false;
      await steps.destroy(spec);
      expect(uids.claim("s2")).toBe(1_000_000);
    } finally {
      db.close();
    }
  });

  it("a registry made by an older server keeps each sandbox's uid (moved to host_uids)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-uids-"));
    scratch.push(dir);
    const old = new Database(join(dir, "lumina.db"));
    old.exec(`CREATE TABLE sandboxes (id TEXT PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL,
      host_uid INTEGER NOT NULL UNIQUE, created_at TEXT NOT NULL, eager INTEGER NOT NULL,
      UNIQUE (user, name));
      INSERT INTO sandboxes VALUES ('s1', 'u', 'a', 1000005, '2026-01-01T00:00:00.000Z', 0);`);
    old.close();
    const db = openRegistry(dir);
    try {
      expect(createHostUidTable(db, 1_000_000, 8).uidOf("s1")).toBe(1_000_005);
      expect(createSandboxStore(db).get("u", "a")).toMatchObject({ id: "s1", eager: false });
      expect(createSandboxStore(db).create("u", "b", false)).toMatchObject({ name: "b" });
    } finally {
      db.close();
    }
  });

  it("the server answers 503 unavailable once every uid of its range is held", async () => {
    const base = 1_990_000_000 + randomInt(100) * 65_536;
    const server = await startServer({ hostUidBase: base, hostUidCount: 2 });
    const create = (name: string) =>
      fetch(`${server.url}/v1/sandboxes`, {
        method: "POST",
        headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" },
        body: JSON.stringify({ name, eager: false }),
      });
    expect((await create(randomSandboxName())).status).toBe(201);
    expect((await create(randomSandboxName())).status).toBe(201);
    const refused = await create(randomSandboxName());
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("unavailable");
  });
});

describe("storage preparation", () => {
  it("start after prepare does not prepare again; start alone still does", async () => {
    const root = await mkdtemp(join(tmpdir(), "lumina-prep-"));
    scratch.push(root);
    const spec: SandboxSpec = {
      id: `prep-${randomInt(1e9)}`,
      name: "prep",
      user: "test",
      limits: { maxProcesses: 8, maxFileSize: 1024, maxMemory: 1024 ** 3, tmpSize: 1024 ** 2 },
    };
    const hostUid = 2_100_000_000 + randomInt(1_000_000);
    const steps = storageSteps({ sandboxesDir: root, hostUids: fixedHostUid(hostUid) }, true);
    const placed = steps.place(spec);
    await steps.prepare(spec);
    expect((await stat(placed.storageDir)).mode & 0o777).toBe(0o700);
    // A mark only a second full pass would undo.
    await chmod(placed.storageDir, 0o711);
    await steps.ensure(placed);
    expect((await stat(placed.storageDir)).mode & 0o777).toBe(0o711);
    await steps.ensure(placed);
    expect((await stat(placed.storageDir)).mode & 0o777).toBe(0o700);
    await steps.destroy(spec);
    await steps.ensure(placed);
    expect((await stat(join(placed.storageDir, "home"))).uid).toBe(hostUid);
  });
});
