import { isNetworkError, isToolError } from "./errors.ts";

/** The retry settings of every call (those that are not idempotent resend their `Idempotency-Key`). */
export interface RetryOptions {
  /**
   * The number of retries after the first attempt.
   * @default 2
   */
  limit?: number | undefined;
  /**
   * The delay before the first retry, in milliseconds; it doubles with each retry (full jitter:
   * the actual wait is a random share of it).
   * @default 500
   */
  baseDelay?: number | undefined;
  /**
   * The longest wait between attempts, in milliseconds; also caps the server's `Retry-After`.
   * @default 30000
   */
  maxDelay?: number | undefined;
}

/** The retry setting: a retry count, detailed settings, or `false` for none. */
export type RetryOption = number | RetryOptions | false;

/** Retry settings resolved to numbers. */
export interface RetryPolicy {
  /** The number of retries after the first attempt. */
  readonly limit: number;
  /** The delay before the first retry, in milliseconds. */
  readonly baseDelay: number;
  /** The longest wait, in milliseconds. */
  readonly maxDelay: number;
}

/** The answers worth another attempt: rate limiting and the gateway failures of a proxy. */
const RETRY_STATUSES = [429, 502, 503, 504];

/** Resolves the `retry` option once, at client creation. */
export function resolveRetry(option: RetryOption | undefined): RetryPolicy {
  const settings = typeof option === "object" ? option : {};
  const limit = option === false ? 0 : typeof option === "number" ? option : settings.limit;
  return Object.freeze({
    limit: limit ?? 2,
    baseDelay: settings.baseDelay ?? 500,
    maxDelay: settings.maxDelay ?? 30_000,
  });
}

/**
 * How long to wait before retry number `attempt + 1` after `error`, or `undefined` when the error
 * is final (not transient, or no retries left).
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
): number | undefined {
  if (attempt >= policy.limit) return undefined;
  if (isToolError(error) && RETRY_STATUSES.includes(error.statusCode)) {
    if (error.retryAfter !== undefined) return Math.min(error.retryAfter, policy.maxDelay);
  } else if (!isNetworkError(error)) {
    return undefined;
  }
  return Math.random() * Math.min(policy.maxDelay, policy.baseDelay * 2 ** attempt);
}

/** Parses a `Retry-After` header (seconds, or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
