/**
 * The reference server as a library: `createLuminaServer` opens the registry in a data
 * directory, picks the sandbox backend, and serves CONTRACT §3 over HTTP. Used by
 * server/main.ts (the CLI), the tests and the demo. Its options are in options.ts.
 */
export { defaultLimits, type LuminaServer, type LuminaServerOptions } from "./options.ts";

import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { serve } from "@hono/node-server";
import { digestApiKey, generateApiKey, isUserName, parseApiKeyList } from "./auth/api-keys.ts";
import { createAuthenticator } from "./auth/authenticate.ts";
import { startRemovedUserReaper } from "./auth/removed-users.ts";
import { createApp } from "./http/app.ts";
import { createConnectionGuard, serverOptionsOf } from "./http/connections.ts";
import { createIdempotency } from "./http/idempotency.ts";
import { tagLogLines } from "./http/request-id.ts";
import { defaultLimits, type LuminaServer, type LuminaServerOptions } from "./options.ts";
import { backendFactoryOf } from "./sandbox/backends.ts";
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
import { createIdempotencyRecordStore } from "./store/idempotency-records.ts";
import { createKeyStore } from "./store/keys.ts";
import { defaultRegistryReserve, keepRegistryReserve } from "./store/reserve.ts";
import { createSandboxStore } from "./store/sandboxes.ts";
import { createReadRecordStore, createToolSessionStore } from "./store/sessions.ts";
import { pdfParserUids } from "./tools/pdf.ts";

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
  const bodyLimit = options.bodyLimit ?? 16 * 1024 * 1024;
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const idempotency = createIdempotency({
    store: createIdempotencyRecordStore(db),
    bodyLimit,
    heartbeatMs,
    ...(options.idempotencyClock ? { now: options.idempotencyClock } : {}),
    log,
  });
  const app = createApp({
    version,
    authenticator: createAuthenticator(keys, options.jwtSecret || undefined),
    sandboxes,
    sessions,
    reads: createReadRecordStore(db),
    backendKind: backend.kind,
    bodyLimit,
    heartbeatMs,
    corsOrigins: options.corsOrigins ?? ["*"],
    maxRequestsPerUser: options.maxRequestsPerUser ?? 64,
    maxLongPollsPerUser: options.maxLongPollsPerUser ?? 32,
    connections,
    maxAnswerBytesPerUser: options.maxAnswerBytesPerUser ?? 128 * 1024 ** 2,
    idempotent: idempotency.middleware,
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
    sweepIdempotencyKeys: () => idempotency.sweep(),
    close() {
      closing ??= (async () => {
        sessions.close();
        idempotency.close();
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
