/** Marks the client's errors across realms (iframes, workers), where `instanceof` fails. */
const brand = Symbol.for("lumina-sandbox.error");

/**
 * Whether `value` is an error of this package, possibly from another realm, with this `name`: the
 * test behind every `is*` guard of every entry.
 */
export function isNamed(value: unknown, name?: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true &&
    (name === undefined || (value as Error).name === name)
  );
}

/**
 * The base class of every error the client raises (a user abort aside, which rejects with the
 * signal's own reason).
 */
export class LuminaError extends Error {
  override name: string = "LuminaError";

  /** Creates the error; `options.cause` keeps the underlying error. */
  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, brand, { value: true });
  }

  /** The error's fields, `name` and `message` included, so that logs of `JSON.stringify` show them. */
  toJSON(): Record<string, unknown> {
    const fields: Record<string, unknown> = {
      ...(this as object),
      name: this.name,
      message: this.message,
    };
    // `cause` is not enumerable: name it so logs show what failed underneath.
    if (this.cause !== undefined) fields["cause"] = String(this.cause);
    return fields;
  }
}

/**
 * The error for any non-2xx answer of the server. `code` is the server's snake_case error code
 * (`"not_found"`, `"stale_read"`, …), or `"http_error"` when the body is not a Lumina error (a
 * proxy's HTML page, for instance).
 *
 * @example
 * ```ts
 * try {
 *   await lumina.write("/home/user/a.txt", "hi");
 * } catch (error) {
 *   if (isToolError(error) && error.code === "not_read") await lumina.read("/home/user/a.txt");
 * }
 * ```
 */
export class ToolError extends LuminaError {
  override name = "ToolError" as const;
  /** The HTTP status of the answer. */
  declare readonly statusCode: number;
  /** The server's error code, or `"http_error"` for a body that is not a Lumina error. */
  declare readonly code: string;
  /** The HTTP method of the request, such as `"POST"` (`""` when not known). */
  declare readonly method: string;
  /** The URL of the request (`""` when not known). */
  declare readonly url: string;
  /** The server's `Lumina-Request-Id` for the answer, to find it in the server's log. */
  declare readonly requestId?: string;
  /** The server's `Retry-After`, in milliseconds, when it sent one. */
  declare readonly retryAfter?: number;

  /** Creates the error from the answer's status, code and message, and where it came from. */
  constructor(statusCode: number, code: string, message: string, details: ToolErrorDetails = {}) {
    super(message);
    // Each field an own property, `undefined` when not known, in this order (as in logs).
    Object.assign(this, {
      statusCode,
      code,
      method: details.method ?? "",
      url: details.url ?? "",
      requestId: details.requestId || undefined,
      retryAfter: details.retryAfter,
    });
  }
}

/** Where a {@link ToolError} came from, and the server's advice on when to retry. */
export interface ToolErrorDetails {
  /** The HTTP method of the request. */
  method?: string | undefined;
  /** The URL of the request. */
  url?: string | undefined;
  /** The answer's `Lumina-Request-Id` header. */
  requestId?: string | null | undefined;
  /** The answer's `Retry-After`, in milliseconds. */
  retryAfter?: number | undefined;
}

/** The error for a request that got no answer: connection refused or reset, DNS failure, … */
export class NetworkError extends LuminaError {
  override name = "NetworkError" as const;
}

/** The error for a request that got no complete answer within its HTTP timeout. */
export class TimeoutError extends LuminaError {
  override name = "TimeoutError" as const;
  /** The timeout that passed, in milliseconds. */
  declare readonly timeout: number;

  /** Creates the error for a request that took longer than `timeout` milliseconds. */
  constructor(message: string, timeout: number) {
    super(message);
    this.timeout = timeout;
  }
}

/** The error for a 2xx answer whose body does not have the shape the protocol fixes. */
export class ValidationError extends LuminaError {
  override name = "ValidationError" as const;
  /** The path of the field at fault, such as `matches[0].line_number` (`""` for the whole body). */
  declare readonly path: string;

  /** Creates the error for the field at `path`. */
  constructor(message: string, path: string) {
    super(message);
    this.path = path;
  }
}

/** Whether `value` is a {@link LuminaError}, also one from another realm. */
export function isLuminaError(value: unknown): value is LuminaError {
  return isNamed(value);
}

/** Whether `value` is a {@link ToolError}, also one from another realm. */
export function isToolError(value: unknown): value is ToolError {
  return isNamed(value, "ToolError");
}

/** Whether `value` is a {@link NetworkError}, also one from another realm. */
export function isNetworkError(value: unknown): value is NetworkError {
  return isNamed(value, "NetworkError");
}

/** Whether `value` is a {@link TimeoutError}, also one from another realm. */
export function isTimeoutError(value: unknown): value is TimeoutError {
  return isNamed(value, "TimeoutError");
}

/** Whether `value` is a {@link ValidationError}, also one from another realm. */
export function isValidationError(value: unknown): value is ValidationError {
  return isNamed(value, "ValidationError");
}
