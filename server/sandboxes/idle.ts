/**
 * Idle stop (CONTRACT §12): each sandbox's last activity (a request for it, a request still in
 * flight, a background command still running) and one sweep for all sandboxes that stops those
 * idle past their timeout. A stopped sandbox keeps its home; its next tool call starts it again.
 * Last activity goes to the registry at most once a second per sandbox, so it survives a restart.
 */
import type { SandboxActivityStore } from "../store/sandbox-activity.ts";

/** The idle timeout of a sandbox created without one: 30 minutes. */
export const defaultIdleTimeoutMs = 1_800_000;

/** The shortest idle timeout other than 0 (never). */
export const minIdleTimeoutMs = 1000;

/** How often the sweep runs: a sandbox stops at most this long (plus a stop) after its time. */
export const idleSweepEveryMs = 1000;

// Last activity is written at most this often per sandbox; a restart may lose less than this.
const persistEveryMs = 1000;

/** What the sweep needs of the running sandboxes. */
export interface IdleControl {
  isRunning(sandboxId: string): boolean;
  /** Whether a background command of the sandbox still runs. */
  isBusy(sandboxId: string): Promise<boolean>;
  /**
   * Stops the sandbox (its storage stays) if `stillIdle()` holds when the stop really happens:
   * a call may have begun while the stop waited for its turn.
   */
  stop(sandboxId: string, stillIdle: () => boolean): Promise<void>;
}

/** A sandbox's idle state as `SandboxInfo` shows it. */
export interface IdleInfo {
  idleTimeoutMs: number;
  lastActivityMs: number;
}

/** Tracks activity and stops idle sandboxes. */
export interface IdleTracker {
  /** Registers a new sandbox, active now. */
  add(sandboxId: string, idleTimeoutMs: number): void;
  /** Records activity now. */
  touch(sandboxId: string): void;
  /** Counts a request in flight (activity until it ends); returns its end, idempotent. */
  begin(sandboxId: string): () => void;
  info(sandboxId: string): IdleInfo;
  remove(sandboxId: string): void;
  /** Stops every sandbox idle past its timeout now (also run by the timer). */
  sweep(): Promise<void>;
  /** Stops the timer and writes every last activity not yet written. */
  close(): void;
}

interface Entry extends IdleInfo {
  inFlight: number;
  persistedMs: number;
}

/** Creates the tracker over the stored rows and starts its one timer. */
export function createIdleTracker(options: {
  store: SandboxActivityStore;
  control: IdleControl;
  /** The timeout of sandboxes with no row (made before idle stop existed). */
  defaultIdleTimeoutMs: number;
  log: (line: string) => void;
  /** The time in ms, injectable so tests pass idle time without sleeping. @default Date.now */
  now?: () => number;
}): IdleTracker {
  const { store, control, log } = options;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  for (const row of store.all())
    entries.set(row.sandboxId, { ...row, inFlight: 0, persistedMs: row.lastActivityMs });
  const entryOf = (id: string): Entry => {
    let entry = entries.get(id);
    if (!entry) {
      const at = now();
      entry = {
        idleTimeoutMs: options.defaultIdleTimeoutMs,
        lastActivityMs: at,
        inFlight: 0,
        persistedMs: at,
      };
      entries.set(id, entry);
      store.put({ sandboxId: id, idleTimeoutMs: entry.idleTimeoutMs, lastActivityMs: at });
    }
    return entry;
  };
  const touch = (id: string) => {
    const entry = entryOf(id);
    const at = Math.max(entry.lastActivityMs, now());
    entry.lastActivityMs = at;
    if (at - entry.persistedMs < persistEveryMs) return;
    entry.persistedMs = at;
    try {
      store.touch(id, at);
    } catch {
      // A busy registry costs only this write; the next activity writes again.
    }
  };
  const isIdle = (entry: Entry) =>
    entry.idleTimeoutMs > 0 &&
    entry.inFlight === 0 &&
    now() - entry.lastActivityMs >= entry.idleTimeoutMs;

  async function stopIfIdle(id: string, entry: Entry): Promise<void> {
    if (!isIdle(entry) || !control.isRunning(id)) return;
    if (await control.isBusy(id)) return touch(id);
    // A request may have come while we asked the agent, or while the stop waits for its turn.
    const stillIdle = () => isIdle(entry) && entries.get(id) === entry;
    if (!stillIdle()) return;
    await control.stop(id, stillIdle);
  }
  let sweeping: Promise<void> | undefined;
  async function sweepOnce(): Promise<void> {
    for (const [id, entry] of [...entries]) {
      await stopIfIdle(id, entry).catch((error: unknown) =>
        log(`sandbox ${id}: idle stop failed: ${(error as Error).message}`),
      );
    }
  }
  const sweep = () => {
    sweeping ??= sweepOnce().finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const timer = setInterval(() => void sweep(), idleSweepEveryMs);
  timer.unref();

  return {
    add(id, idleTimeoutMs) {
      const at = now();
      entries.set(id, { idleTimeoutMs, lastActivityMs: at, inFlight: 0, persistedMs: at });
      store.put({ sandboxId: id, idleTimeoutMs, lastActivityMs: at });
    },
    touch,
    begin(id) {
      const entry = entryOf(id);
      entry.inFlight += 1;
      touch(id);
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        entry.inFlight -= 1;
        touch(id);
      };
    },
    info(id) {
      const { idleTimeoutMs, lastActivityMs } = entryOf(id);
      return { idleTimeoutMs, lastActivityMs };
    },
    remove(id) {
      entries.delete(id);
      store.remove(id);
    },
    sweep,
    close() {
      clearInterval(timer);
      for (const [id, entry] of entries) {
        if (entry.lastActivityMs > entry.persistedMs) store.touch(id, entry.lastActivityMs);
      }
    },
  };
}
