/** Per-user token buckets: a burst of calls at once, then a steady rate. */
import { ServerError } from "../errors.ts";

/** The shape of a token bucket. */
export interface RateLimitOptions {
  /** The calls one user may make at once after a pause. */
  burst: number;
  /** The calls per second one user may keep making. */
  perSecond: number;
}

/** A per-user rate limit. */
export interface RateLimit {
  /** Takes one call's token for `user`, or throws `RateLimitedError` saying when to retry. */
  take(user: string): void;
}

/** A 429 that knows when the caller may try again. */
export class RateLimitedError extends ServerError {
  constructor(
    message: string,
    /** Seconds until a token is there again (the `Retry-After` header). */
    readonly retryAfterSeconds: number,
  ) {
    super("rate_limited", message);
  }
}

// Past this many users held, buckets that refilled completely are dropped (they equal a new one).
const sweepAbove = 10_000;

/**
 * Creates a rate limit of `burst` calls then `perSecond` calls a second per user; `what` names
 * the calls in the 429's message. `now` is the clock in ms (tests pass their own).
 */
export function createRateLimit(
  options: RateLimitOptions,
  what: string,
  now: () => number = () => performance.now(),
): RateLimit {
  const { burst, perSecond } = options;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const refilled = (bucket: { tokens: number; at: number }, time: number) =>
    Math.min(burst, bucket.tokens + ((time - bucket.at) / 1000) * perSecond);
  return {
    take(user) {
      const time = now();
      const bucket = buckets.get(user) ?? { tokens: burst, at: time };
      const tokens = refilled(bucket, time);
      if (tokens < 1) {
        const seconds = Math.max(1, Math.ceil((1 - tokens) / perSecond));
        throw new RateLimitedError(
          `too many ${what}: at most ${burst} at once, then ${perSecond} per second; retry in ${seconds} s`,
          seconds,
        );
      }
      buckets.set(user, { tokens: tokens - 1, at: time });
      if (buckets.size > sweepAbove) {
        for (const [name, held] of buckets) {
          if (refilled(held, time) >= burst) buckets.delete(name);
        }
      }
    },
  };
}
