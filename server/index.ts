/**
 * The reference server as a library: `createLuminaServer` opens the registry in a data
 * directory, picks the sandbox backend, and serves CONTRACT §3 over HTTP. Used by
 * server/main.ts (the CLI), the tests and the demo. Its options are in options.ts.
 */
export { defaultLimits, type LuminaServer, type LuminaServerOptions } from "./options.ts";

import { readFileSync } from "node:fs";
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerOptions,
} from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import type { Duplex } from "node:stream";
import { serve } from "@hono/node-server";
import { digestApiKey, generateApiKey, isUserName, parseApiKeyList } from "./auth/api-keys.ts";
import { createAuthenticator } from "./auth/authenticate.ts";
import { startRemovedUserReaper } from "./auth/removed-users.ts";
import { createApp } from "./http/app.ts";
import { createConnectionGuard, serverOptionsOf } from "./http/connections.ts";
import { createIdempotency } from "./http/idempotency.ts";
import { createPreviewProxy } from "./http/preview-proxy.ts";
import { tagLogLines } from "./http/request-id.ts";
import { defaultLimits, type LuminaServer, type LuminaServerOptions } from "./options.ts";
import { createPreviewService, type PreviewOrigin } from "./previews/service.ts";
import { createPreviewStore } from "./previews/store.ts";
import { backendFactoryOf, defaultBackendKind } from "./sandbox/backends.ts";
import { defaultDescriptorReserve, descriptorUsage } from "./sandbox/descriptors.ts";
import { SandboxManager } from "./sandbox/manager.ts";
import { resourcesOf } from "./sandboxes/resources.ts";
import { createSandboxService, type SandboxService } from "./sandboxes/service.ts";
import { createSnapshotService, defaultMaxSnapshotsPerUser } from "./sandboxes/snapshots.ts";
import { createWarmPool, loadHoldOff } from "./sandboxes/warm-pool.ts";
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
import { createNetworkPolicyStore } from "./store/networks.ts";
import { defaultRegistryReserve, keepRegistryReserve } from "./store/reserve.ts";
import { createSandboxActivityStore } from "./store/sandbox-activity.ts";
import { createSandboxResourceStore } from "./store/sandbox-resources.ts";
import { createSandboxStore } from "./store/sandboxes.ts";
import { createReadRecordStore, createToolSessionStore } from "./store/sessions.ts";
import { createSnapshotStore } from "./store/snapshots.ts";
import { createWarmPoolStore } from "./store/warm-pool.ts";
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
  const backend = backendFactoryOf(options.isolation ?? defaultBackendKind)({
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
  const limits = { ...defaultLimits, ...options.limits };
  const sandboxStore = createSandboxStore(db);
  const pool = createWarmPool({
    size: options.warmPool ?? 2,
    control: manager,
    store: createWarmPoolStore(db),
    limits,
    isTaken: (id) => sandboxStore.has(id),
    holdOff: loadHoldOff(options.warmPoolLoadLimit ?? 1),
    log,
  });
  const previewDomain = (options.previewDomain ?? "localhost").toLowerCase();
  let previewOrigin: PreviewOrigin | undefined;
  const previews = createPreviewService({
    store: createPreviewStore(db),
    origin: () => previewOrigin ?? { domain: previewDomain, port: 0 },
    ...(options.previewClock ? { now: options.previewClock } : {}),
  });
  const sandboxes = withPreviewRevocation(
    createSandboxService({
      store: sandboxStore,
      sessions: sessionStore,
      control: manager,
      limits,
      activity: createSandboxActivityStore(db),
      resources: createSandboxResourceStore(db),
      maxResources: { ...resourcesOf(limits), ...options.maxResources },
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.idleClock ? { idleClock: options.idleClock } : {}),
      pool,
      networks: createNetworkPolicyStore(db),
      defaultNetwork: { egress: options.egress ?? "internet" },
      maxSandboxesPerUser: options.maxSandboxesPerUser ?? 32,
      ...(options.createRate ? { createRate: options.createRate } : {}),
      log,
    }),
    previews.revokeSandbox,
  );
  const snapshots = createSnapshotService({
    store: createSnapshotStore(db),
    sandboxes,
    control: manager,
    maxPerUser: options.maxSnapshotsPerUser ?? defaultMaxSnapshotsPerUser,
    log,
  });
  // Destroys a crash cut short are finished before anyone can call.
  await sandboxes.recover();
  await snapshots.recover();
  // Environments a stop left behind go before new ones are prepared.
  await pool.start();
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
  const reaper = startRemovedUserReaper({ keys, sandboxes, snapshots, log });
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
    snapshots,
    previews,
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
    cancelCall: idempotency.cancel,
    log,
  });

  // Previews are dispatched before the app: they carry no Lumina credentials and never reach it.
  const previewProxy = createPreviewProxy({
    previews,
    runtimeOf: (preview) => sandboxes.runningRuntime(preview.sandboxId, preview.user),
    begin: (preview) => sandboxes.begin({ id: preview.sandboxId }),
    previewDomain,
    log,
  });
  const createPreviewingServer = (serverOptions: ServerOptions, app: RequestListener) =>
    createServer(serverOptions, (req, res) => {
      if (!previewProxy.handleRequest(req, res)) void app(req, res);
    });

  const host = options.host ?? "127.0.0.1";
  const server = await new Promise<ReturnType<typeof serve>>((resolveServer, reject) => {
    const started = serve(
      {
        fetch: app.fetch,
        hostname: host,
        port: options.port ?? 8080,
        serverOptions: serverOptionsOf(connectionLimits),
        createServer: createPreviewingServer as typeof createServer,
      },
      () => resolveServer(started),
    );
    started.once("error", reject);
  });
  connections.attach(server as Server);
  // The API has no WebSocket route: an upgrade is a preview's or nobody's.
  const upgraded = new Set<Duplex>();
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgraded.add(socket);
    socket.once("close", () => upgraded.delete(socket));
    if (!previewProxy.handleUpgrade(req, socket, head)) socket.destroy();
  });
  // After listening, an error is a failed accept (EMFILE): that one connection is lost, not the server.
  server.on("error", (error: Error) => log(`lumina: HTTP server: ${error.message}`));
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  previewOrigin = { domain: previewDomain, port };

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
    sweepIdle: () => sandboxes.sweepIdle(),
    warmPoolFilled: () => pool.filled(),
    sweepIdempotencyKeys: () => idempotency.sweep(),
    close() {
      closing ??= (async () => {
        sessions.close();
        sandboxes.close();
        idempotency.close();
        clearInterval(reserveTimer);
        await reaper.close();
        await new Promise<void>((done) => {
          server.close(() => done());
          // Long polls and heartbeat streams would hold the close open: cut them.
          (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          for (const socket of upgraded) socket.destroy();
        });
        await pool.close();
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

/** The service with every preview of a sandbox revoked when it restarts or is destroyed. */
function withPreviewRevocation(
  service: SandboxService,
  revoke: (sandboxId: string) => void,
): SandboxService {
  return {
    ...service,
    async restart(record) {
      revoke(record.id);
      await service.restart(record);
    },
    async destroy(record) {
      revoke(record.id);
      await service.destroy(record);
    },
  };
}
