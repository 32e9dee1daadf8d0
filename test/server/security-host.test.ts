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
import { afterAll, describe, expect, it, vi } from "vitest";
import type { SandboxSpec } from "../../server/sandbox/backend.ts";
import { storageSteps } from "../../server/sandbox/storage.ts";
import { openRegistry } from "../../server/store/database.ts";
import { createSandboxStore } from "../../server/store/sandboxes.ts";
import { randomSandboxName, startTestServer } from "../support/server.ts";
import { newSandboxClient } from "./sandbox-helpers.ts";

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
    const server = await startTestServer();
    try {
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
    } finally {
      await server.close();
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
  it("the store refuses (unavailable) to hand out a uid past its block", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-uids-"));
    scratch.push(dir);
    const db = openRegistry(dir);
    try {
      const store = createSandboxStore(db, 1_000_000, 2);
      expect(store.create("u", "a", false)?.hostUid).toBe(1_000_000);
      expect(store.create("u", "b", false)?.hostUid).toBe(1_000_001);
      expect(() => store.create("u", "c", false)).toThrow(
        expect.objectContaining({ code: "unavailable", message: expect.stringContaining("uid") }),
      );
      expect(store.get("u", "c")).toBeUndefined();
      // A pinned fresh block (the operator's way out) hands out uids again.
      expect(createSandboxStore(db, 2_000_000, 2).create("u", "c", false)?.hostUid).toBe(2_000_000);
    } finally {
      db.close();
    }
  });

  it("the store hands a removed sandbox's uid out again, lowest first, never a destroying one's", async () => {
    const dir = await mkdtemp(join(tmpdir(), "lumina-uids-"));
    scratch.push(dir);
    const db = openRegistry(dir);
    try {
      const store = createSandboxStore(db, 1_000_000, 4);
      const made = ["a", "b", "c", "d"].map((name) => store.create("u", name, false)!);
      expect(made.map((record) => record.hostUid)).toEqual([
        1_000_000, 1_000_001, 1_000_002, 1_000_003,
      ]);
      store.markDestroying(made[0]!.id);
      store.markDestroying(made[2]!.id);
      // Being destroyed: no longer found, but its uid may still own files and processes.
      expect(store.get("u", "a")).toBeUndefined();
      expect(() => store.create("u", "e", false)).toThrow(
        expect.objectContaining({ code: "unavailable" }),
      );
      expect(() => store.create("u", "a", false)).toThrow(
        expect.objectContaining({ code: "conflict" }),
      );
      store.remove(made[2]!.id);
      store.remove(made[0]!.id);
      expect(store.create("u", "e", false)?.hostUid).toBe(1_000_000);
      expect(store.create("u", "f", false)?.hostUid).toBe(1_000_002);
    } finally {
      db.close();
    }
  });

  it("the server answers 503 unavailable once every uid of its range is held", async () => {
    const base = 1_990_000_000 + randomInt(100) * 65_536;
    const server = await startTestServer({ hostUidBase: base, hostUidCount: 2 });
    try {
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
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
        "unavailable",
      );
    } finally {
      await server.close();
    }
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
    const steps = storageSteps({ sandboxesDir: root, hostUidOf: () => hostUid }, true);
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
