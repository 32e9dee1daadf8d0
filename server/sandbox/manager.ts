/**
 * Keeps track of which sandboxes run: starts them lazily (concurrent callers share one start),
 * notices when one dies, restarts and destroys them. One `SandboxManager` per server.
 */
import type { SandboxBackend, SandboxRuntime, SandboxSpec } from "./backend.ts";

/** What `status` reports of a sandbox. */
export type SandboxStatus = "starting" | "running" | "stopped";

interface Entry {
  starting?: Promise<SandboxRuntime>;
  runtime?: SandboxRuntime;
}

/** Starts, tracks, restarts and destroys sandboxes on one backend. */
export class SandboxManager {
  readonly #entries = new Map<string, Entry>();
  // Per-sandbox chain of lifecycle operations (start/stop/restart/destroy), so they never interleave.
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(readonly backend: SandboxBackend) {}

  /** Returns the running sandbox, starting it (after preparing its storage) if needed. */
  ensureRunning(spec: SandboxSpec): Promise<SandboxRuntime> {
    const entry = this.#entries.get(spec.id);
    if (entry?.runtime) return Promise.resolve(entry.runtime);
    if (entry?.starting) return entry.starting;
    return this.#start(spec);
  }

  /** Whether the sandbox is starting, running or stopped. */
  status(id: string): SandboxStatus {
    const entry = this.#entries.get(id);
    if (entry?.runtime) return "running";
    if (entry?.starting) return "starting";
    return "stopped";
  }

  /** Ends every process of the sandbox (its storage stays). */
  stop(id: string): Promise<void> {
    return this.#serial(id, () => this.#stopNow(id));
  }

  /** Stops the sandbox and starts it again; `/home/user` is kept, everything else is fresh. */
  async restart(spec: SandboxSpec): Promise<SandboxRuntime> {
    await this.stop(spec.id);
    return this.ensureRunning(spec);
  }

  /** Stops the sandbox and deletes its storage for good. */
  destroy(spec: SandboxSpec): Promise<void> {
    return this.#serial(spec.id, async () => {
      await this.#stopNow(spec.id);
      await this.backend.destroy(spec);
    });
  }

  /** Stops every sandbox (server shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#entries.keys()].map((id) => this.stop(id)));
  }

  #start(spec: SandboxSpec): Promise<SandboxRuntime> {
    const entry: Entry = {};
    this.#entries.set(spec.id, entry);
    const starting = this.#serial(spec.id, async () => {
      await this.backend.prepare(spec);
      return this.backend.start(spec);
    });
    entry.starting = starting;
    starting.then(
      (runtime) => {
        if (this.#entries.get(spec.id) !== entry) {
          void runtime.stop(); // Stopped or destroyed while starting.
          return;
        }
        entry.runtime = runtime;
        delete entry.starting;
        // A sandbox whose agent dies is forgotten, so the next call starts it afresh.
        void runtime.stopped.then(() => {
          if (this.#entries.get(spec.id) === entry) this.#entries.delete(spec.id);
        });
      },
      () => {
        if (this.#entries.get(spec.id) === entry) this.#entries.delete(spec.id);
      },
    );
    return starting;
  }

  async #stopNow(id: string): Promise<void> {
    const entry = this.#entries.get(id);
    if (!entry) return;
    this.#entries.delete(id);
    const runtime = entry.runtime ?? (await entry.starting?.catch(() => undefined));
    await runtime?.stop();
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
