import { CLIENT_KEYS, type ClientOptions, createClient, type LuminaClient } from "./client.ts";
import { isToolError } from "./errors.ts";
import { asyncDispose } from "./internal/dispose.ts";
import { ownFields } from "./internal/options.ts";
import type { CallOptions } from "./request.ts";

/** The options of {@link launchSandbox}: the client's, the sandbox's, and the create call's. */
export interface LaunchOptions extends ClientOptions, CallOptions {
  /**
   * Whether to start the environment at once, so that the first tool call has no cold start.
   * @default true
   */
  eager?: boolean | undefined;
  /**
   * Whether to keep the sandbox when the client is closed or disposed.
   * @default false
   */
  keep?: boolean | undefined;
}

const LAUNCH_FIELDS = [...CLIENT_KEYS, "eager", "keep"];

/**
 * Creates the sandbox `options.sandbox` and returns its client. Closing or disposing that client
 * destroys the sandbox, unless `keep` is set. `signal`, `requestTimeout` and `idempotencyKey` apply to the create.
 *
 * @example
 * ```ts
 * await using lumina = await launchSandbox({ baseUrl, token, sandbox: "scratch-1" });
 * await lumina.bash("python3 --version");
 * // the sandbox is destroyed here
 * ```
 */
export async function launchSandbox(options: LaunchOptions): Promise<LuminaClient> {
  ownFields("launchSandbox", options, LAUNCH_FIELDS);
  const { eager, keep, signal, requestTimeout, idempotencyKey, ...clientOptions } = options;
  const client = createClient(clientOptions);
  try {
    await client.createSandbox({ eager, signal, requestTimeout, idempotencyKey });
  } catch (error) {
    await client.close();
    throw error;
  }
  if (keep) return client;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= client
      .destroySandbox()
      // Already destroyed by hand: nothing left to clean up.
      .catch((error: unknown) => {
        if (!isToolError(error) || error.statusCode !== 404) throw error;
      })
      .finally(() => client.close());
    return closing;
  };
  return Object.freeze({ ...client, close, [asyncDispose]: close });
}
