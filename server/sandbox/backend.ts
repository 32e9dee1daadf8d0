/**
 * The seam between the server and where sandboxes actually run. Today: bubblewrap on this
 * machine (and an unisolated mode for development); later: container pods on a cluster.
 * Everything above this interface speaks only to the agent through `SandboxRuntime.call`, and
 * knows a sandbox only by `SandboxSpec`: where its storage lives, which host uid it runs as and
 * how its processes end are each backend's own business.
 */
import type { Duplex } from "node:stream";

import type { NetworkPolicy } from "../network/policy.ts";
import type { AgentMethodName, AgentParams, AgentResult } from "../shared/agent-protocol.ts";
import type { HostUidTable } from "../store/host-uids.ts";
import type { TransferOptions } from "./agent-connection.ts";
import type { AgentTransfer } from "./agent-transfer.ts";
import type { CgroupDriver } from "./cgroup.ts";

/** Resource limits applied to every process of one sandbox. */
export interface SandboxLimits {
  /** The most processes the sandbox's user may run at once. */
  maxProcesses: number;
  /** The largest file a process may write, in bytes. */
  maxFileSize: number;
  /** The address-space or memory limit per process, in bytes. */
  maxMemory: number;
  /** The size of the sandbox's private `/tmp`, in bytes. */
  tmpSize: number;
  /**
   * The disk quota of `/home/user` in bytes: the size of the sandbox's ext4 image, fixed when
   * the sandbox is created. 0 or absent: no quota, the home is a plain host directory.
   */
  diskSize?: number;
  /** The CPU time the sandbox may use, in cores (fractions allowed). Absent: no CPU limit. */
  maxCpus?: number;
}

/** What the server tells a backend about one sandbox. */
export interface SandboxSpec {
  /** The stable storage id of the sandbox (never the user-facing name). */
  id: string;
  /** The user-facing name (labels, logs; never a path). */
  name: string;
  /** The user who owns the sandbox. */
  user: string;
  limits: SandboxLimits;
  /** What the sandbox may connect to (CONTRACT §9). @default { egress: "internet" } */
  network?: NetworkPolicy;
}

/** A running sandbox: its agent, reachable by call. */
export interface SandboxRuntime {
  /** Calls an agent method; an abort cancels it inside the agent too. */
  call<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    signal?: AbortSignal,
  ): Promise<AgentResult<M>>;
  /**
   * A connection to `port` inside the sandbox, made from within its network (previews use it:
   * the host's network cannot reach a sandbox's ports). Rejects with a `bad_gateway`
   * `ServerError` when nothing listens there. A pod backend would open it over its own channel.
   */
  connectPort(port: number, signal?: AbortSignal): Promise<Duplex>;
  /** Calls a streamed agent method: bytes to the agent, bytes back (CONTRACT §11). */
  transfer<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    options?: TransferOptions,
  ): AgentTransfer<AgentResult<M>>;
  /** Ends every process of the sandbox; resolves once they are gone. */
  stop(): Promise<void>;
  /** Resolves when the sandbox has stopped, for whatever reason. */
  readonly stopped: Promise<void>;
  /**
   * Applies a new egress policy to the running sandbox (new connections follow it). Absent on a
   * backend that does not isolate the network (`none`): there the policy is only stored.
   */
  setNetwork?(policy: NetworkPolicy): Promise<void>;
}

/** A place where sandboxes run. */
export interface SandboxBackend {
  /** A short name for logs and the `lease` answer (`bubblewrap`, `none`). */
  readonly kind: string;
  /** Whether `SandboxLimits` bind here; false for a development backend that applies none. */
  readonly enforcesLimits: boolean;
  /**
   * Whether every process a sandbox starts stays within reach (a cgroup, a pid namespace, a
   * pod), so a killed command or a stop ends the whole tree, double forks and `setsid` included.
   */
  readonly containsProcesses: boolean;
  /**
   * Checks at server start, before the registry is opened, that this backend's limits can be
   * applied; throws to refuse the start (`requireLimits`), else logs what is missing.
   */
  preflight?(): Promise<void>;
  /** Checks once, at server start, what this host supports (disk quotas); logs what it lacks. */
  init?(): Promise<void>;
  /**
   * Claims the storage of a new sandbox, right after its record is made. A synchronous
   * implementation does it in the same tick, so no destroy can come in between.
   */
  create(spec: SandboxSpec): void | Promise<void>;
  /** Whether the sandbox's storage is there (made by `create`; missing means its files were lost). */
  hasStorage(spec: SandboxSpec): boolean | Promise<boolean>;
  /** Creates the sandbox's persistent storage if it does not exist yet. */
  prepare(spec: SandboxSpec): Promise<void>;
  /** Starts the sandbox and its agent; resolves once the agent answers. */
  start(spec: SandboxSpec): Promise<SandboxRuntime>;
  /**
   * Deletes the sandbox's storage for good (the sandbox must be stopped), and only then frees
   * what else it held (a local backend's host uid); a failed destroy frees nothing.
   */
  destroy(spec: SandboxSpec): Promise<void>;
  /**
   * Copies the sandbox's whole `/home/user`, as it is at one instant (its processes frozen
   * meanwhile), into a snapshot that this backend keeps under `snapshotId`; resolves to the
   * bytes the snapshot takes. The manager never runs it during a start, stop or destroy. A
   * pod backend would snapshot the home's volume. Absent: this backend takes no snapshots.
   */
  snapshotHome?(spec: SandboxSpec, snapshotId: string): Promise<number>;
  /**
   * Makes snapshot `snapshotId` the home of a new sandbox, after its `create` and before its
   * first start; with `consume` the snapshot is used up (its files may be moved, not copied).
   */
  restoreHome?(spec: SandboxSpec, snapshotId: string, consume: boolean): Promise<void>;
  /** Deletes a snapshot's files for good (nothing if they are gone). */
  deleteSnapshot?(snapshotId: string): Promise<void>;
  /** Releases what the backend holds for its sandboxes (mounted disk images); after every stop. */
  close?(): Promise<void>;
}

/** What every backend factory gets from the server. */
export interface BackendContext {
  /** The server's data directory: a backend keeps what it stores on this host below it. */
  dataDir: string;
  /** Where log lines go. */
  log: (line: string) => void;
  /** Refuse to run without every limit (see `LuminaServerOptions.requireLimits`). */
  requireLimits: boolean;
  /** Whether new sandboxes get a disk quota. */
  diskQuota: boolean;
  /** How many times the free space disk images may promise. */
  diskOvercommit: number;
  /**
   * The registry's table of host uids, for a backend that runs each sandbox as a local user:
   * it claims one in `create` and frees it once its `destroy` finished. Others ignore it.
   */
  hostUids: HostUidTable;
  /** The bwrap binary, for the bubblewrap backend. */
  bwrapPath?: string;
  /** The cgroup driver, for backends that use this host's cgroups. */
  cgroups?: CgroupDriver;
}

/** Builds a backend for one server. */
export type BackendFactory = (context: BackendContext) => SandboxBackend;
