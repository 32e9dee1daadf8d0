/** Per-user caps on requests in flight, so one user's slow clients cannot starve the others. */
import { AgentError } from "../agent/failure.ts";

/** A per-user counter of requests in flight with a ceiling. */
export interface ConcurrencyLimit {
  /** Takes a slot for `user` or throws 429; call the returned function to give it back. */
  acquire(user: string): () => void;
}

/** Creates a limit of `max` concurrent requests per user; `what` names them in the 429. */
export function createConcurrencyLimit(max: number, what: string): ConcurrencyLimit {
  const inFlight = new Map<string, number>();
  return {
    acquire(user) {
      const count = inFlight.get(user) ?? 0;
      if (count >= max) {
        throw new AgentError(
          "rate_limited",
          `too many ${what} at once (at most ${max}); wait for some to finish and retry`,
        );
      }
      inFlight.set(user, count + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (inFlight.get(user) ?? 1) - 1;
        if (left <= 0) inFlight.delete(user);
        else inFlight.set(user, left);
      };
    },
  };
}
