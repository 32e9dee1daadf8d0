/**
 * A pool of a few slots shared by every user (the PDF parsers): a freed slot goes to the waiting
 * user with the fewest jobs running (the longest waiting on a tie), one job at a time, so one
 * user's pile of jobs cannot make another's wait behind all of it; and each user may have only
 * so many jobs running or waiting (429 past that).
 */
import { ServerError } from "../errors.ts";

/** A pool of slots served round-robin among users. */
export interface FairQueue {
  /**
   * Waits for a slot for `user` (429 when the user already has `maxPerUser` jobs running or
   * waiting; the signal's reason when it aborts first). Call the returned function to free it.
   */
  acquire(user: string, signal?: AbortSignal): Promise<() => void>;
  /** Jobs running and waiting, for monitoring and tests. */
  load(): { running: number; waiting: number };
}

interface Waiter {
  start(): void;
}

/** Creates a fair queue of `slots` slots; `what` names the jobs in the 429. */
export function createFairQueue(options: {
  slots: number;
  maxPerUser: number;
  what: string;
}): FairQueue {
  const { slots, maxPerUser, what } = options;
  let running = 0;
  let waitingCount = 0;
  const jobsOf = new Map<string, number>();
  const runningOf = new Map<string, number>();
  const waiting = new Map<string, Waiter[]>();
  // Users with waiting jobs, in the order of their turns.
  const turns: string[] = [];

  const decrement = (counts: Map<string, number>, user: string) => {
    const left = (counts.get(user) ?? 1) - 1;
    if (left <= 0) counts.delete(user);
    else counts.set(user, left);
  };
  const startNext = () => {
    while (running < slots && turns.length > 0) {
      // The waiting user with the fewest jobs running goes first; on a tie, the longest waiting.
      let pick = 0;
      for (let at = 1; at < turns.length; at++) {
        const candidate = runningOf.get(turns[at] as string) ?? 0;
        if (candidate < (runningOf.get(turns[pick] as string) ?? 0)) pick = at;
      }
      const user = turns.splice(pick, 1)[0] as string;
      const queue = waiting.get(user) ?? [];
      const next = queue.shift();
      if (queue.length > 0) turns.push(user);
      else waiting.delete(user);
      if (next) {
        waitingCount--;
        next.start();
      }
    }
  };

  return {
    acquire(user, signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      const jobs = jobsOf.get(user) ?? 0;
      if (jobs >= maxPerUser) {
        return Promise.reject(
          new ServerError(
            "rate_limited",
            `too many ${what} at once (at most ${maxPerUser} running or waiting per user); wait for some to finish and retry`,
          ),
        );
      }
      jobsOf.set(user, jobs + 1);
      return new Promise((resolve, reject) => {
        let freed = false;
        const free = () => {
          if (freed) return;
          freed = true;
          running--;
          decrement(runningOf, user);
          decrement(jobsOf, user);
          startNext();
        };
        const onAbort = () => {
          const queue = waiting.get(user);
          const at = queue?.indexOf(waiter) ?? -1;
          if (!queue || at === -1) return;
          queue.splice(at, 1);
          waitingCount--;
          if (queue.length === 0) {
            waiting.delete(user);
            turns.splice(turns.indexOf(user), 1);
          }
          decrement(jobsOf, user);
          reject(signal?.reason);
        };
        const waiter: Waiter = {
          start() {
            signal?.removeEventListener("abort", onAbort);
            running++;
            runningOf.set(user, (runningOf.get(user) ?? 0) + 1);
            resolve(free);
          },
        };
        const queue = waiting.get(user);
        if (queue) queue.push(waiter);
        else {
          waiting.set(user, [waiter]);
          turns.push(user);
        }
        waitingCount++;
        signal?.addEventListener("abort", onAbort, { once: true });
        startNext();
      });
    },
    load: () => ({ running, waiting: waitingCount }),
  };
}
