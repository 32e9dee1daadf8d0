import { ownFields } from "../internal/options.ts";
import { type NetworkPolicy, type SandboxInfo, toSandbox } from "../protocol/sandboxes.ts";
import type { CallOptions, Requester } from "../request.ts";

/** The network method of a client. */
export interface NetworkMethods {
  /**
   * Replaces the sandbox's egress policy while it runs (or for its next start); every
   * connection opened from then on follows it. Returns the sandbox with its new `network`.
   *
   * @example
   * ```ts
   * await lumina.updateNetwork({ egress: "allowlist", allow: ["packages.example.com", "*.cdn.example.com"] });
   * await lumina.updateNetwork({ egress: "none" }); // then run the untrusted code
   * ```
   */
  updateNetwork(policy: NetworkPolicy, options?: CallOptions): Promise<SandboxInfo>;
}

/** Creates the network method over `request`. */
export function createNetworkMethods(request: Requester, sandbox: string): NetworkMethods {
  return {
    updateNetwork: async ({ egress, allow }, options = {}) => {
      ownFields("updateNetwork", options);
      const path = `/${encodeURIComponent(sandbox)}/network`;
      return request({ method: "POST", path, body: { egress, allow }, parse: toSandbox }, options);
    },
  };
}
