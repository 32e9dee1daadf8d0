/**
 * The unisolated backend (`--isolation none`), for development only: the agent runs as a plain
 * child process of the server, as the server's own user, with no namespaces and no limits.
 *
 * Paths: the agent gets its sandbox's host home in `LUMINA_AGENT_HOME`, and the file tools map
 * `/home/user` and everything below it onto that directory (answers map back), so the same
 * client code works. Any other absolute path is the host's own path, unprotected. Shells run
 * with `HOME` set to the host home. Nothing here is a security boundary.
 */
import { join } from "node:path";
import { agentBundlePath } from "./agent-bundle.ts";
import { runtimeFromProcess } from "./agent-process.ts";
import type { BackendFactory, SandboxBackend, SandboxRuntime } from "./backend.ts";
import { checkCgroupLimits } from "./cgroup.ts";
import { createHomeSnapshots, snapshotMethods } from "./home-snapshot.ts";
import { openPortTunnel } from "./port-tunnel.ts";
import { spawnChild } from "./spawn-child.ts";
import {
  checkSpec,
  type HostPlacement,
  homeDirOf,
  snapshotsDirOf,
  storageSteps,
} from "./storage.ts";

/** Options of the unisolated backend. */
export interface UnisolatedOptions extends HostPlacement {
  /** The Node binary that runs the agent. @default process.execPath */
  nodePath?: string;
  /** Where the server's log lines go. @default console.error */
  log?: (line: string) => void;
  /** Refuse to start the server: no limit can be applied here. @default false */
  requireLimits?: boolean;
}

/** Creates the unisolated (development-only) backend. */
export function createUnisolatedBackend(options: UnisolatedOptions): SandboxBackend {
  const nodePath = options.nodePath ?? process.execPath;
  const storage = storageSteps(options, false);
  const log = options.log ?? ((line: string) => console.error(line));
  const requireLimits = options.requireLimits ?? false;
  const running = new Set<string>();
  // No freezer here: a running sandbox's home is copied as it is (development only).
  const snapshots = snapshotMethods(
    storage,
    createHomeSnapshots(snapshotsDirOf(options), 1, true),
    {
      owned: false,
      freezeOf: (id) => (running.has(id) ? async () => undefined : undefined),
    },
  );
  return {
    kind: "none",
    enforcesLimits: false,
    containsProcesses: false,
    async preflight() {
      // On every start: an operator must never mistake this for an isolated server.
      log(
        "lumina: WARNING: --isolation none: sandboxes run as the server's own user with no isolation and share the host's network (its loopback and every address it reaches; egress policies are stored but not enforced); never expose this server to anyone you do not trust.",
      );
      await checkCgroupLimits(undefined, { requireLimits, log });
    },
    create: storage.create,
    hasStorage: storage.hasStorage,
    prepare: storage.prepare,
    async start(sandbox): Promise<SandboxRuntime> {
      const spec = storage.place(sandbox);
      checkSpec(spec);
      await storage.ensure(spec);
      const home = homeDirOf(spec);
      // The sandbox shares the host's network here, but previews still go the one way all backends do.
      const tunnel = await openPortTunnel();
      const child = await spawnChild(nodePath, [await agentBundlePath()], {
        cwd: home,
        stdio: ["pipe", "pipe", "pipe"],
        // Still not the server's environment: its secrets stay out of the agent's reach.
        env: {
          HOME: home,
          USER: "user",
          PATH: "/usr/local/bin:/usr/bin:/bin",
          LANG: "C.UTF-8",
          TERM: "dumb",
          LUMINA_AGENT_HOME: home,
        },
        detached: true,
      }).catch(async (error: unknown) => {
        await tunnel.close();
        throw error;
      });
      running.add(spec.id);
      return runtimeFromProcess(child, async () => void running.delete(spec.id), {
        tunnel,
        ...(options.log ? { log: options.log } : {}),
      });
    },
    destroy: storage.destroy,
    ...snapshots,
  };
}

/** The unisolated backend as the server builds it: storage below `<dataDir>/sandboxes`. */
export const unisolatedBackendFactory: BackendFactory = (context) =>
  createUnisolatedBackend({
    sandboxesDir: join(context.dataDir, "sandboxes"),
    hostUids: context.hostUids,
    log: context.log,
    requireLimits: context.requireLimits,
  });
