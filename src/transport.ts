/** The part of a fetch `Response` the client reads. */
export interface FetchResponse {
  /** The HTTP status. */
  readonly status: number;
  /** The response headers. */
  readonly headers: { get(name: string): string | null };
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

/** One HTTP request, as the client hands it to a {@link Transport}. */
export interface TransportRequest {
  /** The HTTP method. */
  readonly method: "GET" | "POST" | "DELETE";
  /** The absolute URL. */
  readonly url: string;
  /** The request headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON body, if any. */
  readonly body: string | undefined;
  /** Aborts the request: on a user abort, a timeout, or `close()`. */
  readonly signal: AbortSignal;
}

/** The answer to a {@link TransportRequest}: status, headers and the whole body as text. */
export interface TransportResponse {
  /** The HTTP status. */
  readonly status: number;
  /** The response headers. */
  readonly headers: { get(name: string): string | null };
  /** The body as text (`""` when there is none). */
  readonly body: string;
}

/**
 * The layer that moves bytes: it sends one request and resolves to its answer, whatever the
 * status; it rejects only when no answer came. Retries, timeouts and errors are the client's.
 */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/**
 * Creates the default transport over `fetch`, which defaults to `globalThis.fetch`, looked up at
 * each call so that a fetch installed later (a test's mock, a polyfill) is used. It is never
 * called as a method of a stored object: Workers would throw "Illegal invocation".
 *
 * @example
 * ```ts
 * const transport = createFetchTransport(env.LUMINA.fetch.bind(env.LUMINA));
 * ```
 */
/* @__NO_SIDE_EFFECTS__ */
export function createFetchTransport(fetch?: FetchFunction): Transport {
  const send = (fetch ?? ((request: Request) => globalThis.fetch(request))) as (
    request: Request,
  ) => FetchResponse | Promise<FetchResponse>;
  return async ({ method, url, headers, body, signal }) => {
    const response = await send(new Request(url, { method, headers, body: body ?? null, signal }));
    return { status: response.status, headers: response.headers, body: await response.text() };
  };
}
