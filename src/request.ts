import {
  isLuminaError,
  NetworkError,
  TimeoutError,
  ToolError,
  type ToolErrorDetails,
  ValidationError,
} from "./errors.ts";
import { delay } from "./internal/delay.ts";
import { type LinkedSignal, linkSignal } from "./internal/signal.ts";
import { randomId } from "./internal/uuid.ts";
import { parseRetryAfter, type RetryPolicy, retryDelay } from "./retry.ts";
import type { Transport, TransportBody } from "./transport.ts";

/** The options every method takes last. */
export interface CallOptions {
  /**
   * Aborts the call; it then rejects with `signal.reason`. A call sent with an `Idempotency-Key`
   * (see `idempotencyKey`) is then cancelled on the server too (`DELETE /v1/calls/{key}`).
   */
  signal?: AbortSignal | undefined;
  /**
   * The HTTP timeout of this call, in milliseconds. `bash` and `bashOutput` know how long they may
   * rightly take (a foreground command's `timeout`, `waitMs`, else nothing) and by default wait
   * that plus a 15 s margin for the network and a sandbox's start; a longer value here extends
   * that, a shorter one cannot cut off an answer the server is still rightly preparing (use
   * `signal` to give up sooner).
   * @default the client's `timeout`; for `bash` and `bashOutput` their duration plus 15 s
   */
  requestTimeout?: number | undefined;
  /**
   * The `Idempotency-Key` of a call that is not idempotent: the server applies the call once per
   * key, so a retry (the client's, or yours from another process) never repeats it. Calls that
   * are safe to repeat ignore it.
   * @default a random UUID per call, resent by its retries (none with `retry: false`)
   */
  idempotencyKey?: string | undefined;
}

/** One call of the API, as the tool functions describe it. */
export interface Call<T> {
  /** The HTTP method. */
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** The path below `/v1/sandboxes` (or `root`), starting with `/` or empty. */
  readonly path: string;
  /**
   * The collection below `/v1` that `path` is in.
   * @default "/sandboxes"
   */
  readonly root?: string;
  /** The JSON body, with camelCase keys that are sent in snake_case; `undefined` ones are left out. */
  readonly body?: Readonly<Record<string, unknown>>;
  /** The raw bytes of an upload, sent as `application/octet-stream` instead of `body`. */
  readonly data?: TransportBody | undefined;
  /**
   * Whether `parse` gets the 2xx body as a stream (a download): the timeout then ends with the
   * headers, while an abort still stops the body.
   */
  readonly stream?: boolean;
  /**
   * Whether a repeat cannot do harm; other calls carry an `Idempotency-Key` for their retries.
   * @default false
   */
  readonly idempotent?: boolean | undefined;
  /**
   * The HTTP timeout of a call whose duration is known (a command's own timeout or a long poll,
   * plus a margin): it replaces the client's timeout, and `requestTimeout` can only lengthen it.
   */
  readonly ownTimeout?: number | undefined;
  /** Validates the 2xx body (parsed JSON, `undefined` when empty) and maps it to the result. */
  readonly parse: (body: unknown) => T;
}

/** Sends one call and resolves to its parsed result; what the tool functions build on. */
export type Requester = <T>(call: Call<T>, options?: CallOptions) => Promise<T>;

/** The resolved client settings the requester needs. */
export interface RequesterSettings {
  readonly baseUrl: string;
  readonly token: string;
  readonly sandbox: string;
  readonly toolSessionId: string;
  readonly timeout: number;
  readonly retry: RetryPolicy;
  readonly transport: Transport;
  /** Aborted by `close()`. */
  readonly closed: AbortSignal;
}

/** Creates the function that sends calls: headers, timeout, abort, retries and error mapping. */
export function createRequester(settings: RequesterSettings): Requester {
  const v1 = `${settings.baseUrl}/v1`;
  const baseHeaders = { accept: "application/json", authorization: `Bearer ${settings.token}` };
  const toolHeaders = { ...baseHeaders, "lumina-tool-session": settings.toolSessionId };

  async function attempt<T>(
    call: Call<T>,
    options: CallOptions,
    key: string | undefined,
    sent: { to?: boolean },
  ): Promise<T> {
    const timeout =
      call.ownTimeout === undefined
        ? (options.requestTimeout ?? settings.timeout)
        : Math.max(options.requestTimeout ?? 0, call.ownTimeout);
    const url = v1 + (call.root ?? "/sandboxes") + call.path;
    const where = `${call.method} ${url}`;
    const link = linkSignal(
      [options.signal, settings.closed],
      timeout,
      () => new TimeoutError(`${where} got no answer within ${timeout} ms`, timeout),
    );
    const headers: Record<string, string> = call.path.includes("/tools/")
      ? { ...toolHeaders }
      : { ...baseHeaders };
    if (key) headers["idempotency-key"] = key;
    let body = call.data;
    if (call.body) body = JSON.stringify(snakeKeys(call.body));
    if (body !== undefined) {
      headers["content-type"] = call.body ? "application/json" : "application/octet-stream";
    }
    let streaming = false;
    try {
      // Already aborted (say by the caller before the call): send nothing.
      if (link.signal.aborted) throw link.signal.reason;
      const { stream } = call;
      const request = { method: call.method, url, headers, body, stream, signal: link.signal };
      sent.to = true;
      const response = await Promise.race([settings.transport(request), link.aborted]);
      const details = {
        method: call.method,
        url,
        requestId: response.headers.get("lumina-request-id"),
        retryAfter: parseRetryAfter(response.headers.get("retry-after")),
      };
      if (response.status < 200 || response.status > 299) {
        throw toolError(response.status, response.body, details, where);
      }
      if (stream) {
        link.dispose(false);
        streaming = true;
        return call.parse(followBody(response.stream ?? new Response(response.body).body, link));
      }
      const value = parseJson(response.body, where);
      // bash answers 200 before its command ends, so a failure after that comes as an error body.
      const late = (value as { error?: { status?: unknown } } | undefined)?.error;
      if (late) {
        const status = typeof late.status === "number" ? late.status : 500;
        const error = toolError(
          status,
          response.body,
          { ...details, retryAfter: undefined },
          where,
        );
        // The server took the call and answered: a retry would only get the same answer back.
        answered.add(error);
        throw error;
      }
      return call.parse(value);
    } catch (error) {
      // A user abort, `close()` or the timeout: reject with that reason, whatever fetch threw.
      if (link.signal.aborted) throw link.signal.reason;
      if (isLuminaError(error)) throw error;
      throw new NetworkError(`${where} failed: ${describe(error)}`, { cause: error });
    } finally {
      if (!streaming) link.dispose();
    }
  }

  return async (call, options = {}) => {
    // One key per call, resent by each retry, so that the server applies the call once.
    const key = call.idempotent
      ? undefined
      : (options.idempotencyKey ?? (settings.retry.limit ? randomId() : undefined));
    const sent: { to?: boolean } = {};
    for (let retries = 0; ; retries++) {
      try {
        try {
          return await attempt(call, options, key, sent);
        } catch (error) {
          // A stream body is gone once sent: such a call cannot be sent again.
          const wait =
            answered.has(error as object) || call.data instanceof ReadableStream
              ? undefined
              : retryDelay(settings.retry, retries, error);
          if (wait === undefined) throw error;
          // The wait ends on the caller's abort and on `close()` (at once if one came already,
          // even with a reason that looks transient), rejecting with that reason.
          await delay(wait, options.signal, settings.closed);
        }
      } catch (error) {
        // The caller gave up (abort, timeout, close), also while waiting to retry: stop the
        // keyed call on the server too.
        if (
          key &&
          sent.to &&
          (options.signal?.aborted || settings.closed.aborted || error instanceof TimeoutError)
        )
          settings
            .transport({
              method: "DELETE",
              url: `${v1}/calls/${encodeURIComponent(key)}`,
              headers: baseHeaders,
              body: undefined,
              signal: AbortSignal.timeout(10_000),
            })
            .catch(() => {});
        throw error;
      }
    }
  };
}

/** Errors the server sent inside a 200 body, after it had taken the call: never retried. */
const answered = new WeakSet<object>();
/**
 * A download's body, passed on chunk by chunk: an abort fails it with the signal's own reason,
 * and its end (or the reader's cancel) lets go of the call's signal.
 */
function followBody(
  body: ReadableStream<Uint8Array> | null,
  link: LinkedSignal,
): ReadableStream<Uint8Array> {
  const reader = body?.getReader();
  return new ReadableStream({
    async pull(controller) {
      try {
        const next = await reader?.read();
        if (next?.value) return controller.enqueue(next.value);
        link.dispose();
        controller.close();
      } catch (error) {
        link.dispose();
        controller.error(link.signal.aborted ? link.signal.reason : error);
      }
    },
    cancel: (reason) => {
      link.dispose();
      return reader?.cancel(reason);
    },
  });
}

/** The body with its top-level keys in snake_case, as the wire wants them (`filePath` → `file_path`). */
function snakeKeys(body: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const wire: Record<string, unknown> = {};
  for (const key in body)
    wire[key.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`)] = body[key];
  return wire;
}

/**
 * How much longer than its known duration (a command's timeout, a long poll, else 0) a tool call's
 * HTTP request may take: the network's latency and, for a call that wakes a stopped sandbox, its
 * start (usually a second or two).
 */
const MARGIN = 15_000;

/** One tool call, as `toolCaller`'s function takes it. */
export interface ToolCall<T> {
  /** The tool, the last segment of `…/tools/{name}`. */
  name: string;
  body: Record<string, unknown>;
  parse: (body: unknown) => T;
  options?: CallOptions | undefined;
  /** Whether a repeat cannot do harm (else the call carries an `Idempotency-Key`). */
  idempotent?: boolean | undefined;
  /** How long the server may rightly take, in ms; with the margin, the call's HTTP timeout. */
  busyFor?: number | undefined;
}

/** Binds `request` to the tool endpoints of `sandbox`: each call posts to `…/tools/{name}`. */
export function toolCaller(
  request: Requester,
  sandbox: string,
): <T>(call: ToolCall<T>) => Promise<T> {
  const tools = `/${encodeURIComponent(sandbox)}/tools/`;
  return ({ name, body, parse, options, idempotent, busyFor }) =>
    request(
      {
        method: "POST",
        path: tools + name,
        body,
        idempotent,
        ownTimeout: busyFor === undefined ? busyFor : busyFor + MARGIN,
        parse,
      },
      options,
    );
}

/** Parses a 2xx body; the bash endpoint sends whitespace first to keep the connection alive. */
function parseJson(text: string, where: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(`${where} answered with a body that is not JSON`, "");
  }
}

/** Builds the ToolError of a non-2xx answer, also when its body is not a Lumina error. */
function toolError(
  status: number,
  text: string,
  details: ToolErrorDetails,
  where: string,
): ToolError {
  try {
    const { error } = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof error?.code === "string" && typeof error.message === "string") {
      return new ToolError(status, error.code, error.message, details);
    }
  } catch {}
  // A proxy's HTML page or some other body: keep a short, single-line excerpt for the reader.
  const excerpt = text
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .slice(0, 200);
  const message = `${where} answered HTTP ${status}${excerpt ? `: ${excerpt}` : ""}`;
  return new ToolError(status, "http_error", message, details);
}

/** The message of an unknown thrown value, with its cause's when that says more. */
function describe(error: unknown): string {
  const cause = (error as { cause?: { message?: unknown } } | undefined)?.cause?.message;
  const message = error instanceof Error ? error.message : String(error);
  return typeof cause === "string" && !message.includes(cause) ? `${message} (${cause})` : message;
}
