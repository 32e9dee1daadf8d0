import { createFetch, type FetchHooks, type FetchResponse as OfetchResponse } from "ofetch";
import { ownFields } from "./internal/options.ts";

/** The part of a fetch `Response` the client reads. */
export interface FetchResponse {
  /** The HTTP status. */
  readonly status: number;
  /** The response headers. */
  readonly headers: { get(name: string): string | null };
  /** The body stream, `null` when there is none. */
  readonly body: unknown;
  /** Reads the whole body as text. */
  text(): Promise<string>;
}

/**
 * The function the client sends each request through, called with one `Request`:
 * `globalThis.fetch`, a Workers service binding passed bound (`env.LUMINA.fetch.bind(env.LUMINA)`),
 * or an in-process handler such as a Hono app's `app.fetch`.
 *
 * The second member only widens what TypeScript accepts: `@cloudflare/workers-types` declares its
 * own `Request`, which TypeScript cannot match with the DOM's where both are in scope.
 */
export type FetchFunction =
  | ((request: Request) => FetchResponse | Promise<FetchResponse>)
  | ((request: never) => FetchResponse | Promise<FetchResponse>);

/** A request body: JSON text, or the bytes of an upload (a stream is sent as it is read). */
export type TransportBody = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array>;

/** One HTTP request, as the client hands it to a {@link Transport}. */
export interface TransportRequest {
  /** The HTTP method. */
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  /** The absolute URL. */
  readonly url: string;
  /** The request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body, if any: JSON text, or an upload's bytes. */
  readonly body: TransportBody | undefined;
  /** Whether a 2xx body is wanted as a stream (`TransportResponse.stream`): a download. */
  readonly stream?: boolean | undefined;
  /** Aborts the request: on a user abort, a timeout, or `close()`. */
  readonly signal: AbortSignal;
}

/** The answer to a {@link TransportRequest}: status, headers and the body. */
export interface TransportResponse {
  /** The HTTP status. */
  readonly status: number;
  /** The response headers. */
  readonly headers: { get(name: string): string | null };
  /** The body as text (`""` when there is none, or when `stream` holds it). */
  readonly body: string;
  /** The 2xx body as a stream, when the request asked for one. */
  readonly stream?: ReadableStream<Uint8Array> | null | undefined;
}

/**
 * The layer that moves bytes: it sends one request and resolves to its answer, whatever the
 * status; it rejects only when no answer came. Retries, timeouts and errors are the client's.
 */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * ofetch's hooks, run by the default transport for every HTTP request, retries included. A hook
 * may change the request (`options.headers.set(…)`) or throw to fail the call.
 */
export type ClientHooks = Pick<
  FetchHooks,
  "onRequest" | "onRequestError" | "onResponse" | "onResponseError"
>;

const HOOK_KEYS = ["onRequest", "onRequestError", "onResponse", "onResponseError"];

/**
 * Creates the default transport, built on ofetch over `fetch`, which defaults to
 * `globalThis.fetch`, looked up at each call so that a fetch installed later (a test's mock, a
 * polyfill) is used. It is never called as a method of a stored object: Workers would throw
 * "Illegal invocation". ofetch's own retry is off: the client retries, knowing which calls are
 * idempotent. `hooks` are ofetch's, run for every request.
 *
 * @example
 * ```ts
 * const transport = createFetchTransport(env.LUMINA.fetch.bind(env.LUMINA));
 * ```
 */
/* @__NO_SIDE_EFFECTS__ */
export function createFetchTransport(fetch?: FetchFunction, hooks: ClientHooks = {}): Transport {
  ownFields("hooks", hooks, HOOK_KEYS, []);
  const given = fetch as ((request: Request) => Promise<Response>) | undefined;
  const send = createFetch({
    // A given fetch gets one Request, as the handlers it may be (`app.fetch`) expect.
    fetch: given
      ? (input, init) => given(new Request(input, init))
      : (input, init) => globalThis.fetch(input, init),
    defaults: { ...hooks, retry: 0, responseType: "text" },
  });
  return async ({ method, url, headers, body, stream, signal }) => {
    let response: OfetchResponse<unknown>;
    try {
      // A ReadableStream body gets `duplex: "half"` from ofetch, as Node's fetch requires.
      response = await send.raw(url, {
        method,
        headers,
        body,
        signal,
        responseType: stream ? "stream" : "text",
      });
    } catch (error) {
      // ofetch throws on 4xx and 5xx (after `onResponseError`): the client maps those itself.
      const answer = (error as { response?: OfetchResponse<unknown> }).response;
      if (!answer) throw (error as { cause?: unknown }).cause ?? error;
      response = answer;
    }
    const data = response._data ?? "";
    const ok = response.status < 300;
    // An error's body is read whole, as text, also when a stream was asked for.
    return {
      status: response.status,
      headers: response.headers,
      body: typeof data === "string" ? data : ok ? "" : await new Response(data as Blob).text(),
      stream: stream && ok ? ((data || null) as ReadableStream<Uint8Array> | null) : undefined,
    };
  };
}
