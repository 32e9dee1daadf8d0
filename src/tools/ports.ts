import { ownFields } from "../internal/options.ts";
import { type PortInfo, toPort, toPortList } from "../protocol/ports.ts";
import type { CallOptions, Requester } from "../request.ts";

/** The options of `exposePort`. */
export interface ExposePortOptions extends CallOptions {
  /**
   * How long the preview URLs work, in milliseconds (at most 86400000, a day).
   * @default 3600000
   */
  ttl?: number | undefined;
}

/** The preview methods of a client: a port served inside the sandbox, reachable from outside. */
export interface PortMethods {
  /**
   * Exposes `port` (1–65535) of the sandbox through the server: every HTTP method, streamed
   * bodies, server-sent events and WebSockets, with no credential but the URL's random token.
   * The `Authorization` and `Cookie` headers of a preview request never reach the sandbox.
   * Exposing an exposed port keeps its URLs and sets the new expiry.
   *
   * @example
   * ```ts
   * await lumina.bash("python3 -m http.server 8000", { runInBackground: true });
   * const { url } = await lumina.exposePort(8000, { ttl: 600_000 });
   * console.log(await (await fetch(url)).text());
   * ```
   */
  exposePort(port: number, options?: ExposePortOptions): Promise<PortInfo>;
  /** The exposed ports of the sandbox that have not expired. */
  listPorts(options?: CallOptions): Promise<PortInfo[]>;
  /** Closes a port: its URLs answer 404 from now on. A port not exposed is a 404 ToolError. */
  closePort(port: number, options?: CallOptions): Promise<void>;
}

/** Creates the preview methods over `request`. */
export function createPortMethods(request: Requester, sandbox: string): PortMethods {
  const path = `/${encodeURIComponent(sandbox)}/ports`;
  return {
    exposePort: async (port, options = {}) => {
      const { ttl } = ownFields("exposePort", options, ["ttl"]);
      return request({ method: "POST", path, body: { port, ttlMs: ttl }, parse: toPort }, options);
    },
    listPorts: async (options = {}) => {
      ownFields("listPorts", options);
      return request({ method: "GET", path, idempotent: true, parse: toPortList }, options);
    },
    closePort: async (port, options = {}) => {
      ownFields("closePort", options);
      return request({ method: "DELETE", path: `${path}/${port}`, parse: () => {} }, options);
    },
  };
}
