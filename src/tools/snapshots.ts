import { ownFields } from "../internal/options.ts";
import { type SandboxInfo, toSandbox } from "../protocol/sandboxes.ts";
import { type SnapshotInfo, toSnapshot, toSnapshotList } from "../protocol/snapshots.ts";
import type { Call, CallOptions, Requester } from "../request.ts";

/** The options of `snapshot`. */
export interface SnapshotOptions extends CallOptions {
  /** A label to tell the snapshot by (at most 200 characters). */
  label?: string | undefined;
}

/** The options of `forkSandbox`. */
export interface ForkSandboxOptions extends CallOptions {
  /**
   * Whether to start the new sandbox at once.
   * @default true
   */
  eager?: boolean | undefined;
}

/** The snapshot and fork methods of a client (CONTRACT §12). */
export interface SnapshotMethods {
  /**
   * Snapshots the whole `/home/user` of the client's sandbox at one instant (its processes are
   * frozen meanwhile); a 409 ToolError past the server's snapshots per user.
   *
   * @example
   * ```ts
   * const { id } = await lumina.snapshot({ label: "deps installed" });
   * await createClient({ ...options, sandbox: "try-2" }).createSandbox({ fromSnapshot: id });
   * ```
   */
  snapshot(options?: SnapshotOptions): Promise<SnapshotInfo>;
  /** Lists every snapshot of the token's user. */
  listSnapshots(options?: CallOptions): Promise<SnapshotInfo[]>;
  /** Describes one snapshot of the token's user (a 404 ToolError for another user's). */
  getSnapshot(id: string, options?: CallOptions): Promise<SnapshotInfo>;
  /** Deletes a snapshot and its files. */
  deleteSnapshot(id: string, options?: CallOptions): Promise<void>;
  /** Creates the sandbox `name` from the current state of the client's sandbox. */
  forkSandbox(name: string, options?: ForkSandboxOptions): Promise<SandboxInfo>;
}

/** Creates the snapshot methods over `request`. */
export function createSnapshotMethods(request: Requester, sandbox: string): SnapshotMethods {
  const path = `/${encodeURIComponent(sandbox)}`;
  const root = "/snapshots";
  const one = (id: string) => `/${encodeURIComponent(id)}`;
  /** Checks that `options` holds call options only, then sends. */
  const plain = <T>(method: string, options: CallOptions, call: Call<T>): Promise<T> => {
    ownFields(method, options);
    return request(call, options);
  };
  return {
    snapshot: async (options = {}) => {
      const body = ownFields("snapshot", options, ["label"]);
      return request(
        { method: "POST", path: `${path}/snapshots`, body, parse: toSnapshot },
        options,
      );
    },
    listSnapshots: async (options = {}) =>
      plain("listSnapshots", options, {
        method: "GET",
        root,
        path: "",
        idempotent: true,
        parse: toSnapshotList,
      }),
    getSnapshot: async (id, options = {}) =>
      plain("getSnapshot", options, {
        method: "GET",
        root,
        path: one(id),
        idempotent: true,
        parse: toSnapshot,
      }),
    deleteSnapshot: async (id, options = {}) =>
      plain("deleteSnapshot", options, {
        method: "DELETE",
        root,
        path: one(id),
        parse: () => undefined,
      }),
    forkSandbox: async (name, options = {}) => {
      const body = { name, ...ownFields("forkSandbox", options, ["eager"]) };
      return request({ method: "POST", path: `${path}/fork`, body, parse: toSandbox }, options);
    },
  };
}
