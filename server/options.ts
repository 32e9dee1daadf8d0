/**
 * What `createLuminaServer` takes and returns, and the default per-sandbox limits: the server's
 * whole configuration surface in one place, apart from the wiring in index.ts.
 */
import { availableParallelism } from "node:os";
import type { SandboxLimits } from "./sandbox/backend.ts";
import type { CgroupDriver } from "./sandbox/cgroup.ts";
import type { RateLimitOptions } from "./sandboxes/rate-limit.ts";
import type { ResourceMaxima } from "./sandboxes/resources.ts";

/** Options of `createLuminaServer`. */
export interface LuminaServerOptions {
  /** Where the registry and every sandbox's storage live. */
  dataDir: string;
  /** @default "127.0.0.1" */
  host?: string;
  /** 0 picks a free port. @default 8080 */
  port?: number;
  /**
   * The backend sandboxes run on, by its key in `backendFactories` (server/sandbox/backends.ts):
   * `bubblewrap`, or `none` for unisolated (development only). @default "bubblewrap"
   */
  isolation?: string;
  /** The bwrap binary, for the bubblewrap backend. @default the first `bwrap` on PATH */
  bwrapPath?: string;
  /**
   * The egress of a sandbox created without a `network` policy (CONTRACT §9); `allowlist`
   * needs a list, so it is only given per sandbox. @default "internet"
   */
  egress?: "internet" | "none";
  /** `user:key,user:key` pairs to add to the key registry (as in `LUMINA_API_KEYS`). */
  apiKeys?: string;
  /** Enables HS256 JWTs whose `sub` is the user. */
  jwtSecret?: string;
  /** Allowed CORS origins. @default ["*"] */
  corsOrigins?: string[];
  /** The largest request body, in bytes. @default 16 MiB */
  bodyLimit?: number;
  /** Keep-alive interval of long bash answers, in ms. @default 10000 */
  heartbeatMs?: number;
  /** Idle time after which a tool session expires, in ms. @default 8 hours */
  sessionIdleMs?: number;
  /** The clock of tool session expiry, in ms (tests pass idle time with it). @default Date.now */
  sessionClock?: () => number;
  /**
   * The domain of preview URLs' host-name form, `{port}-{token}.{previewDomain}`: a name whose
   * every subdomain resolves to this server. @default "localhost" (browsers and curl resolve
   * `*.localhost` to loopback)
   */
  previewDomain?: string;
  /** The clock of preview expiry, in ms (tests pass time with it). @default Date.now */
  previewClock?: () => number;
  /** The clock of `Idempotency-Key` expiry (24 h), in ms (tests pass time with it). @default Date.now */
  idempotencyClock?: () => number;
  /** Live tool sessions per user; a new session id past it gets 429. @default 256 */
  maxSessionsPerUser?: number;
  /** Tool calls in flight per user. @default 64 */
  maxRequestsPerUser?: number;
  /** Waiting `bash_output` polls per user. @default 32 */
  maxLongPollsPerUser?: number;
  /**
   * Bytes of answers made but not yet read by their client, per user: past it, reads answer
   * 429 until the client reads or hangs up. A single answer of any size is always allowed.
   * @default 128 MiB
   */
  maxAnswerBytesPerUser?: number;
  /** Sandboxes one user may have (each can take its full limits). @default 32 */
  maxSandboxesPerUser?: number;
  /** Snapshots one user may keep (a fork's own copy does not count); past it, 409. @default 32 */
  maxSnapshotsPerUser?: number;
  /** The first host uid handed to a sandbox. @default a block of 65536 above 200000 picked by the data directory's path */
  hostUidBase?: number;
  /** How many host uids from `hostUidBase` sandboxes may hold at once. @default 65536 */
  hostUidCount?: number;
  /** Sandbox creations per user: a burst, then a steady rate. @default 20 at once, then 4 per second */
  createRate?: RateLimitOptions;
  /**
   * Per-sandbox resource limits (see `defaultLimits`). `diskSize` is the `/home/user` quota,
   * fixed when a sandbox is created (0: none); `maxCpus` caps a sandbox's CPU time in cores.
   */
  limits?: Partial<SandboxLimits>;
  /**
   * How many times the data filesystem's free space sandbox disk images may promise: a new
   * image is refused (507 `disk_full`) when the sizes of all images minus the blocks they already
   * hold, plus the new one, exceed the free space times this. Above 1 a full data disk is
   * possible; the registry then lives on its reserve. @default 1
   */
  diskOvercommit?: number;
  /**
   * Bytes of free pages the registry keeps inside its own file, so it goes on working when the
   * data disk is full; topped up when half is used and the disk has room. @default 16 MiB
   */
  registryReserve?: number;
  /**
   * Whether new sandboxes get a disk quota of `limits.diskSize`. Only this turns quotas off: a
   * failure to make one fails that start with a 503 instead; a host where loop-mounted images
   * cannot work at all is found at start-up and logged loudly. @default true
   */
  diskQuota?: boolean;
  /**
   * File descriptors that must be free for a sandbox start to begin; with fewer the start
   * answers 503 (`unavailable`) instead of failing half-way. 0 turns the check off. @default 64
   */
  descriptorReserve?: number;
  /** Time a new connection has to send a request's headers, in ms. @default 15000 */
  headersTimeoutMs?: number;
  /** Time a connection has to send a whole request, body included, in ms. @default 120000 */
  requestTimeoutMs?: number;
  /** Time an idle keep-alive connection stays open between requests, in ms. @default 5000 */
  keepAliveTimeoutMs?: number;
  /**
   * Open HTTP connections in all; new ones beyond it are closed at once. @default half of
   * RLIMIT_NOFILE at start (at least 64), so connections can never take every descriptor
   */
  maxConnections?: number;
  /**
   * Connections one client address may hold before any of them authenticates; beyond it new
   * ones are closed at once. A connection stops counting once a request on it authenticates,
   * so long-polls of a signed-in user are bounded by the per-user limits instead. @default 128
   */
  maxUnauthenticatedConnectionsPerAddress?: number;
  /** Where log lines go. @default console.error */
  log?: (line: string) => void;
  /**
   * Refuse to start (throw) when the memory, pids or cpu limit cannot be applied to sandboxes
   * here (always so with `isolation: "none"`), and fail a sandbox's start that could not get
   * them; without it the server logs one warning naming the missing limits. @default false
   */
  requireLimits?: boolean;
  /** How sandboxes get their cgroups (tests; unusual hosts). @default probed from /proc/self/mountinfo */
  cgroups?: CgroupDriver;
  /**
   * The idle time after which a sandbox stops unless it was created with its own `idle_timeout`,
   * in ms (0: never; else at least 1000). @default 1800000 (30 minutes)
   */
  idleTimeoutMs?: number;
  /** The clock of idle stop, in ms (tests pass idle time with it). @default Date.now */
  idleClock?: () => number;
  /**
   * The most a sandbox may ask for in `resources` (cpus in cores, memory and disk in MiB).
   * @default what `limits` give every sandbox
   */
  maxResources?: Partial<ResourceMaxima>;
  /** How many prepared environments to keep for eager creates (0: none). @default 2 */
  warmPool?: number;
  /**
   * The warm pool prepares nothing while the one-minute load average per core is at least
   * this (tests pass Infinity). @default 1
   */
  warmPoolLoadLimit?: number;
}

/** A running server. */
export interface LuminaServer {
  /** `http://host:port`. */
  url: string;
  port: number;
  /** The key created for `admin` on a first start with no key anywhere; shown once. */
  adminKey?: string;
  /** Mints and registers a new API key for `user`, returning it (only its digest is stored). */
  addUserKey(user: string): string;
  /** Expires idle tool sessions now, as the timer would (tests pair it with `sessionClock`). */
  sweepSessions(): Promise<void>;
  /** Stops every sandbox idle past its timeout now, as the timer would (tests pair it with `idleClock`). */
  sweepIdle(): Promise<void>;
  /** Resolves once the warm pool is full, or cannot fill now (benchmarks, tests). */
  warmPoolFilled(): Promise<void>;
  /** Deletes `Idempotency-Key` outcomes older than 24 h now, as the hourly timer would; returns how many. */
  sweepIdempotencyKeys(): number;
  /** Stops every sandbox, the HTTP server and the registry. */
  close(): Promise<void>;
}

/**
 * The default per-sandbox limits: an 8 GiB home, and every core but one, so a busy sandbox
 * always leaves one to the server (one core on a single-core host).
 */
export const defaultLimits: SandboxLimits = {
  maxProcesses: 512,
  maxFileSize: 4 * 1024 ** 3,
  maxMemory: 2 * 1024 ** 3,
  tmpSize: 256 * 1024 ** 2,
  diskSize: 8 * 1024 ** 3,
  maxCpus: Math.max(1, availableParallelism() - 1),
};
