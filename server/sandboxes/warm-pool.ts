/**
 * The warm pool (CONTRACT §12): environments prepared before anyone asks, so an eager create takes
 * one and its first call finds the agent already running. A pooled environment is a sandbox
 * started under a fresh storage id with the server's default limits and no owner yet: its own
 * new host uid, a new home (a new disk image), new cgroups and a new agent. It is handed out
 * once and never returned: a destroyed sandbox's environment goes, so nothing of one use
 * reaches another. It refills in the background, one preparation at a time, and holds off
 * while the host is loaded or its disk refuses new images.
 */
import { availableParallelism, loadavg } from "node:os";
import type { SandboxLimits, SandboxRuntime, SandboxSpec } from "../sandbox/backend.ts";
import { newSandboxId } from "../store/sandboxes.ts";
import type { WarmPoolStore } from "../store/warm-pool.ts";

const warmUpSession = "lumina-warm-up";

/** What the pool needs of `SandboxManager`. */
export interface WarmPoolControl {
  create(spec: SandboxSpec): void | Promise<void>;
  ensureRunning(spec: SandboxSpec): Promise<SandboxRuntime>;
  status(id: string): "starting" | "running" | "stopped";
  destroy(spec: SandboxSpec): Promise<void>;
}

/** Options of `createWarmPool`. */
export interface WarmPoolOptions {
  /** How many environments to keep ready; 0 turns the pool off. */
  size: number;
  control: WarmPoolControl;
  store: WarmPoolStore;
  limits: SandboxLimits;
  /** Whether a stored id is now a sandbox's (taken just before a crash): kept then. */
  isTaken(id: string): boolean;
  log: (line: string) => void;
  /** Why not to prepare now (host busy), or undefined. @default loadHoldOff() */
  holdOff?: () => string | undefined;
  /** Wait after a hold-off or a failed preparation, in ms. @default 5000 */
  retryMs?: number;
  /** Wait after a take before refilling, so the refill does not slow the new sandbox's first call. @default 250 */
  refillDelayMs?: number;
}

/** The pool of one server. */
export interface WarmPool {
  /** The id of a ready environment, no longer in the pool; undefined when none is ready. */
  take(): string | undefined;
  /** Returns a taken environment nobody used (its create failed). */
  giveBack(id: string): void;
  /** Marks a taken id as now a sandbox's (its record exists). */
  adopted(id: string): void;
  /** How many environments are ready. */
  readonly ready: number;
  /** Removes what a previous run left, then starts filling. */
  start(): Promise<void>;
  /** Resolves once the pool is full or a preparation cannot happen now (benchmarks, tests). */
  filled(): Promise<void>;
  /** Stops filling and removes every ready environment. */
  close(): Promise<void>;
}

/** Holds off while the one-minute load average is at least `limit` per core. */
export function loadHoldOff(limit = 1): () => string | undefined {
  return () => {
    const perCore = (loadavg()[0] ?? 0) / availableParallelism();
    return perCore >= limit ? `the host is busy (load ${perCore.toFixed(2)} per core)` : undefined;
  };
}

/** Creates the pool (filling starts with `start`). */
export function createWarmPool(options: WarmPoolOptions): WarmPool {
  const { control, store, log } = options;
  const holdOff = options.holdOff ?? loadHoldOff();
  const retryMs = options.retryMs ?? 5000;
  const ready = new Set<string>();
  const specOf = (id: string): SandboxSpec => ({
    id,
    name: `warm-${id.slice(0, 8)}`,
    user: "",
    limits: options.limits,
    // No egress until its sandbox's own policy is applied on adoption (CONTRACT §9: fail closed).
    network: { egress: "none" },
  });
  let closed = false;
  let filling: Promise<void> | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let refill: ReturnType<typeof setTimeout> | undefined;
  let waiters: (() => void)[] = [];
  const wake = () => {
    for (const waiter of waiters) waiter();
    waiters = [];
  };
  const later = (ms: number) => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      fill();
    }, ms);
    retry.unref();
  };
  const refillSoon = () => {
    if (closed || refill) return;
    refill = setTimeout(() => {
      refill = undefined;
      fill();
      if (!filling) wake();
    }, options.refillDelayMs ?? 250);
    refill.unref();
  };
  const discard = async (id: string) => {
    ready.delete(id);
    await control
      .destroy(specOf(id))
      .catch((error: unknown) =>
        log(`warm pool: removing environment ${id} failed: ${String(error)}`),
      );
    store.remove(id);
  };

  async function prepareOne(): Promise<boolean> {
    const busy = holdOff();
    if (busy) {
      later(retryMs);
      return false;
    }
    const id = newSandboxId();
    store.add(id);
    try {
      await control.create(specOf(id));
      const runtime = await control.ensureRunning(specOf(id));
      // One command through a throwaway session runs the agent's shell code once, so the
      // sandbox's first call does not pay for loading and compiling it; the session then ends.
      await runtime.call("shell_run", {
        sessionKey: warmUpSession,
        command: "true",
        timeoutMs: 10_000,
      });
      await runtime.call("shell_end", { sessionKey: warmUpSession });
      // And a shell ready for the first session, so its first call skips the spawn.
      await runtime.call("shell_prepare", {});
    } catch (error) {
      log(
        `warm pool: preparing an environment failed (${(error as Error).message}); retrying later`,
      );
      await discard(id);
      later(retryMs);
      return false;
    }
    if (closed) {
      await discard(id);
      return false;
    }
    ready.add(id);
    return true;
  }
  function fill(): void {
    if (closed || filling || options.size <= 0) return;
    filling = (async () => {
      while (!closed && ready.size < options.size && (await prepareOne())) {}
    })().finally(() => {
      filling = undefined;
      wake();
    });
  }

  return {
    take() {
      for (const id of ready) {
        ready.delete(id);
        refillSoon();
        // An environment whose agent died meanwhile is no use: it goes, the next one is tried.
        if (control.status(id) === "running") return id;
        void discard(id);
      }
      if (options.size > 0) fill();
      return undefined;
    },
    giveBack(id) {
      if (!closed && ready.size < options.size && control.status(id) === "running") ready.add(id);
      else void discard(id);
    },
    adopted: (id) => store.remove(id),
    get ready() {
      return ready.size;
    },
    async start() {
      for (const id of store.all()) {
        if (options.isTaken(id)) store.remove(id);
        else await discard(id);
      }
      fill();
    },
    filled() {
      if (!filling && !refill) return Promise.resolve();
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      if (refill) clearTimeout(refill);
      refill = undefined;
      wake();
      await filling;
      await Promise.all([...ready].map(discard));
    },
  };
}
