/**
 * Destroys the sandboxes and snapshots of users an operator removed (`lumina-server remove-user`). The
 * command runs in its own process and only writes the registry; the server that owns the
 * sandboxes finds the removal here: at start, then every few seconds.
 */
import type { SandboxService } from "../sandboxes/service.ts";
import type { SnapshotService } from "../sandboxes/snapshots.ts";
import type { KeyStore } from "../store/keys.ts";

/** How often a running server looks for removed users' sandboxes, in ms. */
export const removedUserSweepMs = 5_000;

/** A running reaper. */
export interface RemovedUserReaper {
  /** Destroys every sandbox of every removed user now (also run on a timer). */
  reap(): Promise<void>;
  /** Stops the timer and waits for a sweep in progress. */
  close(): Promise<void>;
}

/** Starts the reaper: one sweep now, then one every `intervalMs`. */
export function startRemovedUserReaper(options: {
  keys: KeyStore;
  sandboxes: SandboxService;
  /** Its snapshots go too. @default kept (only sandboxes are reaped) */
  snapshots?: SnapshotService;
  log: (line: string) => void;
  intervalMs?: number;
}): RemovedUserReaper {
  const { keys, sandboxes, snapshots, log } = options;
  let running: Promise<void> | undefined;
  const sweepOnce = async () => {
    for (const user of keys.removedUsers()) {
      for (const record of sandboxes.list(user)) {
        await sandboxes.destroy(record).then(
          () => log(`destroyed sandbox ${record.name} of removed user ${user}`),
          (error: unknown) =>
            log(
              `destroying sandbox ${record.name} of removed user ${user} failed: ${String(error)}`,
            ),
        );
      }
      await snapshots
        ?.removeAllOf(user)
        .catch((error: unknown) =>
          log(`deleting the snapshots of removed user ${user} failed: ${String(error)}`),
        );
    }
  };
  const reap = () => {
    running ??= sweepOnce()
      .catch((error: unknown) => log(`removed-user sweep failed: ${String(error)}`))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const timer = setInterval(() => void reap(), options.intervalMs ?? removedUserSweepMs);
  timer.unref();
  void reap();
  return {
    reap,
    async close() {
      clearInterval(timer);
      await running;
    },
  };
}
