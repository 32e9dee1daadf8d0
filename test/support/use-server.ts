/**
 * Vitest fixtures over the test server: `useTestServer()` instead of a start/stop pair in every
 * file, and a skip with the reason on machines that cannot run bubblewrap sandboxes.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import {
  sandboxHostMissing,
  startTestServer,
  type TestServer,
  type TestServerOptions,
} from "./server.ts";

/**
 * Skips every test of the calling file or `describe` block, with the reason, on a machine that
 * cannot run bubblewrap sandboxes (so a plain user's run skips them instead of failing).
 */
export function requireSandboxHost(): void {
  beforeEach((context) => {
    if (sandboxHostMissing) context.skip(sandboxHostMissing);
  });
}

/**
 * Starts the real server before the calling file's (or `describe` block's) tests and closes it
 * after; `setup` runs once it is up (within `setupTimeout` ms, if given). Returns an accessor for use inside tests and hooks. With
 * bubblewrap isolation it starts nothing and skips the tests where `sandboxHostMissing` says so.
 */
export function useTestServer(
  options: TestServerOptions = {},
  setup?: (server: TestServer) => unknown,
  setupTimeout?: number,
): () => TestServer {
  const needsHost = (options.isolation ?? "bubblewrap") === "bubblewrap";
  if (needsHost) requireSandboxHost();
  let server: TestServer | undefined;
  beforeAll(async () => {
    if (needsHost && sandboxHostMissing) return;
    server = await startTestServer(options);
    await setup?.(server);
  }, setupTimeout);
  afterAll(() => server?.close());
  return () => {
    if (!server) throw new Error("useTestServer: its server starts in beforeAll; use it in a test");
    return server;
  };
}

/**
 * For tests that each need a server of their own (other options, a crash, a restart from the
 * outside): returns a starter whose servers are closed after the test that started them.
 * Start them inside the test, after any skip.
 */
export function useTestServers(): (options?: TestServerOptions) => Promise<TestServer> {
  const started: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });
  return async (options) => {
    const server = await startTestServer(options);
    started.push(server);
    return server;
  };
}
