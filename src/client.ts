import { LuminaError } from "./errors.ts";
import { asyncDispose } from "./internal/dispose.ts";
import { ownFields } from "./internal/options.ts";
import { randomId } from "./internal/uuid.ts";
import type { BashOutputResult } from "./protocol/bash.ts";
import { createRequester } from "./request.ts";
import { type RetryOption, resolveRetry } from "./retry.ts";
import { type StreamOutputOptions, streamOutput } from "./stream.ts";
import { type BashMethods, createBashMethods } from "./tools/bash.ts";
import { createFileMethods, type FileMethods } from "./tools/files.ts";
import { createNetworkMethods, type NetworkMethods } from "./tools/network.ts";
import { createPortMethods, type PortMethods } from "./tools/ports.ts";
import { createSandboxMethods, type SandboxMethods } from "./tools/sandboxes.ts";
import { createSearchMethods, type SearchMethods } from "./tools/search.ts";
import { createSnapshotMethods, type SnapshotMethods } from "./tools/snapshots.ts";
import { createTransferMethods, type TransferMethods } from "./tools/transfer.ts";
import {
  type ClientHooks,
  createFetchTransport,
  type FetchFunction,
  type Transport,
} from "./transport.ts";

/** The options of {@link createClient}. */
export interface ClientOptions {
  /** The server's URL, such as `"http://localhost:8080"`. */
  baseUrl: string;
  /** The API key (64 hex characters) or a JWT. */
  token: string;
  /** The name of the sandbox the client works in. */
  sandbox: string;
  /**
   * The tool session: read records, the persistent shell and background commands belong to it.
   * Pass a previous client's id to resume its session.
   * @default a random UUID
   */
  toolSessionId?: string | undefined;
  /**
   * The HTTP timeout of each request, in milliseconds. `bash` and `bashOutput` use their own
   * duration (a foreground command's `timeout`, `waitMs`) plus a 15 s margin instead.
   * @default 660000
   */
  timeout?: number | undefined;
  /**
   * The fetch the default transport sends requests through.
   * @default globalThis.fetch, looked up at each call
   */
  fetch?: FetchFunction | undefined;
  /**
   * ofetch's hook functions, run for every HTTP request the client sends, retries included: to
   * log, trace, or add a header (`onRequest: ({ options }) => options.headers.set(…)`).
   * Unused with a custom `transport`.
   */
  hooks?: ClientHooks | undefined;
  /**
   * A wholly custom transport; `fetch` and `hooks` are then unused.
   * @default a transport over `fetch`
   */
  transport?: Transport | undefined;
  /**
   * Retries of every call after a network error or a 429, 502, 503 or 504 answer. Calls that
   * are not idempotent (`bash`, `write`, `edit`, lifecycle calls, …) resend one
   * `Idempotency-Key`, so the server applies each once. `false` sends each call once, without a
   * key unless `idempotencyKey` is given.
   * @default 2
   */
  retry?: RetryOption | undefined;
}

/** The keys of {@link ClientOptions}. */
export const CLIENT_KEYS: readonly string[] = [
  "baseUrl",
  "token",
  "sandbox",
  "toolSessionId",
  "timeout",
  "fetch",
  "hooks",
  "transport",
  "retry",
];

/** A client of one sandbox, for one tool session. */
export interface LuminaClient
  extends SandboxMethods,
    SnapshotMethods,
    NetworkMethods,
    FileMethods,
    SearchMethods,
    BashMethods,
    PortMethods,
    TransferMethods {
  /** The tool session id sent with every tool call. */
  readonly toolSessionId: string;
  /** The sandbox name. */
  readonly sandbox: string;
  /**
   * Follows a background command's output: yields each chunk with new output and ends after the
   * first chunk whose status is not `"running"`. `break` stops watching; it does not kill. A lost
   * answer or a 429 is re-asked by cursor (after `Retry-After`) while the command runs, so no
   * output is lost; only other errors, an abort or `retry: false` end it early.
   *
   * @example
   * ```ts
   * const { shellId } = await lumina.bash("npm run build", { runInBackground: true });
   * for await (const chunk of lumina.streamOutput(shellId)) process.stdout.write(chunk.output);
   * ```
   */
  streamOutput(
    shellId: string,
    options?: StreamOutputOptions,
  ): AsyncGenerator<BashOutputResult, void, undefined>;
  /** Closes the client: calls in flight are aborted and later calls reject. Never destroys. */
  close(): Promise<void>;
  /** The same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a client of the sandbox `options.sandbox`. It sends nothing until a method is called.
 *
 * @example
 * ```ts
 * await using lumina = createClient({
 *   baseUrl: "http://localhost:8080",
 *   token: process.env.LUMINA_TOKEN,
 *   sandbox: "my-sandbox",
 * });
 * const { output } = await lumina.bash("echo hello");
 * ```
 */
/* @__NO_SIDE_EFFECTS__ */
export function createClient(options: ClientOptions): LuminaClient {
  ownFields("createClient", options, CLIENT_KEYS, []);
  for (const key of ["baseUrl", "token", "sandbox"] as const) {
    if (typeof options[key] !== "string" || !options[key]) {
      throw new TypeError(`createClient: the option "${key}" is required`);
    }
  }
  // A missing scheme would otherwise surface later as a retried "network error".
  if (!/^https?:\/\/[^/]/i.test(options.baseUrl)) {
    throw new TypeError(
      `createClient: baseUrl must be an http:// or https:// URL such as "http://localhost:8080", not ${JSON.stringify(options.baseUrl)}`,
    );
  }
  const closer = new AbortController();
  const settings = Object.freeze({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    token: options.token,
    sandbox: options.sandbox,
    toolSessionId: options.toolSessionId ?? randomId(),
    timeout: options.timeout ?? 660_000,
    retry: resolveRetry(options.retry),
    transport: options.transport ?? createFetchTransport(options.fetch, options.hooks),
    closed: closer.signal,
  });
  const request = createRequester(settings);
  const positions = new Map<string, number>();
  const bash = createBashMethods(request, settings.sandbox, positions);
  const streamContext = { retry: settings.retry, positions };
  const close = async (): Promise<void> => {
    closer.abort(new LuminaError("The client is closed"));
  };
  return Object.freeze({
    toolSessionId: settings.toolSessionId,
    sandbox: settings.sandbox,
    ...createSandboxMethods(request, settings.sandbox),
    ...createSnapshotMethods(request, settings.sandbox),
    ...createNetworkMethods(request, settings.sandbox),
    ...createFileMethods(request, settings.sandbox),
    ...createSearchMethods(request, settings.sandbox),
    ...createPortMethods(request, settings.sandbox),
    ...createTransferMethods(request, settings.sandbox),
    ...bash,
    // Checked here, not in the generator, so that a wrong key throws at the call itself.
    streamOutput: (shellId: string, streamOptions: StreamOutputOptions = {}) => {
      ownFields("streamOutput", streamOptions, ["filter", "cursor"], ["signal"]);
      return streamOutput(bash.bashOutput, shellId, streamOptions, streamContext);
    },
    close,
    [asyncDispose]: close,
  });
}
