import {
  type SandboxInfo,
  toCreatedSandbox,
  toSandbox,
  toSandboxList,
} from "../protocol/sandboxes.ts";
import type { CallOptions, Requester } from "../request.ts";

/** The options of `createSandbox`. */
export interface CreateSandboxOptions {
  /**
   * Whether to start the environment at once, so that the first tool call has no cold start.
   * @default true
   */
  eager?: boolean | undefined;
}

/** The sandbox lifecycle methods of a client. */
export interface SandboxMethods {
  /** Creates the client's sandbox; a 409 `sandbox_exists` ToolError if the name is taken. */
  createSandbox(options?: CreateSandboxOptions, call?: CallOptions): Promise<SandboxInfo>;
  /** Describes the client's sandbox. */
  getSandbox(call?: CallOptions): Promise<SandboxInfo>;
  /** Lists every sandbox of the token's user. */
  listSandboxes(call?: CallOptions): Promise<SandboxInfo[]>;
  /** Restarts the sandbox: every process ends, `/home/user` is kept. */
  restartSandbox(call?: CallOptions): Promise<SandboxInfo>;
  /** Destroys the sandbox and its storage. */
  destroySandbox(call?: CallOptions): Promise<void>;
}

/** Creates the sandbox lifecycle methods over `request`. */
export function createSandboxMethods(request: Requester, sandbox: string): SandboxMethods {
  const path = `/${encodeURIComponent(sandbox)}`;
  return {
    createSandbox: (options, call) =>
      request(
        {
          method: "POST",
          path: "",
          body: { name: sandbox, ...options },
          idempotent: false,
          parse: toCreatedSandbox,
        },
        call,
      ),
    getSandbox: (call) =>
      request({ method: "GET", path, idempotent: true, parse: toSandbox }, call),
    listSandboxes: (call) =>
      request({ method: "GET", path: "", idempotent: true, parse: toSandboxList }, call),
    restartSandbox: (call) =>
      request(
        { method: "POST", path: `${path}/restart`, idempotent: false, parse: toSandbox },
        call,
      ),
    destroySandbox: (call) =>
      request({ method: "DELETE", path, idempotent: false, parse: () => undefined }, call),
  };
}
