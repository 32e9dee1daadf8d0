/**
 * The reference server as a library: `createLuminaServer` opens the registry in a data
 * directory, picks the sandbox backend, and serves CONTRACT §3 over HTTP. Used by
 * server/main.ts (the CLI), the tests and the demo.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { serve } from "@hono/node-server";
import { digestApiKey, generateApiKey, isUserName, parseApiKeyList } from "./auth/api-keys.ts";
import { createAuthenticator } from "./auth/authenticate.ts";
import { createApp } from "./http/app.ts";
import { createSandboxService } from "./http/sandbox-service.ts";
import type { SandboxLimits } from "./sandbox/backend.ts";
import { createBubblewrapBackend } from "./sandbox/bubblewrap.ts";
import { SandboxManager } from "./sandbox/manager.ts";
import { createUnisolatedBackend } from "./sandbox/unisolated.ts";
import { createToolSessions, defaultSessionIdleMs } from "./sessions/tool-sessions.ts";
import { openRegistry } from "./store/database.ts";
import { createKeyStore } from "./store/keys.ts";
import { createSandboxStore, hostUidBlockSize } from "./store/sandboxes.ts";
import { createReadRecordStore, createToolSessionStore } from "./store/sessions.ts";
import { pdfParserUids } from "./tools/pdf.ts";

/** Options of `createLuminaServer`. */
export interface LuminaServerOptions {
  /** Where the registry and every sandbox's storage live. */
  dataDir: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /** `none` runs sandboxes unisolated (development only). @default "bubblewrap" */
  isolation?: "bubblewrap" | "none";
  /** The bwrap binary. @default "/usr/bin/bwrap" */
  bwrapPath?: string;
  /** `user:key,user:key` pairs to add to the key registry (as in `LUMINA_API_KEYS`). */
  apiKeys?: string;
  /** Enables HS256 JWTs whose `sub` is the user. */
  jwtSecret?: string;
  /** Allowed CORS origins. @default ["*"] */
  corsOrigins?: string[];
  /** The largest request body, in bytes. @default 16 MiB */
  bodyLimit?: number;
  /** Keep-alive interval of long bash answers, in ms. @default 10000 */
  heartbeatMs?: number;
  /** Idle time after which a tool session expires, in ms. @default 8 hours */
  sessionIdleMs?: number;
  /** Tool calls in flight per user. @default 64 */
  maxRequestsPerUser?: number;
  /** Waiting `bash_output` polls per user. @default 32 */
  maxLongPollsPerUser?: number;
  /**
   * Bytes of answers made but not yet read by their client, per user: past it, reads answer
   * 429 until the client reads or hangs up. A single answer of any size is always allowed.
   * @default 128 MiB
   */
  maxAnswerBytesPerUser?: number;
  /** Sandboxes one user may have (each can take its full limits). @default 32 */
  maxSandboxesPerUser?: number;
  /** The first host uid handed to a sandbox. @default a block of 65536 above 200000 picked by the data directory's path */
  hostUidBase?: number;
  /**
   * Per-sandbox resource limits (see `defaultLimits`). `diskSize` is the `/home/user` quota,
   * fixed when a sandbox is created (0: none); `maxCpus` caps a sandbox's CPU time in cores.
   */
  limits?: Partial<SandboxLimits>;
  /** Where log lines go. @default console.error */
  log?: (line: string) => void;
}

/** A running server. */
export interface LuminaServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  /** The key created for `admin` on a first start with no key anywhere; shown once. */
  adminKey?: string;
  /** Mints and registers a new API key for `user`, returning it (only its digest is stored). */
  addUserKey(user: string): string;
  /** Stops every sandbox, the HTTP server and the registry. */
  close(): Promise<void>;
}

/**
 * The first host uid of a data directory: a block of 65536 uids picked by the directory's path,
 * so two servers on one host (tests, a demo beside a real server) do not share sandbox uids and
 * with them their process limits.
 */
function hostUidBaseOf(dataDir: string): number {
  const block = createHash("sha256").update(dataDir).digest().readUInt32BE(0) % 30_000;
  return 200_000 + block * 65_536;
}

/**
 * The default per-sandbox limits: an 8 GiB home, and every core but one, so a busy sandbox
 * always leaves one to the server (one core on a single-core host).
 */
export const defaultLimits: SandboxLimits = {
  maxProcesses: 512,
  maxFileSize: 4 * 1024 ** 3,
  maxMemory: 2 * 1024 ** 3,
  tmpSize: 256 * 1024 ** 2,
  diskSize: 8 * 1024 ** 3,
  maxCpus: Math.max(1, availableParallelism() - 1),
};

const version = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

/**
 * Starts the server and resolves once it listens.
 *
 * @example
 * const server = await createLuminaServer({ dataDir: "./.lumina-data", port: 0 });
 * console.log(server.url, server.adminKey);
 */
export async function createLuminaServer(options: LuminaServerOptions): Promise<LuminaServer> {
  const dataDir = resolve(options.dataDir);
  const uidBase = options.hostUidBase ?? hostUidBaseOf(dataDir);
  // A sandbox sharing the parsers' uid could read or signal other users' PDFs being parsed.
  if (pdfParserUids.some((uid) => uid >= uidBase && uid < uidBase + hostUidBlockSize)) {
    throw new Error(
      `hostUidBase ${uidBase} puts sandbox uids over the PDF parsers' uids (${pdfParserUids.join(", ")}); pick a base above them`,
    );
  }
  const log = options.log ?? ((line: string) => console.error(line));
  const db = openRegistry(dataDir);
  const keys = createKeyStore(db);
  for (const { user, key } of parseApiKeyList(options.apiKeys ?? ""))
    keys.add(user, digestApiKey(key));
  let adminKey: string | undefined;
  if (keys.count() === 0) {
    adminKey = generateApiKey();
    keys.add("admin", digestApiKey(adminKey));
  }
  const backend =
    options.isolation === "none"
      ? createUnisolatedBackend({ log })
      : createBubblewrapBackend({
          log,
          ...(options.bwrapPath ? { bwrapPath: options.bwrapPath } : {}),
        });
  const manager = new SandboxManager(backend);
  const sessionStore = createToolSessionStore(db);
  const sandboxes = createSandboxService({
    store: createSandboxStore(db, uidBase),
    sessions: sessionStore,
    control: manager,
    sandboxesDir: join(dataDir, "sandboxes"),
    limits: { ...defaultLimits, ...options.limits },
    maxSandboxesPerUser: options.maxSandboxesPerUser ?? 32,
  });
  const sessions = createToolSessions({
    store: sessionStore,
    sandboxes,
    idleMs: options.sessionIdleMs ?? defaultSessionIdleMs,
    log,
  });
  const app = createApp({
    version,
    authenticator: createAuthenticator(keys, options.jwtSecret || undefined),
    sandboxes,
    sessions,
    reads: createReadRecordStore(db),
    backendKind: backend.kind,
    bodyLimit: options.bodyLimit ?? 16 * 1024 * 1024,
    heartbeatMs: options.heartbeatMs ?? 10_000,
    corsOrigins: options.corsOrigins ?? ["*"],
    maxRequestsPerUser: options.maxRequestsPerUser ?? 64,
    maxLongPollsPerUser: options.maxLongPollsPerUser ?? 32,
    maxAnswerBytesPerUser: options.maxAnswerBytesPerUser ?? 128 * 1024 ** 2,
    log,
  });

  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const started = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 8080 }, () =>
      resolveServer(started),
    );
    started.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  const result: LuminaServer = {
    url: `http://${urlHost}:${port}`,
    port,
    addUserKey(user) {
      if (!isUserName(user))
        throw new Error("a user name is 1-128 characters of A-Z a-z 0-9 . _ @ + -");
      const key = generateApiKey();
      keys.add(user, digestApiKey(key));
      return key;
    },
    close() {
      closing ??= (async () => {
        sessions.close();
        await new Promise<void>((done) => {
          server.close(() => done());
          // Long polls and heartbeat streams would hold the close open: cut them.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
        });
        await manager.stopAll();
        // Unmounts the sandboxes' disk images; the next start mounts them again.
        await backend.close?.();
        db.close();
      })();
      return closing;
    },
  };
  if (adminKey) result.adminKey = adminKey;
  return result;
}
