/**
 * Per-user caps on requests in flight and on the bytes of their unread answers, so one user's
 * slow (or never reading) clients cannot starve the others nor grow the server's memory.
 */
import { ServerError } from "../errors.ts";

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
        throw new ServerError(
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

/** A per-user ceiling on the bytes of answers made but not yet sent (unread by their client). */
export interface AnswerBudget {
  /**
   * Throws 429 when `user` already holds the ceiling, or an answer of theirs was refused and
   * none has been sent since: checked before any work.
   */
  check(user: string): void;
  /**
   * Counts an answer of `bytes` for `user` until the returned function is called (when it is
   * sent). With `refusable`, an answer that would take the user past the ceiling is not
   * counted and 429 is thrown instead; a user holding nothing may always take one answer.
   */
  hold(user: string, bytes: number, refusable: boolean): () => void;
}

/** Creates an answer budget of `maxBytes` per user. */
export function createAnswerBudget(maxBytes: number): AnswerBudget {
  const held = new Map<string, number>();
  // Users whose last answer did not fit: refused before any work until one of theirs is sent.
  const full = new Set<string>();
  const refuse = (count: number): never => {
    throw new ServerError(
      "rate_limited",
      `${Math.ceil(count / 1024 ** 2)} MiB of your answers are still unread (at most ${Math.floor(maxBytes / 1024 ** 2)} MiB); read them, or close their connections, and retry`,
    );
  };
  return {
    check(user) {
      const count = held.get(user) ?? 0;
      if (count >= maxBytes || full.has(user)) refuse(count);
    },
    hold(user, bytes, refusable) {
      const count = held.get(user) ?? 0;
      if (refusable && count > 0 && count + bytes > maxBytes) {
        full.add(user);
        refuse(count);
      }
      held.set(user, count + bytes);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        full.delete(user);
        const left = (held.get(user) ?? bytes) - bytes;
        if (left <= 0) held.delete(user);
        else held.set(user, left);
      };
    },
  };
}
