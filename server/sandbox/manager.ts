/**
 * Keeps track of which sandboxes run: starts them lazily (concurrent callers share one start),
 * notices when one dies, restarts and destroys them. One `SandboxManager` per server.
 *
 * Every lifecycle step of a sandbox (start, stop, restart, destroy) is one operation on that
 * sandbox's queue, and no operation waits for anything queued: so none can deadlock another.
 */
import { ServerError } from "../errors.ts";
import type { SandboxBackend, SandboxRuntime, SandboxSpec } from "./backend.ts";
import { checkDescriptorReserve, defaultDescriptorReserve } from "./descriptors.ts";

/** What `status` reports of a sandbox. */
export type SandboxStatus = "starting" | "running" | "stopped";

/** Options of `SandboxManager`. */
export interface SandboxManagerOptions {
  /** File descriptors that must be free for a start to begin (0: no check). @default 64 */
  descriptorReserve?: number;
  /** Where a refused start is logged. @default console.error */
  log?: (line: string) => void;
}

/** Starts, tracks, restarts and destroys sandboxes on one backend. */
export class SandboxManager {
  readonly #running = new Map<string, SandboxRuntime>();
  // A queued or running start per sandbox, shared by concurrent `ensureRunning` callers.
  readonly #starts = new Map<string, Promise<SandboxRuntime>>();
  // Ids whose start operation is running right now (a restart's start included).
  readonly #startingNow = new Set<string>();
  // Destroyed ids: a call still in flight must not bring its sandbox back.
  readonly #destroyed = new Set<string>();
  // Per-sandbox chain of lifecycle operations, so they never interleave.
  readonly #queues = new Map<string, Promise<unknown>>();

  readonly #descriptorReserve: number;
  readonly #log: (line: string) => void;

  constructor(
    readonly backend: SandboxBackend,
    options: SandboxManagerOptions = {},
  ) {
    this.#descriptorReserve = options.descriptorReserve ?? defaultDescriptorReserve;
    this.#log = options.log ?? ((line: string) => console.error(line));
  }

  /** Claims the storage of a new sandbox (the backend's `create`). */
  create(spec: SandboxSpec): void | Promise<void> {
    return this.backend.create(spec);
  }

  /** Whether the sandbox's storage is there (the backend's `hasStorage`). */
  hasStorage(spec: SandboxSpec): boolean | Promise<boolean> {
    return this.backend.hasStorage(spec);
  }

  /** Returns the running sandbox, starting it (after preparing its storage) if needed. */
  ensureRunning(spec: SandboxSpec): Promise<SandboxRuntime> {
    if (this.#destroyed.has(spec.id)) return Promise.reject(deletedError());
    const runtime = this.#running.get(spec.id);
    if (runtime) return Promise.resolve(runtime);
    const shared = this.#starts.get(spec.id);
    if (shared) return shared;
    const starting = this.#serial(spec.id, () => this.#startNow(spec));
    this.#starts.set(spec.id, starting);
    const forget = () => {
      if (this.#starts.get(spec.id) === starting) this.#starts.delete(spec.id);
    };
    starting.then(forget, forget);
    return starting;
  }

  /** Whether the sandbox is starting, running or stopped. */
  status(id: string): SandboxStatus {
    if (this.#running.has(id)) return "running";
    if (this.#starts.has(id) || this.#startingNow.has(id)) return "starting";
    return "stopped";
  }

  /**
   * Ends every process of the sandbox (its storage stays). With `onlyIf`, the stop happens only
   * if it still holds when the stop's turn in the queue comes (checked in the same step that
   * takes the runtime away, so no caller can get the runtime between the check and the stop).
   */
  stop(id: string, onlyIf?: () => boolean): Promise<void> {
    return this.#serial(id, () => (!onlyIf || onlyIf() ? this.#stopNow(id) : Promise.resolve()));
  }

  /** Stops the sandbox and starts it again; `/home/user` is kept, everything else is fresh. */
  restart(spec: SandboxSpec): Promise<SandboxRuntime> {
    if (this.#destroyed.has(spec.id)) return Promise.reject(deletedError());
    return this.#serial(spec.id, async () => {
      await this.#stopNow(spec.id);
      return this.#startNow(spec);
    });
  }

  /** Stops the sandbox and deletes its storage for good; its id can never start again. */
  destroy(spec: SandboxSpec): Promise<void> {
    this.#destroyed.add(spec.id);
    return this.#serial(spec.id, async () => {
      await this.#stopNow(spec.id);
      await this.backend.destroy(spec);
    });
  }

  /**
   * Copies the sandbox's home into snapshot `snapshotId` (the backend's `snapshotHome`), in the
   * sandbox's queue: no start, stop or restart runs while the copy is taken.
   */
  snapshotHome(spec: SandboxSpec, snapshotId: string): Promise<number> {
    if (this.#destroyed.has(spec.id)) return Promise.reject(deletedError());
    return this.#serial(spec.id, async () => {
      if (this.#destroyed.has(spec.id)) throw deletedError();
      return this.#snapshots().snapshotHome(spec, snapshotId);
    });
  }

  /** Makes a snapshot the home of a new sandbox that has not started (the backend's `restoreHome`). */
  restoreHome(spec: SandboxSpec, snapshotId: string, consume: boolean): Promise<void> {
    return this.#serial(spec.id, () => this.#snapshots().restoreHome(spec, snapshotId, consume));
  }

  /** Deletes a snapshot's files (the backend's `deleteSnapshot`). */
  async deleteSnapshot(snapshotId: string): Promise<void> {
    await this.backend.deleteSnapshot?.(snapshotId);
  }

  #snapshots(): Required<Pick<SandboxBackend, "snapshotHome" | "restoreHome">> {
    const { snapshotHome, restoreHome } = this.backend;
    if (!snapshotHome || !restoreHome) {
      throw new ServerError(
        "invalid_request",
        `this server's sandboxes (backend '${this.backend.kind}') cannot be snapshotted or forked`,
      );
    }
    return {
      snapshotHome: snapshotHome.bind(this.backend),
      restoreHome: restoreHome.bind(this.backend),
    };
  }

  /**
   * Applies `spec.network` to the sandbox if it runs (queued after any start, so a start that
   * was under way gets it too). If the rules cannot be changed the sandbox is stopped rather
   * than left on its old policy; its next start applies the new one.
   */
  updateNetwork(spec: SandboxSpec): Promise<void> {
    return this.#serial(spec.id, async () => {
      const runtime = this.#running.get(spec.id);
      if (!runtime?.setNetwork || !spec.network) return;
      try {
        await runtime.setNetwork(spec.network);
      } catch (error) {
        this.#log(
          `sandbox ${spec.id}: stopped, its network policy could not be changed: ${String(error)}`,
        );
        await this.#stopNow(spec.id);
        throw new ServerError(
          "unavailable",
          "the sandbox's network policy could not be applied, so the sandbox was stopped; the new policy holds from its next start",
        );
      }
    });
  }

  /** Stops every sandbox (server shutdown). */
  async stopAll(): Promise<void> {
    const ids = new Set([...this.#running.keys(), ...this.#starts.keys(), ...this.#queues.keys()]);
    await Promise.all([...ids].map((id) => this.stop(id)));
  }

  /** Runs inside the queue: starts the sandbox unless it runs already. */
  async #startNow(spec: SandboxSpec): Promise<SandboxRuntime> {
    if (this.#destroyed.has(spec.id)) throw deletedError();
    const current = this.#running.get(spec.id);
    if (current) return current;
    // Too few descriptors left: this start would fail half-way, so it does not begin.
    checkDescriptorReserve(this.#descriptorReserve, this.#log);
    this.#startingNow.add(spec.id);
    try {
      await this.backend.prepare(spec);
      const runtime = await this.backend.start(spec);
      this.#running.set(spec.id, runtime);
      // A sandbox whose agent dies is forgotten, so the next call starts it afresh.
      void runtime.stopped.then(
        () => this.#forget(spec.id, runtime),
        () => this.#forget(spec.id, runtime),
      );
      return runtime;
    } finally {
      this.#startingNow.delete(spec.id);
    }
  }

  /** Runs inside the queue: nothing is starting then, so only a running runtime can be there. */
  async #stopNow(id: string): Promise<void> {
    const runtime = this.#running.get(id);
    if (!runtime) return;
    this.#running.delete(id);
    await runtime.stop();
  }

  #forget(id: string, runtime: SandboxRuntime): void {
    if (this.#running.get(id) === runtime) this.#running.delete(id);
  }

  #serial<T>(id: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const next = previous.then(operation, operation);
    const settled = next.catch(() => {});
    this.#queues.set(id, settled);
    void settled.then(() => {
      if (this.#queues.get(id) === settled) this.#queues.delete(id);
    });
    return next;
  }
}

function deletedError(): ServerError {
  return new ServerError("not_found", "this sandbox was deleted; create it again to use it");
}
