/**
 * Sandboxes as users see them: the registry's records joined with the manager's view of what
 * runs. Every lookup is scoped to the caller, so another user's sandbox is simply not found.
 */
import { ServerError } from "../errors.ts";
import type { NetworkPolicy } from "../network/policy.ts";
import type { SandboxLimits, SandboxRuntime, SandboxSpec } from "../sandbox/backend.ts";
import type { NetworkPolicyStore } from "../store/networks.ts";
import type { SandboxActivityStore } from "../store/sandbox-activity.ts";
import type { ResourceRequest, SandboxResourceStore } from "../store/sandbox-resources.ts";
import type { SandboxRecord, SandboxStore } from "../store/sandboxes.ts";
import type { ToolSessionStore } from "../store/sessions.ts";
import { createIdleTracker, defaultIdleTimeoutMs } from "./idle.ts";
import { createRateLimit, type RateLimitOptions } from "./rate-limit.ts";
import { checkResources, limitsWith, type ResourceMaxima, resourcesOf } from "./resources.ts";
import type { WarmPool } from "./warm-pool.ts";

/** What the sandbox service needs of `SandboxManager` (server/sandbox/manager.ts). */
export interface SandboxControl {
  /** Claims the new sandbox's storage (the backend's `create`). */
  create(spec: SandboxSpec): void | Promise<void>;
  /** Whether the sandbox's storage is there (the backend's `hasStorage`). */
  hasStorage(spec: SandboxSpec): boolean | Promise<boolean>;
  ensureRunning(spec: SandboxSpec): Promise<SandboxRuntime>;
  status(id: string): "starting" | "running" | "stopped";
  /** Ends the sandbox's processes if `onlyIf()` holds at its turn; its storage stays (idle stop). */
  stop(id: string, onlyIf?: () => boolean): Promise<void>;
  restart(spec: SandboxSpec): Promise<SandboxRuntime>;
  destroy(spec: SandboxSpec): Promise<void>;
  /** Copies the sandbox's home into a snapshot, between its lifecycle steps; resolves to its bytes. */
  snapshotHome(spec: SandboxSpec, snapshotId: string): Promise<number>;
  /** Makes a snapshot the home of a new sandbox before its first start. */
  restoreHome(spec: SandboxSpec, snapshotId: string, consume: boolean): Promise<void>;
  /** Deletes a snapshot's files. */
  deleteSnapshot(snapshotId: string): Promise<void>;
  /** Applies `spec.network` to the sandbox if it runs. */
  updateNetwork(spec: SandboxSpec): Promise<void>;
}

/** A snapshot that a new sandbox's home starts from (`consume`: used up by it, as a fork's is). */
export interface HomeSeed {
  snapshotId: string;
  consume: boolean;
}

/** A sandbox on the wire. */
export interface SandboxView {
  name: string;
  status: "starting" | "running" | "stopped";
  created_at: string;
  /** Idle time in ms after which it stops; 0: never. */
  idle_timeout: number;
  /** ISO 8601. */
  last_activity_at: string;
  resources: { cpus: number; memory_mb: number; disk_mb: number };
  network: NetworkPolicy;
}

/** How a sandbox is created. */
export interface CreateSandboxRequest {
  eager: boolean;
  /** @default the server's idle timeout */
  idleTimeoutMs?: number | undefined;
  resources?: ResourceRequest | undefined;
  /** The snapshot its home starts as. @default a fresh home */
  seed?: HomeSeed | undefined;
  /** @default the server's policy */
  network?: NetworkPolicy | undefined;
}

/** The sandbox lifecycle, scoped by user. */
export interface SandboxService {
  create(user: string, name: string, request: CreateSandboxRequest): Promise<SandboxRecord>;
  /** The user's sandbox of that name; 404 otherwise (also when another user has one). */
  find(user: string, name: string): SandboxRecord;
  list(user: string): SandboxRecord[];
  view(record: SandboxRecord): SandboxView;
  ensureRunning(record: SandboxRecord): Promise<SandboxRuntime>;
  restart(record: SandboxRecord): Promise<void>;
  /** Stores the sandbox's new egress policy and applies it if the sandbox runs. */
  updateNetwork(record: SandboxRecord, policy: NetworkPolicy): Promise<void>;
  destroy(record: SandboxRecord): Promise<void>;
  /** The running runtime of a sandbox, without starting it. */
  runningRuntime(sandboxId: string, user: string): Promise<SandboxRuntime | undefined>;
  /** Counts a request for the sandbox in flight, as activity until it ends; returns its end. */
  begin(record: Pick<SandboxRecord, "id">): () => void;
  /** Stops every sandbox idle past its timeout now, as the timer would. */
  sweepIdle(): Promise<void>;
  /** Copies the sandbox's home into snapshot `snapshotId`; resolves to the bytes it takes. */
  snapshotHome(record: SandboxRecord, snapshotId: string): Promise<number>;
  /** Finishes every destroy a crash interrupted (the server's start, before it serves). */
  recover(): Promise<void>;
  /** Stops the idle timer. */
  close(): void;
}

/** How fast one user may create sandboxes, unless configured. */
export const defaultCreateRate: RateLimitOptions = { burst: 20, perSecond: 4 };

/** Creates the sandbox service. */
export function createSandboxService(options: {
  store: SandboxStore;
  sessions: ToolSessionStore;
  control: SandboxControl;
  limits: SandboxLimits;
  activity: SandboxActivityStore;
  resources: SandboxResourceStore;
  /** Where each sandbox's egress policy is kept. */
  networks: NetworkPolicyStore;
  /** The policy of a sandbox created without one. @default { egress: "internet" } */
  defaultNetwork?: NetworkPolicy;
  /** The most a sandbox may ask for. @default the resources of `limits` */
  maxResources?: ResourceMaxima;
  /** The idle timeout of a sandbox created without one, in ms. @default defaultIdleTimeoutMs */
  idleTimeoutMs?: number;
  /** The idle sweep's clock, in ms. @default Date.now */
  idleClock?: () => number;
  /** Prepared environments for eager creates that ask for no resources. */
  pool?: WarmPool;
  /** The most sandboxes one user may have; each can take its full limits. @default 32 */
  maxSandboxesPerUser?: number;
  /** Sandbox creations per user. @default defaultCreateRate */
  createRate?: RateLimitOptions;
  /** Where recovery notes go. @default nowhere */
  log?: (line: string) => void;
}): SandboxService {
  const { store, sessions, control, networks } = options;
  const defaultNetwork = options.defaultNetwork ?? { egress: "internet" };
  const networkOf = (id: string) => networks.get(id) ?? defaultNetwork;
  const log = options.log ?? (() => {});
  const createLimit = createRateLimit(options.createRate ?? defaultCreateRate, "sandbox creations");
  const byId = new Map<string, SandboxRecord>();
  // Ids deleted (or being deleted): a tool call that found the record before must not revive it.
  const deleted = new Set<string>();
  const goneError = (record: SandboxRecord) =>
    new ServerError("not_found", `no sandbox named '${record.name}'; it was deleted`);
  const maxResources = options.maxResources ?? resourcesOf(options.limits);
  const limitsById = new Map<string, SandboxLimits>();
  const limitsOf = (id: string) => {
    let limits = limitsById.get(id);
    if (!limits) {
      limits = limitsWith(options.limits, options.resources.get(id));
      limitsById.set(id, limits);
    }
    return limits;
  };
  const specOf = (record: SandboxRecord): SandboxSpec => {
    byId.set(record.id, record);
    return {
      id: record.id,
      name: record.name,
      user: record.user,
      limits: limitsOf(record.id),
      network: networkOf(record.id),
    };
  };
  const idle = createIdleTracker({
    store: options.activity,
    defaultIdleTimeoutMs: options.idleTimeoutMs ?? defaultIdleTimeoutMs,
    log,
    ...(options.idleClock ? { now: options.idleClock } : {}),
    control: {
      isRunning: (id) => control.status(id) === "running" && !deleted.has(id),
      async isBusy(id) {
        const record = byId.get(id);
        const runtime = record && (await this_.runningRuntime(id, record.user));
        return runtime ? (await runtime.call("shell_any_busy", {})).busy : false;
      },
      stop: (id, stillIdle) => control.stop(id, stillIdle),
    },
  });
  // The storage is made with the record, so a missing one means its files were lost: a start
  // would bring the sandbox back empty without a word.
  const checkStorage = async (record: SandboxRecord) => {
    if (await control.hasStorage(specOf(record))) return;
    throw new ServerError(
      "conflict",
      `the files of sandbox '${record.name}' are missing on the server; destroy it and create it again (or ask the operator to restore its storage)`,
    );
  };
  // The record goes only once the teardown (which frees the host uid) finished; until then it stays
  // `destroying`, and the next start of the server finishes it.
  const finishDestroy = async (record: SandboxRecord) => {
    await control.destroy(specOf(record));
    sessions.removeForSandbox(record.id);
    idle.remove(record.id);
    options.resources.remove(record.id);
    networks.remove(record.id);
    limitsById.delete(record.id);
    store.remove(record.id);
    byId.delete(record.id);
  };
  const this_: SandboxService = {
    async create(user, name, request) {
      const { eager } = request;
      const resources = request.resources ?? {};
      checkResources(resources, maxResources);
      createLimit.take(user);
      const most = options.maxSandboxesPerUser ?? 32;
      // Counted and created in one synchronous step, so concurrent creates cannot both slip in.
      if (store.list(user).length >= most) {
        throw new ServerError(
          "conflict",
          `you already have ${most} sandboxes, the most one user may have; destroy one you no longer need, then create again`,
        );
      }
      // Only a sandbox with the server's default limits and a fresh home fits a prepared environment.
      const warmId =
        eager && !request.seed && Object.values(resources).every((value) => value === undefined)
          ? options.pool?.take()
          : undefined;
      let record: SandboxRecord | undefined;
      try {
        record = store.create(user, name, eager, warmId);
      } finally {
        // Nothing ran in it yet: it goes back untouched.
        if (warmId && !record) options.pool?.giveBack(warmId);
      }
      if (!record) {
        throw new ServerError(
          "sandbox_exists",
          `you already have a sandbox named '${name}'; pick another name or use it`,
        );
      }
      try {
        options.resources.put(record.id, resources);
        networks.set(record.id, request.network ?? defaultNetwork);
        idle.add(record.id, request.idleTimeoutMs ?? options.idleTimeoutMs ?? defaultIdleTimeoutMs);
        // In the same tick as the record (for a synchronous backend), so no destroy can run in between.
        // A warm environment's storage and uid exist already.
        if (warmId) options.pool?.adopted(warmId);
        else await control.create(specOf(record));
      } catch (error) {
        idle.remove(record.id);
        options.resources.remove(record.id);
        networks.remove(record.id);
        if (warmId) await control.destroy(specOf(record)).catch(() => {});
        store.remove(record.id);
        throw error;
      }
      try {
        if (request.seed) {
          const { snapshotId, consume } = request.seed;
          await control.restoreHome(specOf(record), snapshotId, consume);
        }
        // A warm environment runs with egress "none" until it is given its sandbox's policy.
        if (warmId) await control.updateNetwork(specOf(record));
        if (eager) await control.ensureRunning(specOf(record));
      } catch (error) {
        // A sandbox that could not start is not left behind to block a retry with a 409.
        deleted.add(record.id);
        store.markDestroying(record.id);
        await finishDestroy(record).catch((failure: unknown) =>
          log(`sandbox ${record.id}: teardown after a failed start failed: ${String(failure)}`),
        );
        throw error;
      }
      return record;
    },
    find(user, name) {
      const record = store.get(user, name);
      if (!record)
        throw new ServerError("not_found", `no sandbox named '${name}'; create it first`);
      // Every request for a sandbox passes here: that is its activity.
      idle.touch(record.id);
      return record;
    },
    list: (user) => store.list(user),
    view(record) {
      const { idleTimeoutMs, lastActivityMs } = idle.info(record.id);
      const { cpus, memoryMb, diskMb } = resourcesOf(limitsOf(record.id));
      return {
        name: record.name,
        status: control.status(record.id),
        created_at: record.createdAt,
        idle_timeout: idleTimeoutMs,
        last_activity_at: new Date(lastActivityMs).toISOString(),
        resources: { cpus, memory_mb: memoryMb, disk_mb: diskMb },
        network: networkOf(record.id),
      };
    },
    async updateNetwork(record, policy) {
      if (deleted.has(record.id)) throw goneError(record);
      networks.set(record.id, policy);
      await control.updateNetwork(specOf(record));
    },
    begin: (record) => idle.begin(record.id),
    sweepIdle: () => idle.sweep(),
    close: () => idle.close(),
    async snapshotHome(record, snapshotId) {
      if (deleted.has(record.id)) throw goneError(record);
      await checkStorage(record);
      return control.snapshotHome(specOf(record), snapshotId);
    },
    async ensureRunning(record) {
      if (!deleted.has(record.id)) {
        if (control.status(record.id) !== "running") await checkStorage(record);
        try {
          const runtime = await control.ensureRunning(specOf(record));
          if (!deleted.has(record.id)) return runtime;
        } catch (error) {
          if (!deleted.has(record.id)) throw error;
        }
      }
      // The call raced a delete: the session row it entered goes too, and it gets a 404.
      sessions.removeForSandbox(record.id);
      byId.delete(record.id);
      throw goneError(record);
    },
    async restart(record) {
      if (deleted.has(record.id)) throw goneError(record);
      await checkStorage(record);
      await control.restart(specOf(record));
    },
    async destroy(record) {
      deleted.add(record.id);
      store.markDestroying(record.id);
      await finishDestroy(record);
    },
    async runningRuntime(sandboxId, user) {
      const record = byId.get(sandboxId);
      if (!record || record.user !== user || deleted.has(sandboxId)) return undefined;
      if (control.status(sandboxId) !== "running") return undefined;
      return control.ensureRunning(specOf(record));
    },
    async recover() {
      for (const record of store.listDestroying()) {
        deleted.add(record.id);
        try {
          await finishDestroy(record);
          log(`finished the destroy of sandbox ${record.id} that a stop of the server interrupted`);
        } catch (error) {
          log(
            `sandbox ${record.id}: the interrupted destroy failed again (${String(error)}); the next start retries it`,
          );
        }
      }
    },
  };
  return this_;
}
