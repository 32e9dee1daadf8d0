/**
 * Sandboxes as users see them: the registry's records joined with the manager's view of what
 * runs. Every lookup is scoped to the caller, so another user's sandbox is simply not found.
 */
import { join } from "node:path";
import { AgentError } from "../agent/failure.ts";
import type { SandboxLimits, SandboxRuntime, SandboxSpec } from "../sandbox/backend.ts";
import type { SandboxRecord, SandboxStore } from "../store/sandboxes.ts";
import type { ToolSessionStore } from "../store/sessions.ts";

/** What the HTTP layer needs of `SandboxManager` (server/sandbox/manager.ts). */
export interface SandboxControl {
  ensureRunning(spec: SandboxSpec): Promise<SandboxRuntime>;
  status(id: string): "starting" | "running" | "stopped";
  restart(spec: SandboxSpec): Promise<SandboxRuntime>;
  destroy(spec: SandboxSpec): Promise<void>;
}

/** A sandbox on the wire. */
export interface SandboxView {
  name: string;
  status: "starting" | "running" | "stopped";
  created_at: string;
}

/** The sandbox lifecycle, scoped by user. */
export interface SandboxService {
  create(user: string, name: string, eager: boolean): Promise<SandboxRecord>;
  /** The user's sandbox of that name; 404 otherwise (also when another user has one). */
  find(user: string, name: string): SandboxRecord;
  list(user: string): SandboxRecord[];
  view(record: SandboxRecord): SandboxView;
  ensureRunning(record: SandboxRecord): Promise<SandboxRuntime>;
  restart(record: SandboxRecord): Promise<void>;
  destroy(record: SandboxRecord): Promise<void>;
  /** The running runtime of a sandbox, without starting it. */
  runningRuntime(sandboxId: string, user: string): Promise<SandboxRuntime | undefined>;
}

/** Creates the sandbox service. */
export function createSandboxService(options: {
  store: SandboxStore;
  sessions: ToolSessionStore;
  control: SandboxControl;
  sandboxesDir: string;
  limits: SandboxLimits;
  /** The most sandboxes one user may have; each can take its full limits. @default 32 */
  maxSandboxesPerUser?: number;
}): SandboxService {
  const { store, sessions, control } = options;
  const byId = new Map<string, SandboxRecord>();
  // Ids deleted (or being deleted): a tool call that found the record before must not revive it.
  const deleted = new Set<string>();
  const goneError = (record: SandboxRecord) =>
    new AgentError("not_found", `no sandbox named '${record.name}'; it was deleted`);
  const specOf = (record: SandboxRecord): SandboxSpec => {
    byId.set(record.id, record);
    return {
      id: record.id,
      storageDir: join(options.sandboxesDir, record.id),
      hostUid: record.hostUid,
      limits: options.limits,
    };
  };
  return {
    async create(user, name, eager) {
      const most = options.maxSandboxesPerUser ?? 32;
      // Counted and created in one synchronous step, so concurrent creates cannot both slip in.
      if (store.list(user).length >= most) {
        throw new AgentError(
          "conflict",
          `you already have ${most} sandboxes, the most one user may have; destroy one you no longer need, then create again`,
        );
      }
      const record = store.create(user, name, eager);
      if (!record) {
        throw new AgentError(
          "sandbox_exists",
          `you already have a sandbox named '${name}'; pick another name or use it`,
        );
      }
      if (!eager) return record;
      try {
        await control.ensureRunning(specOf(record));
      } catch (error) {
        // A sandbox that could not start is not left behind to block a retry with a 409.
        deleted.add(record.id);
        await control.destroy(specOf(record)).catch(() => {});
        byId.delete(record.id);
        store.remove(record.id);
        throw error;
      }
      return record;
    },
    find(user, name) {
      const record = store.get(user, name);
      if (!record) throw new AgentError("not_found", `no sandbox named '${name}'; create it first`);
      return record;
    },
    list: (user) => store.list(user),
    view: (record) => ({
      name: record.name,
      status: control.status(record.id),
      created_at: record.createdAt,
    }),
    async ensureRunning(record) {
      if (!deleted.has(record.id)) {
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
      await control.restart(specOf(record));
    },
    async destroy(record) {
      deleted.add(record.id);
      await control.destroy(specOf(record));
      sessions.removeForSandbox(record.id);
      store.remove(record.id);
      byId.delete(record.id);
    },
    async runningRuntime(sandboxId, user) {
      const record = byId.get(sandboxId);
      if (!record || record.user !== user || deleted.has(sandboxId)) return undefined;
      if (control.status(sandboxId) !== "running") return undefined;
      return control.ensureRunning(specOf(record));
    },
  };
}
