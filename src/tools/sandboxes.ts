import { ownFields } from "../internal/options.ts";
import {
  type NetworkPolicy,
  type SandboxInfo,
  type SandboxResources,
  toCreatedSandbox,
  toSandbox,
  toSandboxList,
} from "../protocol/sandboxes.ts";
import type { Call, CallOptions, Requester } from "../request.ts";

/** The options of `createSandbox`. */
export interface CreateSandboxOptions extends CallOptions {
  /**
   * Whether to start the environment at once, so that the first tool call has no cold start.
   * @default true
   */
  eager?: boolean | undefined;
  /** A snapshot id (`snapshot()`): the new sandbox's `/home/user` starts as that snapshot. */
  fromSnapshot?: string | undefined;
  /**
   * Idle time in ms after which the sandbox stops: its processes end, `/home/user` stays, and the
   * next tool call starts it again. 0: never; otherwise at least 1000.
   * @default the server's (30 minutes on the reference server)
   */
  idleTimeout?: number | undefined;
  /** What the sandbox may use, each at most the server's maximum. @default the server's limits */
  resources?: Partial<SandboxResources> | undefined;
  /**
   * The sandbox's egress policy; change it later with `updateNetwork`.
   * @default the server's (`{ egress: "internet" }` unless it runs with `--egress none`)
   */
  network?: NetworkPolicy | undefined;
}

/** The sandbox lifecycle methods of a client; each takes the call options `{ signal, requestTimeout }`. */
export interface SandboxMethods {
  /** Creates the client's sandbox; a 409 `sandbox_exists` ToolError if the name is taken. */
  createSandbox(options?: CreateSandboxOptions): Promise<SandboxInfo>;
  /** Describes the client's sandbox. */
  getSandbox(options?: CallOptions): Promise<SandboxInfo>;
  /** Lists every sandbox of the token's user. */
  listSandboxes(options?: CallOptions): Promise<SandboxInfo[]>;
  /** Restarts the sandbox: every process ends, `/home/user` is kept. */
  restartSandbox(options?: CallOptions): Promise<SandboxInfo>;
  /** Destroys the sandbox and its storage. */
  destroySandbox(options?: CallOptions): Promise<void>;
}

/** Creates the sandbox lifecycle methods over `request`. */
export function createSandboxMethods(request: Requester, sandbox: string): SandboxMethods {
  const path = `/${encodeURIComponent(sandbox)}`;
  /** A call without options of its own: checks them, then sends. */
  const plain =
    <T>(method: string, call: Call<T>) =>
    async (options: CallOptions = {}): Promise<T> => {
      ownFields(method, options);
      return request(call, options);
    };
  return {
    createSandbox: async (options = {}) => {
      const {
        eager,
        idleTimeout,
        resources: r,
        fromSnapshot,
        network,
      } = ownFields("createSandbox", options, [
        "eager",
        "idleTimeout",
        "resources",
        "fromSnapshot",
        "network",
      ]) as CreateSandboxOptions;
      const body = {
        name: sandbox,
        eager,
        idle_timeout: idleTimeout,
        resources: r && { cpus: r.cpus, memory_mb: r.memoryMb, disk_mb: r.diskMb },
        from_snapshot: fromSnapshot,
        network,
      };
      return request({ method: "POST", path: "", body, parse: toCreatedSandbox }, options);
    },
    getSandbox: plain("getSandbox", { method: "GET", path, idempotent: true, parse: toSandbox }),
    listSandboxes: plain("listSandboxes", {
      method: "GET",
      path: "",
      idempotent: true,
      parse: toSandboxList,
    }),
    restartSandbox: plain("restartSandbox", {
      method: "POST",
      path: `${path}/restart`,
      parse: toSandbox,
    }),
    destroySandbox: plain("destroySandbox", {
      method: "DELETE",
      path,
      parse: () => undefined,
    }),
  };
}
