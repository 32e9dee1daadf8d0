/**
 * The reference server as a library: `createLuminaServer` opens the registry in a data
 * directory, picks the sandbox backend, and serves CONTRACT §3 over HTTP. Used by
 * server/main.ts (the CLI), the tests and the demo.
 */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { digestApiKey, generateApiKey, isUserName, parseApiKeyList } from "./auth/api-keys.ts";
import { createAuthenticator } from "./auth/authenticate.ts";
import { startRemovedUserReaper } from "./auth/removed-users.ts";
import { createApp } from "./http/app.ts";
import { createConnectionGuard, serverOptionsOf } from "./http/connections.ts";
import type { RateLimitOptions } from "./http/rate-limit.ts";
import { tagLogLines } from "./http/request-id.ts";
import type { SandboxLimits } from "./sandbox/backend.ts";
import { backendFactoryOf } from "./sandbox/backends.ts";
import type { CgroupDriver } from "./sandbox/cgroup.ts";
import { defaultDescriptorReserve, descriptorUsage } from "./sandbox/descriptors.ts";
import { SandboxManager } from "./sandbox/manager.ts";
import { createSandboxService } from "./sandboxes/service.ts";
import { createToolSessions, defaultSessionIdleMs } from "./sessions/tool-sessions.ts";
import { openRegistry } from "./store/database.ts";
import {
  createHostUidTable,
  type HostUidTable,
  hostUidBaseOf,
  hostUidBlockSize,
} from "./store/host-uids.ts";
import { createKeyStore } from "./store/keys.ts";
import { defaultRegistryReserve, keepRegistryReserve } from "./store/reserve.ts";
import { createSandboxStore } from "./store/sandboxes.ts";
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
  /**
   * The backend sandboxes run on, by its key in `backendFactories` (server/sandbox/backends.ts):
   * `bubblewrap`, or `none` for unisolated (development only). @default "bubblewrap"
   */
  isolation?: string;
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
  /** The clock of tool session expiry, in ms (tests pass idle time with it). @default Date.now */
  sessionClock?: () => number;
  /** Live tool sessions per user; a new session id past it gets 429. @default 256 */
  maxSessionsPerUser?: number;
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
  /** How many host uids from `hostUidBase` sandboxes may hold at once. @default 65536 */
  hostUidCount?: number;
  /** Sandbox creations per user: a burst, then a steady rate. @default 20 at once, then 4 per second */
  createRate?: RateLimitOptions;
  /**
   * Per-sandbox resource limits (see `defaultLimits`). `diskSize` is the `/home/user` quota,
   * fixed when a sandbox is created (0: none); `maxCpus` caps a sandbox's CPU time in cores.
   */
  limits?: Partial<SandboxLimits>;
  /**
   * How many times the data filesystem's free space sandbox disk images may promise: a new
   * image is refused (507 `disk_full`) when the sizes of all images minus the blocks they already
   * hold, plus the new one, exceed the free space times this. Above 1 a full data disk is
   * possible; the registry then lives on its reserve. @default 1
   */
  diskOvercommit?: number;
  /**
   * Bytes of free pages the registry keeps inside its own file, so it goes on working when the
   * data disk is full; topped up when half is used and the disk has room. @default 16 MiB
   */
  registryReserve?: number;
  /**
   * Whether new sandboxes get a disk quota of `limits.diskSize`. Only this turns quotas off: a
   * failure to make one fails that start with a 503 instead; a host where loop-mounted images
   * cannot work at all is found at start-up and logged loudly. @default true
   */
  diskQuota?: boolean;
  /**
   * File descriptors that must be free for a sandbox start to begin; with fewer the start
   * answers 503 (`unavailable`) instead of failing half-way. 0 turns the check off. @default 64
   */
  descriptorReserve?: number;
  /** Time a new connection has to send a request's headers, in ms. @default 15000 */
  headersTimeoutMs?: number;
  /** Time a connection has to send a whole request, body included, in ms. @default 120000 */
  requestTimeoutMs?: number;
  /** Time an idle keep-alive connection stays open between requests, in ms. @default 5000 */
  keepAliveTimeoutMs?: number;
  /**
   * Open HTTP connections in all; new ones beyond it are closed at once. @default half of
   * RLIMIT_NOFILE at start (at least 64), so connections can never take every descriptor
   */
  maxConnections?: number;
  /**
   * Connections one client address may hold before any of them authenticates; beyond it new
   * ones are closed at once. A connection stops counting once a request on it authenticates,
   * so long-polls of a signed-in user are bounded by the per-user limits instead. @default 128
   */
  maxUnauthenticatedConnectionsPerAddress?: number;
  /** Where log lines go. @default console.error */
  log?: (line: string) => void;
  /**
   * Refuse to start (throw) when the memory, pids or cpu limit cannot be applied to sandboxes
   * here (always so with `isolation: "none"`), and fail a sandbox's start that could not get
   * them; without it the server logs one warning naming the missing limits. @default false
   */
  requireLimits?: boolean;
  /** How sandboxes get their cgroups (tests; unusual hosts). @default probed from /proc/self/mountinfo */
  cgroups?: CgroupDriver;
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
  /** Expires idle tool sessions now, as the timer would (tests pair it with `sessionClock`). */
  sweepSessions(): Promise<void>;
  /** Stops every sandbox, the HTTP server and the registry. */
  close(): Promise<void>;
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
  const uidCount = options.hostUidCount ?? hostUidBlockSize;
  // A sandbox sharing the parsers' uid could read or signal other users' PDFs being parsed.
  if (pdfParserUids.some((uid) => uid >= uidBase && uid < uidBase + uidCount)) {
    throw new Error(
      `hostUidBase ${uidBase} puts sandbox uids over the PDF parsers' uids (${pdfParserUids.join(", ")}); pick a base above them`,
    );
  }
  const log = tagLogLines(options.log ?? ((line: string) => console.error(line)));
  // The backend is made before the registry opens (its preflight may refuse the start), and
  // uses the uid table only later, once sandboxes exist.
  let uidTable: HostUidTable | undefined;
  const uids = (): HostUidTable => {
    if (!uidTable) throw new Error("the registry is not open yet");
    return uidTable;
  };
  const backend = backendFactoryOf(options.isolation ?? "bubblewrap")({
    dataDir,
    log,
    requireLimits: options.requireLimits ?? false,
    diskQuota: options.diskQuota ?? true,
    diskOvercommit: options.diskOvercommit ?? 1,
    hostUids: {
      claim: (id) => uids().claim(id),
      uidOf: (id) => uids().uidOf(id),
      release: (id) => uids().release(id),
    },
    ...(options.cgroups ? { cgroups: options.cgroups } : {}),
    ...(options.bwrapPath ? { bwrapPath: options.bwrapPath } : {}),
  });
  // Before anything is opened: a refusal leaves nothing behind.
  await backend.preflight?.();
  const registryReserve = options.registryReserve ?? defaultRegistryReserve;
  const db = openRegistry(dataDir, registryReserve);
  // Legitimate growth eats the reserve; it is refilled while the disk has room.
  const reserveTimer = setInterval(() => {
    try {
      keepRegistryReserve(db, registryReserve);
    } catch (error) {
      log(`lumina: could not top up the registry's reserve: ${String(error)}`);
    }
  }, 60_000);
  reserveTimer.unref();
  uidTable = createHostUidTable(db, uidBase, uidCount);
  const keys = createKeyStore(db);
  for (const { user, key } of parseApiKeyList(options.apiKeys ?? "")) {
    keys.add(user, digestApiKey(key));
    // Only `add-key` restores a removed user: a stale key list must not bring it back.
    if (keys.isRemoved(user)) log(`LUMINA_API_KEYS names user ${user}, which was removed: refused`);
  }
  let adminKey: string | undefined;
  if (keys.count() === 0) {
    adminKey = generateApiKey();
    keys.add("admin", digestApiKey(adminKey));
  }
  // Once, at start: what the host supports is decided here, never by one failed start.
  await backend.init?.();
  const manager = new SandboxManager(backend, {
    descriptorReserve: options.descriptorReserve ?? defaultDescriptorReserve,
    log,
  });
  const connectionLimits = {
    headersTimeoutMs: options.headersTimeoutMs ?? 15_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 5_000,
    maxConnections:
      options.maxConnections ?? Math.max(64, Math.floor((descriptorUsage()?.limit ?? 2048) / 2)),
    maxUnauthenticatedPerAddress: options.maxUnauthenticatedConnectionsPerAddress ?? 128,
  };
  const connections = createConnectionGuard(connectionLimits, log);
  const sessionStore = createToolSessionStore(db);
  const sandboxes = createSandboxService({
    store: createSandboxStore(db),
    sessions: sessionStore,
    control: manager,
    limits: { ...defaultLimits, ...options.limits },
    maxSandboxesPerUser: options.maxSandboxesPerUser ?? 32,
    ...(options.createRate ? { createRate: options.createRate } : {}),
    log,
  });
  // Destroys a crash cut short are finished before anyone can call.
  await sandboxes.recover();
  const sessions = createToolSessions({
    store: sessionStore,
    sandboxes,
    idleMs: options.sessionIdleMs ?? defaultSessionIdleMs,
    ...(options.sessionClock ? { now: options.sessionClock } : {}),
    ...(options.maxSessionsPerUser !== undefined
      ? { maxSessionsPerUser: options.maxSessionsPerUser }
      : {}),
    log,
  });
  const reaper = startRemovedUserReaper({ keys, sandboxes, log });
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
    connections,
    maxAnswerBytesPerUser: options.maxAnswerBytesPerUser ?? 128 * 1024 ** 2,
    log,
  });

  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const started = serve(
      {
        fetch: app.fetch,
        hostname: host,
        port: options.port ?? 8080,
        serverOptions: serverOptionsOf(connectionLimits),
      },
      () => resolveServer(started),
    );
    started.once("error", reject);
  });
  connections.attach(server as Server);
  // After listening, an error is a failed accept (EMFILE): that one connection is lost, not the server.
  server.on("error", (error: Error) => log(`lumina: HTTP server: ${error.message}`));
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
    sweepSessions: () => sessions.sweep(),
    close() {
      closing ??= (async () => {
        sessions.close();
        clearInterval(reserveTimer);
        await reaper.close();
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
