/**
 * The harness every end-to-end test uses: the real server (`createLuminaServer`) on 127.0.0.1,
 * port 0, over a temporary data directory, with bubblewrap isolation unless told otherwise.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLuminaServer, type LuminaServerOptions } from "../../server/index.ts";

/** Options of `startTestServer`: any server option but the data directory and address. */
export type TestServerOptions = Omit<LuminaServerOptions, "dataDir" | "host" | "port"> & {
  /** The directory the temporary data directory is made in (a small test filesystem). @default os.tmpdir() */
  dataDirIn?: string;
};

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` (the port may change across `restart`). */
  readonly url: string;
  /** An API key of the `admin` user. */
  readonly token: string;
  readonly dataDir: string;
  /** Registers a user and returns a fresh API key for it. */
  addUser(name: string): string;
  /** Expires idle tool sessions now (with `sessionClock`, idle time passes without sleeping). */
  sweepSessions(): Promise<void>;
  /** Stops every sandbox idle past its timeout now (with `idleClock`, without sleeping). */
  sweepIdle(): Promise<void>;
  /** Resolves once the warm pool is full (or cannot fill now). */
  warmPoolFilled(): Promise<void>;
  /** Deletes expired `Idempotency-Key` outcomes now (with `idempotencyClock`, without waiting). */
  sweepIdempotencyKeys(): number;
  /** Stops the server and starts it again on the same data directory (no new admin key). */
  restart(): Promise<void>;
  /** Stops the server (and every sandbox) and deletes the data directory. */
  close(): Promise<void>;
}

/** Why bubblewrap sandboxes cannot run here (not root, or no `bwrap`), or undefined when they can. */
export const sandboxHostMissing: string | undefined =
  process.getuid?.() === 0 && !spawnSync("bwrap", ["--version"]).error
    ? undefined
    : "needs root and bubblewrap (apt-get install bubblewrap), as CI runs it";

/** Starts the real server for a test. */
export async function startTestServer(testOptions: TestServerOptions = {}): Promise<TestServer> {
  const { dataDirIn = tmpdir(), ...options } = testOptions;
  if ((options.isolation ?? "bubblewrap") === "bubblewrap" && sandboxHostMissing) {
    throw new Error(
      `This test starts a server with bubblewrap sandboxes: it ${sandboxHostMissing}`,
    );
  }
  const dataDir = await mkdtemp(join(dataDirIn, "lumina-test-"));
  const start = () =>
    createLuminaServer({
      isolation: "bubblewrap",
      log: () => {},
      // Suites create sandboxes in bursts; the create rate limit has its own test.
      createRate: { burst: 1000, perSecond: 1000 },
      // Prepared environments would add load to every suite; the warm pool's tests turn it on.
      warmPool: 0,
      warmPoolLoadLimit: Number.POSITIVE_INFINITY,
      ...options,
      dataDir,
      host: "127.0.0.1",
      port: 0,
    });
  let server = await start();
  // With keys given up front no admin key is minted; the harness still hands out one for admin.
  const token = server.adminKey ?? server.addUserKey("admin");
  return {
    get url() {
      return server.url;
    },
    token,
    dataDir,
    addUser: (name) => server.addUserKey(name),
    sweepSessions: () => server.sweepSessions(),
    sweepIdle: () => server.sweepIdle(),
    warmPoolFilled: () => server.warmPoolFilled(),
    sweepIdempotencyKeys: () => server.sweepIdempotencyKeys(),
    async restart() {
      await server.close();
      server = await start();
    },
    async close() {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A sandbox name no other test uses. */
export function randomSandboxName(prefix = "t"): string {
  return `${prefix}-${randomBytes(6).toString("hex")}`;
}
