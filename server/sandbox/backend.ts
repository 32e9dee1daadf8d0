/**
 * The seam between the server and where sandboxes actually run. Today: bubblewrap on this
 * machine (and an unisolated mode for development); later: container pods on a cluster.
 * Everything above this interface speaks only to the agent through `SandboxRuntime.call`.
 */
import type { AgentMethodName, AgentParams, AgentResult } from "../agent/protocol.ts";

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

/** What a backend needs to know to build one sandbox. */
export interface SandboxSpec {
  /** The stable storage id of the sandbox (never the user-facing name). */
  id: string;
  /** The host directory that holds the sandbox's persistent storage (its home lives below). */
  storageDir: string;
  /** The dedicated unprivileged host uid (and gid) the sandbox's processes run as. */
  hostUid: number;
  limits: SandboxLimits;
}

/** A running sandbox: its agent, reachable by call. */
export interface SandboxRuntime {
  /** Calls an agent method; an abort cancels it inside the agent too. */
  call<M extends AgentMethodName>(
    method: M,
    params: AgentParams<M>,
    signal?: AbortSignal,
  ): Promise<AgentResult<M>>;
  /** Ends every process of the sandbox; resolves once they are gone. */
  stop(): Promise<void>;
  /** Resolves when the sandbox has stopped, for whatever reason. */
  readonly stopped: Promise<void>;
}

/** A place where sandboxes run. */
export interface SandboxBackend {
  /** A short name for logs (`bubblewrap`, `none`). */
  readonly kind: string;
  /** Checks once, at server start, what this host supports (disk quotas); logs what it lacks. */
  init?(): Promise<void>;
  /** Creates the sandbox's persistent storage if it does not exist yet. */
  prepare(spec: SandboxSpec): Promise<void>;
  /** Starts the sandbox and its agent; resolves once the agent answers. */
  start(spec: SandboxSpec): Promise<SandboxRuntime>;
  /** Deletes the sandbox's storage for good (the sandbox must be stopped). */
  destroy(spec: SandboxSpec): Promise<void>;
  /** Releases what the backend holds for its sandboxes (mounted disk images); after every stop. */
  close?(): Promise<void>;
}
