/**
 * Each backend's `preflight` owns its start-time checks: the bubblewrap backend finds bwrap on
 * PATH and refuses a host where it cannot run, saying what to install; the unisolated backend
 * warns on every start. The server (and its CLI) only asks the backend. Needs no root.
 */
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { SandboxBackend } from "../../server/sandbox/backend.ts";
import { backendFactoryOf } from "../../server/sandbox/backends.ts";
import { findOnPath } from "../../server/sandbox/bubblewrap-preflight.ts";
import type { HostUidTable } from "../../server/store/host-uids.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lumina-preflight-"));
  dirs.push(dir);
  return dir;
}

const noUids: HostUidTable = {
  claim: () => {
    throw new Error("preflight claims no uid");
  },
  uidOf: () => undefined,
  release: () => {},
};

async function backendOf(kind: string, lines: string[], bwrapPath?: string) {
  const backend: SandboxBackend = backendFactoryOf(kind)({
    dataDir: await tempDir(),
    log: (line) => lines.push(line),
    requireLimits: false,
    diskQuota: false,
    diskOvercommit: 1,
    hostUids: noUids,
    ...(bwrapPath ? { bwrapPath } : {}),
  });
  return backend;
}

describe("backend preflight", () => {
  it("the bubblewrap backend refuses a host without bwrap, saying how to install it", async () => {
    const missing = join(await tempDir(), "bwrap");
    const backend = await backendOf("bubblewrap", [], missing);
    const refusal = backend.preflight?.();
    await expect(refusal).rejects.toThrow(/apt-get install bubblewrap/);
    await expect(refusal).rejects.toThrow(/--isolation none/);
  });

  it("finds the first executable bwrap on PATH, skipping a non-executable one", async () => {
    const [first, second] = [await tempDir(), await tempDir()];
    await writeFile(join(first, "bwrap"), "not executable\n");
    await writeFile(join(second, "bwrap"), "#!/bin/sh\n");
    await chmod(join(second, "bwrap"), 0o755);
    expect(await findOnPath("bwrap", `${first}::${second}`)).toBe(join(second, "bwrap"));
    expect(await findOnPath("bwrap", first)).toBeUndefined();
  });

  it("the unisolated backend warns on every start that nothing is isolated", async () => {
    const lines: string[] = [];
    const backend = await backendOf("none", lines);
    await backend.preflight?.();
    await backend.preflight?.();
    expect(lines.filter((line) => /WARNING: --isolation none/.test(line))).toHaveLength(2);
  });
});
