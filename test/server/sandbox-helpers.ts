/**
 * Helpers for the sandbox, file-tool and security tests: a client on a fresh sandbox of the real
 * test server, the host directory behind a sandbox's home, and a sandbox started straight on
 * the bubblewrap backend (no HTTP) for what only the host side can check.
 */
import { randomInt } from "node:crypto";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { SandboxRuntime, SandboxSpec } from "../../server/sandbox/backend.ts";
import { createBubblewrapBackend } from "../../server/sandbox/bubblewrap.ts";
import { SandboxManager } from "../../server/sandbox/manager.ts";
import { createStartedCommandBook } from "../../server/sessions/started-commands.ts";
import type { HostUidTable } from "../../server/store/host-uids.ts";
import type { FileStamp, ReadRecordStore, ToolContext } from "../../server/tools/context.ts";
import { createClient, isToolError, type LuminaClient } from "../../src/index.ts";
import { randomSandboxName, type TestServer } from "../support/server.ts";

/** A client on a new, eagerly started sandbox of `server`. */
export async function newSandboxClient(
  server: TestServer,
  token = server.token,
  prefix = "f",
): Promise<LuminaClient> {
  const client = createClient({ baseUrl: server.url, token, sandbox: randomSandboxName(prefix) });
  await client.createSandbox({ eager: true });
  return client;
}

/** A second client (another tool session) on the same sandbox. */
export function sameSandboxClient(server: TestServer, client: LuminaClient): LuminaClient {
  return createClient({ baseUrl: server.url, token: server.token, sandbox: client.sandbox });
}

/** The host directory behind a sandbox's `/home/user`: found by a marker file the sandbox writes. */
export async function hostHomeOf(server: TestServer, client: LuminaClient): Promise<string> {
  const marker = `.marker-${randomInt(1e9)}`;
  await client.write(`/home/user/${marker}`, "x");
  const root = join(server.dataDir, "sandboxes");
  for (const id of await readdir(root)) {
    const home = join(root, id, "home");
    if (await stat(join(home, marker)).catch(() => undefined)) {
      await rm(join(home, marker));
      return home;
    }
  }
  throw new Error("the sandbox's home was not found under the data directory");
}

/** Expects a promise to reject with a ToolError of that status and code; returns its message. */
export async function expectToolError(
  promise: Promise<unknown>,
  statusCode: number,
  code: string,
): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isToolError(error), `expected a ToolError, got ${String(error)}`).toBe(true);
  const toolError = error as { statusCode: number; code: string; message: string };
  expect({ statusCode: toolError.statusCode, code: toolError.code }).toEqual({ statusCode, code });
  return toolError.message;
}

/** An in-memory read-record store, for tests that call the tool functions directly. */
export function memoryReadRecords(): ReadRecordStore {
  const records = new Map<string, FileStamp>();
  return {
    get: (session, path) => records.get(`${session}\0${path}`),
    set: (session, path, stamp) => void records.set(`${session}\0${path}`, stamp),
  };
}

/** A host uid table that holds one uid for every sandbox (tests that start one sandbox). */
export function fixedHostUid(uid: number): HostUidTable {
  return { claim: () => uid, uidOf: () => uid, release() {} };
}

/** A sandbox started directly on the bubblewrap backend, with its own temp storage and uid. */
export interface DirectSandbox {
  spec: SandboxSpec;
  /** The host directory of the sandbox's storage. */
  storageDir: string;
  /** The host uid the sandbox runs as. */
  hostUid: number;
  manager: SandboxManager;
  runtime: SandboxRuntime;
  /** A tool context for calling server/tools functions on this sandbox. */
  context(sessionKey?: string): ToolContext;
  close(): Promise<void>;
}

/** Starts a sandbox straight on the bubblewrap backend. */
export async function startDirectSandbox(): Promise<DirectSandbox> {
  const root = await mkdtemp(join(tmpdir(), "lumina-direct-"));
  // A uid no server hands out (their blocks end below 1_966_347_776).
  const hostUid = 2_000_000_000 + randomInt(100_000_000);
  const spec: SandboxSpec = {
    id: `direct-${randomInt(1e9)}`,
    name: "direct",
    user: "test",
    limits: {
      maxProcesses: 128,
      maxFileSize: 64 * 1024 ** 2,
      maxMemory: 1024 ** 3,
      tmpSize: 32 * 1024 ** 2,
    },
  };
  const sandboxesDir = join(root, "sandboxes");
  const manager = new SandboxManager(
    createBubblewrapBackend({ sandboxesDir, hostUids: fixedHostUid(hostUid) }),
  );
  const runtime = await manager.ensureRunning(spec);
  const reads = memoryReadRecords();
  const started = createStartedCommandBook(100);
  return {
    spec,
    storageDir: join(sandboxesDir, spec.id),
    hostUid,
    manager,
    runtime,
    context: (sessionKey = "session") => ({
      runtime,
      user: "direct",
      sessionKey,
      sessionId: sessionKey,
      reads,
      started: started.forSession("direct", sessionKey),
      signal: new AbortController().signal,
    }),
    async close() {
      await manager.destroy(spec);
      await rm(root, { recursive: true, force: true });
    },
  };
}
