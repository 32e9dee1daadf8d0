import { type ClientOptions, createClient, type LuminaClient } from "./client.ts";
import { isToolError } from "./errors.ts";
import { asyncDispose } from "./internal/dispose.ts";
import type { CallOptions } from "./request.ts";

/** The options of {@link launchSandbox}. */
export interface LaunchOptions extends ClientOptions {
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

/**
 * Creates the sandbox `options.sandbox` and returns its client. Closing or disposing that client
 * destroys the sandbox, unless `keep` is set.
 *
 * @example
 * ```ts
 * await using lumina = await launchSandbox({ baseUrl, token, sandbox: "scratch-1" });
 * await lumina.bash("python3 --version");
 * // the sandbox is destroyed here
 * ```
 */
export async function launchSandbox(
  options: LaunchOptions,
  call?: CallOptions,
): Promise<LuminaClient> {
  const client = createClient(options);
  try {
    await client.createSandbox({ eager: options.eager }, call);
  } catch (error) {
    await client.close();
    throw error;
  }
  if (options.keep) return client;
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
